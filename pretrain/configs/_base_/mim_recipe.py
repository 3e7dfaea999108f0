# Epoch-based schedule of the published recipes: linear warmup then cosine, both per iteration.
# A recipe sets `recipe = dict(...)` with the paper's numbers and derives every field from it.
_base_ = ["./mim_runtime.py"]

train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=150)
# One warmup epoch, then cosine to the end of training (mmengine fills `end` with max_epochs), per iteration.
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=1, eta_min=1e-5, convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(by_epoch=True, interval=1, max_keep_ckpts=3))
log_processor = dict(by_epoch=True)
env_cfg = dict(dist_cfg=dict(backend="nccl"))

# An ImageNet-layout folder with the paper's augmentation and masking; recipes set batch size and root.
train_dataloader = dict(
    batch_size=32, num_workers=10, persistent_workers=True, pin_memory=True,
    sampler=dict(type="EpochSeededSampler", shuffle=True),
    collate_fn=dict(type="default_collate"),
    dataset=dict(type="ImageFolderMIMDataset", root="data/train",
                 transform=dict(img_size=224, patch_size=14, mask_ratio=105 / 256)),
)
