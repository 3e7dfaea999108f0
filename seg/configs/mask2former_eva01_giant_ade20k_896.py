# EVA-01-g + Mask2Former on ADE20K at 896, fine-tuned from the COCO-Stuff-164K model (EVA paper's recipe): batch 64,
# 20k iterations, lr 2.5e-5; backbone, pixel decoder and transformer decoder start from the COCO-Stuff checkpoint,
# the 150-class classifier starts fresh (its shape differs; mmengine reports it as skipped). Multi-scale test
# (`eva seg test --tta`): BAAI's short sides 512..1280 around the 896 crop, with flips.
_base_ = ["./mask2former_eva01_giant_cocostuff164k_896.py"]

recipe = dict(batch_size=64, iters=20000, lr=2.5e-5, num_classes=150, warmup_iters=1500)
num_classes = recipe["num_classes"]
load_from = "work_dirs/mask2former_eva01_giant_cocostuff164k_896/iter_60000.pth"
model = dict(
    backbone=dict(pretrained=None),  # everything comes from load_from
    decode_head=dict(num_classes=num_classes, loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])),
)
dataset_type = "ADE20KDataset"
data_root = "data/ade/ADEChallengeData2016"
train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations", reduce_zero_label=True),
    dict(type="RandomChoiceResize", scales=[int(896 * x * 0.1) for x in range(5, 21)],
         resize_type="ResizeShortestEdge", max_size=3584),
    dict(type="RandomCrop", crop_size=(896, 896), cat_max_ratio=0.75),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PhotoMetricDistortion"),
    dict(type="PackSegInputs"),
]
test_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="Resize", scale=(3584, 896), keep_ratio=True),
    dict(type="LoadAnnotations", reduce_zero_label=True),
    dict(type="PackSegInputs"),
]
tta_pipeline = [
    dict(type="LoadImageFromFile", backend_args=None),
    dict(type="TestTimeAug", transforms=[
        [dict(type="Resize", scale=(4 * s, s), keep_ratio=True) for s in (512, 640, 768, 896, 1024, 1152, 1280)],
        [dict(type="RandomFlip", prob=0.0, direction="horizontal"),
         dict(type="RandomFlip", prob=1.0, direction="horizontal")],
        [dict(type="LoadAnnotations", reduce_zero_label=True)],
        [dict(type="PackSegInputs")],
    ]),
]
train_dataloader = dict(
    batch_size=recipe["batch_size"] // 8,
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path="images/training", seg_map_path="annotations/training"),
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 data_prefix=dict(img_path="images/validation", seg_map_path="annotations/validation"),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=recipe["lr"]))
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6, by_epoch=False, begin=0, end=recipe["warmup_iters"]),
    dict(type="PolyLR", power=1.0, eta_min=0.0, by_epoch=False, begin=recipe["warmup_iters"], end=recipe["iters"]),
]
train_cfg = dict(max_iters=recipe["iters"], val_interval=2000)
