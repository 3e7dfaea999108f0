# EVA-01-g/14 IN-21K -> IN-1K fine-tuning at 336 (paper: 89.6 top-1).
# Numbers: EVA paper + BAAI EVA-01 README commands (IN-21K -> IN-1K top-1 89.6).
_base_ = ["./_base_/in1k_finetune.py"]

recipe = dict(variant="eva_giant_patch14_336", img_size=336, epochs=10, warmup_epochs=2, batch_size=512,
              lr=3e-05, layer_decay=0.95, drop_path=0.4, smoothing=0.3, ema=True, num_classes=1000,
              mixup=0.0, cutmix=0.0)
num_gpus, per_gpu, accum = 32, 16, 1  # 32 x 16 x 1 = 512

# BAAI's released checkpoint, or a pre-training run's work_dirs/<run>/backbone.safetensors (any layout converts).
pretrained = "checkpoints/eva_21k_224px_psz14.pt"
model = dict(backbone=dict(name=recipe["variant"], img_size=336, drop_path_rate=recipe["drop_path"]),
             num_classes=recipe["num_classes"], label_smoothing=recipe["smoothing"],
             pretrained=pretrained, data_preprocessor=dict(num_classes=recipe["num_classes"]))
train_dataloader = dict(batch_size=per_gpu, dataset=dict(transform=dict(img_size=336, scale=(0.08, 1.0))))
val_dataloader = dict(dataset=dict(transform=dict(img_size=336)))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=recipe["epochs"])
optim_wrapper = dict(optimizer=dict(lr=recipe["lr"], betas=(0.9, 0.999), eps=1e-08),
                     paramwise_cfg=dict(layer_decay=recipe["layer_decay"]), accumulative_counts=accum)
warmup_epochs = recipe["warmup_epochs"]
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, eta_min=0.0, convert_to_iter_based=True),
]
custom_hooks = [dict(type="ResumeStateHook"), dict(type="LossCurveHook", plot_interval=100), {{_base_.ema_hook}}]
