# CPU demo (`make demo`): UperNet on the tiny EVA-02 that `eva demo` pre-trained (patch 8, 6 blocks), trained on
# copy-paste composites of real Fashion-MNIST items on real photos (exact masks: background + 10 classes) and
# scored by mmseg's IoUMetric. The EVA-02-B recipe's structure (Feature2Pyramid + UPerHead + layer decay) at
# minutes-on-2-cores size: 128-pixel crops, 64-channel heads, BN instead of SyncBN, 700 iterations of batch 8.
# With 8-pixel patches the neck rescales by 2, 1, 1/2, 1/4, so UperNet still sees strides 4, 8, 16, 32 (the base
# config's 4x branch would put its 3x3 convolutions at stride 2: twice the cost of a step, measured).
# Objects cover ~15% of the pixels: the loss weighs background 0.2 (with plain cross-entropy, 400 steps
# predicted all background).
_base_ = ["../upernet_eva02_base_ade20k_512.py"]

recipe = dict(variant="eva02_tiny_patch14_224", crop=128, batch_size=8, iters=700, lr=3e-3, layer_decay=0.75,
              drop_path=0.05, head_channels=64, out_indices=(1, 2, 3, 5), num_classes=11, warmup_iters=40)
num_gpus = 1
crop_size = (recipe["crop"], recipe["crop"])
norm_cfg = dict(type="BN", requires_grad=True)
class_weight = [0.2] + [1.0] * (recipe["num_classes"] - 1)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(variant=recipe["variant"], depth=6, img_size=recipe["crop"], patch_size=8, rope_ref_grid=10,
                  out_indices=recipe["out_indices"], drop_path_rate=recipe["drop_path"],
                  pretrained="work_dirs/demo/backbone.safetensors"),  # written by `eva demo`
    neck=dict(embed_dim=192, norm_cfg=norm_cfg, rescales=[2, 1, 0.5, 0.25]),
    decode_head=dict(in_channels=[192] * 4, channels=recipe["head_channels"], num_classes=recipe["num_classes"],
                     norm_cfg=norm_cfg, pool_scales=(1, 2, 4), loss_decode=dict(class_weight=class_weight)),
    auxiliary_head=dict(in_channels=192, channels=32, num_classes=recipe["num_classes"], norm_cfg=norm_cfg,
                        loss_decode=dict(class_weight=class_weight)),
    test_cfg=dict(_delete_=True, mode="whole"),
)
train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations"),
    dict(type="RandomResize", scale=crop_size, ratio_range=(1.0, 1.6), keep_ratio=True),  # >= crop: no padding
    dict(type="RandomCrop", crop_size=crop_size, cat_max_ratio=0.9),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PackSegInputs"),
]
test_pipeline = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations"), dict(type="PackSegInputs")]
_data = "datasets/eva_seg_composites"
train_dataloader = dict(
    batch_size=recipe["batch_size"], num_workers=1, persistent_workers=False,
    dataset=dict(_delete_=True, type="SemanticCompositesDataset", data_root=f"{_data}/train", num_images=1200,
                 size=recipe["crop"], split="train", seed=0, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=1, persistent_workers=False,
    dataset=dict(_delete_=True, type="SemanticCompositesDataset", data_root=f"{_data}/val", num_images=200,
                 size=recipe["crop"], split="test", seed=1, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type="IoUMetric", iou_metrics=["mIoU"])
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(lr=recipe["lr"]), paramwise_cfg=dict(layer_decay=recipe["layer_decay"]))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=False, begin=0, end=recipe["warmup_iters"]),
    dict(type="PolyLR", power=1.0, eta_min=0.0, by_epoch=False, begin=recipe["warmup_iters"], end=recipe["iters"]),
]
train_cfg = dict(max_iters=recipe["iters"], val_interval=recipe["iters"])
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=recipe["iters"], max_keep_ckpts=1),
                     visualization=dict(type="SegVisualizationHook", draw=False))
work_dir = "work_dirs/demo_seg"
