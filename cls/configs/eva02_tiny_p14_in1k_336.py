# EVA-02-Ti/14 fine-tuning on IN-1K at 336 from MIM.
# Numbers: EVA-02 paper + BAAI EVA-02 README commands, MIM -> IN-1K directly (top-1 80.7).
_base_ = ["./_base_/in1k_finetune.py"]

recipe = dict(variant="eva02_tiny_patch14_336", img_size=336, epochs=100, warmup_epochs=5, batch_size=1024,
              lr=0.0002, layer_decay=0.9, drop_path=0.1, smoothing=0.1, ema=True, num_classes=1000,
              mixup=0.0, cutmix=0.0)
num_gpus, per_gpu, accum = 8, 128, 1  # 8 x 128 x 1 = 1024

# BAAI's released checkpoint, or a pre-training run's work_dirs/<run>/backbone.safetensors (any layout converts).
pretrained = "checkpoints/eva02_Ti_pt_in21k_p14.pt"
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
