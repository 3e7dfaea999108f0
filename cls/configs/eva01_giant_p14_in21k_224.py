# EVA-01-g/14 intermediate fine-tuning on ImageNet-21K (21,841 classes) at 224.
# Numbers: EVA paper + BAAI EVA-01 README (60 ep, 15 warmup, bs 4096, lr 1e-4, lrd 0.85, dpr 0.4, cutmix 1.0).
_base_ = ["./_base_/in1k_finetune.py"]

recipe = dict(variant="eva_giant_patch14_224", img_size=224, epochs=60, warmup_epochs=15, batch_size=4096,
              lr=0.0001, layer_decay=0.85, drop_path=0.4, smoothing=0.1, ema=False, num_classes=21841,
              mixup=0.0, cutmix=1.0)
num_gpus, per_gpu, accum = 64, 64, 1  # 64 x 64 x 1 = 4096

# BAAI's released checkpoint, or a pre-training run's work_dirs/<run>/backbone.safetensors (any layout converts).
pretrained = "checkpoints/eva_psz14.pt"
model = dict(backbone=dict(name=recipe["variant"], img_size=224, drop_path_rate=recipe["drop_path"]),
             num_classes=recipe["num_classes"], label_smoothing=recipe["smoothing"],
             pretrained=pretrained,
             data_preprocessor=dict(num_classes=recipe["num_classes"], mixup_alpha=recipe["mixup"],
                                    cutmix_alpha=recipe["cutmix"], label_smoothing=recipe["smoothing"]))
# IN-21K folders for training; progress is measured on IN-1K val through the 21K head (timm's synset lists).
train_dataloader = dict(batch_size=per_gpu, dataset=dict(root="data/imagenet21k/train",
                                                         transform=dict(img_size=224, scale=(0.5, 1.0))))
val_dataloader = dict(dataset=dict(transform=dict(img_size=224)))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=recipe["epochs"])
optim_wrapper = dict(optimizer=dict(lr=recipe["lr"], betas=(0.9, 0.98), eps=1e-06),
                     paramwise_cfg=dict(layer_decay=recipe["layer_decay"]), accumulative_counts=accum)
warmup_epochs = recipe["warmup_epochs"]
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, eta_min=0.0, convert_to_iter_based=True),
]

val_evaluator = dict(type="ClsMetric", topk=(1, 5), label_map="in1k_from_21k")
test_evaluator = val_evaluator
