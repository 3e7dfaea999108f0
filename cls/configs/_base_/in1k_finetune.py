# The EVA fine-tuning recipe on an ImageNet-layout folder, epoch-based: timm RandAugment, RandomResizedCrop,
# bicubic, CLIP mean/std, crop_pct 1.0 at test time, linear warmup then cosine to 0 per iteration. A recipe
# config changes the backbone, resolution, batch, lr, layer decay, drop path, smoothing, EMA and epochs.
_base_ = ["./cls_runtime.py"]

img_size, num_classes = 224, 1000
num_gpus, per_gpu, accum = 8, 128, 1  # global batch = num_gpus * per_gpu * accum
model = dict(type="EVAClassifier", backbone=dict(name="eva02_base_patch14_224", img_size=img_size),
             num_classes=num_classes, pretrained=None, label_smoothing=0.1,
             data_preprocessor=dict(type="ClsDataPreprocessor", num_classes=num_classes))
_train_transform = dict(img_size=img_size, training=True, auto_augment="rand-m9-mstd0.5-inc1", scale=(0.08, 1.0),
                        re_prob=0.0, crop_pct=1.0)
_test_transform = dict(img_size=img_size, training=False, crop_pct=1.0)
train_dataloader = dict(
    batch_size=per_gpu, num_workers=10, persistent_workers=True, pin_memory=True, drop_last=True,
    sampler=dict(type="EpochSeededSampler", shuffle=True),
    collate_fn=dict(type="default_collate"),
    dataset=dict(type="ImageFolderClsDataset", root="data/imagenet/train", transform=_train_transform),
)
val_dataloader = dict(
    batch_size=64, num_workers=10, persistent_workers=True, pin_memory=True,
    sampler=dict(type="DefaultSampler", shuffle=False),
    collate_fn=dict(type="default_collate"),
    dataset=dict(type="ImageFolderClsDataset", root="data/imagenet/val", transform=_test_transform),
)
test_dataloader = val_dataloader
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=30, val_interval=1)
optim_wrapper = dict(optimizer=dict(lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
                     paramwise_cfg=dict(layer_decay=0.9), accumulative_counts=accum)
warmup_epochs = 3
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=warmup_epochs, eta_min=0.0, convert_to_iter_based=True),
]
# Model EMA (timm's ModelEma decay 0.9999 in the original code; mmengine's momentum is 1 - decay). Validation,
# testing and the best checkpoint use the averaged weights.
ema_hook = dict(type="EMAHook", ema_type="ExponentialMovingAverage", momentum=1e-4, update_buffers=True)
