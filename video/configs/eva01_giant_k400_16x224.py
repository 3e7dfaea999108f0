# EVA-01-g on Kinetics-400 from the Kinetics-722 model: 16 frames (the 8-frame space-time position table is
# resampled to 16 when the checkpoint loads), 1 epoch at a constant lr 1e-6, layer decay 0.95, drop path 0.2, no
# mixup / cutmix, label smoothing 0.1, batch 256 (1 per GPU x 128 GPUs x 2 accumulated). The K722 head is cut to
# the 400 classes first: `eva video remap-head` (see README). Test: 4 clips x 3 crops (paper: 89.7 top-1).
_base_ = ["eva01_giant_k722_8x224.py"]

recipe = dict(frames=16, epochs=1, warmup_epochs=0, lr=1e-6, min_lr=1e-6, layer_decay=0.95, drop_path=0.2,
              mixup=0.0, cutmix=0.0, num_classes=400)
accumulate = 2
init_from = "checkpoints/eva01_giant_k722_8x224_k400head.pth"  # the K722 model after `eva video remap-head`
model = dict(
    backbone=dict(num_frames=recipe["frames"], drop_path_rate=recipe["drop_path"], pretrained=init_from),
    cls_head=dict(num_classes=recipe["num_classes"],
                  init_cfg=dict(type="Pretrained", checkpoint=init_from, prefix="cls_head.")),
    data_preprocessor=dict(blending=None),
)
data_root = "data/kinetics400"
train_pipeline = [
    dict(type="DecordInit"),
    dict(type="UniformSample", clip_len=recipe["frames"], num_clips=1),
    dict(type="DecordDecode"),
    dict(type="Resize", scale=(-1, 256)),
    dict(type="MultiScaleCrop", input_size=224, scales=(1, 0.875, 0.75, 0.66), random_crop=False,
         max_wh_scale_gap=1),
    dict(type="Resize", scale=(224, 224), keep_ratio=False),
    dict(type="Flip", flip_ratio=0.5),
    dict(type="FormatShape", input_format="NCTHW"),
    dict(type="PackActionInputs"),
]
val_pipeline = [
    dict(type="DecordInit"),
    dict(type="UniformSample", clip_len=recipe["frames"], num_clips=1, test_mode=True),
    dict(type="DecordDecode"),
    dict(type="Resize", scale=(-1, 256)),
    dict(type="CenterCrop", crop_size=224),
    dict(type="FormatShape", input_format="NCTHW"),
    dict(type="PackActionInputs"),
]
test_pipeline = [
    dict(type="DecordInit"),
    dict(type="UniformSample", clip_len=recipe["frames"], num_clips=4, test_mode=True),
    dict(type="DecordDecode"),
    dict(type="Resize", scale=(-1, 224)),
    dict(type="ThreeCrop", crop_size=224),
    dict(type="FormatShape", input_format="NCTHW"),
    dict(type="PackActionInputs"),
]
train_dataloader = dict(
    batch_size=1,
    dataset=dict(ann_file=f"{data_root}/train.txt", data_prefix=dict(video=f"{data_root}/train"),
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(ann_file=f"{data_root}/val.txt", data_prefix=dict(video=f"{data_root}/val"), pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(ann_file=f"{data_root}/val.txt", data_prefix=dict(video=f"{data_root}/val"),
                 pipeline=test_pipeline))
train_cfg = dict(max_epochs=recipe["epochs"], val_interval=1)
optim_wrapper = dict(accumulative_counts=accumulate, optimizer=dict(lr=recipe["lr"]),
                     paramwise_cfg=dict(layer_decay=recipe["layer_decay"]))
param_scheduler = [dict(type="ConstantLR", factor=1.0, by_epoch=True, begin=0, end=recipe["epochs"])]
