# The main job (`eva demo`): pre-train a tiny EVA-02 on real Fashion-MNIST images (Debian
# `dataset-fashion-mnist`, scikit-learn digits as fallback) against the real EfficientNet-Lite0 teacher, on a
# CPU in minutes. Writes work_dir/backbone.safetensors for the cls / det / seg / video demos.
_base_ = ["./_base_/mim_runtime.py"]

img_size, patch_size = 80, 8  # 10 x 10 patch grid = the teacher's block-10 grid (stride 16) at 160 px
max_iters, warmup_iters, batch_size = 300, 30, 32

model = dict(
    type="EVAMIM",
    backbone=dict(name="eva02_tiny_patch14_224", img_size=img_size, patch_size=patch_size, depth=6,
                  rope_ref_grid=img_size // patch_size, drop_path_rate=0.0),
    teacher=dict(type="efficientnet_lite0", block=10, input_size=160),
    stop_grad_conv1=True,
)
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type="EpochSeededSampler", shuffle=True),
    collate_fn=dict(type="default_collate"),
    dataset=dict(type="RealImageMIMDataset", split="train", num_samples=20000,
                 transform=dict(img_size=img_size, patch_size=patch_size, min_block=4)),
)
train_cfg = dict(type="IterBasedTrainLoop", max_iters=max_iters)
optim_wrapper = dict(optimizer=dict(lr=1.5e-3))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type="CosineAnnealingLR", by_epoch=False, begin=warmup_iters, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(checkpoint=dict(interval=100, max_keep_ckpts=2), logger=dict(interval=20))
env_cfg = dict(dist_cfg=dict(backend="gloo"))
work_dir = "work_dirs/demo"  # where the cls / seg / video / det demos look for backbone.safetensors
