# EVA-CLIP-g/14 vision tower, linear probe on IN-1K (paper: 86.5 top-1): frozen backbone, final-norm class token,
# BatchNorm1d(affine=False) + linear head; 90 epochs (10 warmup), batch 16000, LARS lr 1.0, no weight decay;
# training augmentation is only RandomResizedCrop + flip (BAAI EVA-01 README, `--linear_probe --use_cls`).
_base_ = ["./_base_/in1k_finetune.py"]

recipe = dict(variant="eva_giant_patch14_clip_224", img_size=224, epochs=90, warmup_epochs=10, batch_size=16000,
              lr=1.0, weight_decay=0.0, num_classes=1000)
num_gpus, per_gpu, accum = 40, 400, 1  # 40 x 400 = 16000

model = dict(backbone=dict(name=recipe["variant"], img_size=recipe["img_size"]), head="linear_probe",
             num_classes=recipe["num_classes"], pretrained="checkpoints/eva_clip_psz14_vision_enc.pt",
             label_smoothing=0.0)
train_dataloader = dict(batch_size=per_gpu, dataset=dict(transform=dict(auto_augment=None, scale=(0.08, 1.0))))
train_cfg = dict(max_epochs=recipe["epochs"])
# LARS as MAE / EVA linear probes (trust ratio on weight matrices only): timm's Lars, as eva.cls's ProbeLars.
optim_wrapper = dict(optimizer=dict(_delete_=True, type="ProbeLars", lr=recipe["lr"], momentum=0.9,
                                    weight_decay=recipe["weight_decay"]),
                     paramwise_cfg=dict(layer_decay=1.0))
warmup_epochs = recipe["warmup_epochs"]
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, eta_min=0.0, convert_to_iter_based=True),
]
