# Classification demo (`eva cls demo`): fine-tune the tiny EVA-02 that `eva demo` pre-trained on Fashion-MNIST
# (Debian `dataset-fashion-mnist`, scikit-learn digits as fallback) with the EVA fine-tuning recipe, scaled to a
# CPU: RandAugment, layer decay, drop path, label smoothing, EMA, warmup + cosine; then test-set accuracy.
_base_ = ["./_base_/cls_runtime.py"]

img_size, patch_size, num_classes = 80, 8, 10
max_iters, warmup_iters, batch_size = 300, 30, 64
pretrained = "work_dirs/demo/backbone.safetensors"  # written by `eva demo`

model = dict(
    type="EVAClassifier",
    backbone=dict(name="eva02_tiny_patch14_224", img_size=img_size, patch_size=patch_size, depth=6,
                  rope_ref_grid=img_size // patch_size, drop_path_rate=0.1),
    num_classes=num_classes,
    pretrained=pretrained,
    label_smoothing=0.1,
)
_transform = dict(img_size=img_size, scale=(0.35, 1.0), crop_pct=1.0)
train_dataloader = dict(
    batch_size=batch_size, num_workers=1, persistent_workers=True, drop_last=True,
    sampler=dict(type="EpochSeededSampler", shuffle=True),
    collate_fn=dict(type="default_collate"),
    dataset=dict(type="RealImageClsDataset", split="train", transform=dict(_transform, training=True)),
)
val_dataloader = dict(
    batch_size=250, num_workers=1, persistent_workers=False,
    sampler=dict(type="DefaultSampler", shuffle=False),
    collate_fn=dict(type="default_collate"),
    dataset=dict(type="RealImageClsDataset", split="test", transform=dict(_transform, training=False)),
)
test_dataloader = val_dataloader
train_cfg = dict(type="IterBasedTrainLoop", max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=2e-3), paramwise_cfg=dict(layer_decay=0.75))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type="CosineAnnealingLR", by_epoch=False, begin=warmup_iters, end=max_iters, eta_min=1e-6),
]
custom_hooks = [dict(type="ResumeStateHook"), dict(type="LossCurveHook", plot_interval=100),
                dict(type="EMAHook", ema_type="ExponentialMovingAverage", momentum=0.01, update_buffers=True)]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=max_iters), logger=dict(interval=25))
val_evaluator = dict(type="ClsMetric", topk=(1, 5))
test_evaluator = val_evaluator
log_processor = dict(by_epoch=False)
env_cfg = dict(dist_cfg=dict(backend="gloo"))
