# EVA-02-L + UperNet on ADE20K at 640 (the paper's larger-crop variant of the L recipe): 640 crops, slide
# inference with stride 426; every other number as at 512.
_base_ = ["./upernet_eva02_large_ade20k_512.py"]

recipe = dict(crop=640)
crop_size = (640, 640)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor, backbone=dict(img_size=640),
             test_cfg=dict(mode="slide", crop_size=crop_size, stride=(426, 426)))
train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations", reduce_zero_label=True),
    dict(type="RandomResize", scale=(2560, 640), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type="RandomCrop", crop_size=crop_size, cat_max_ratio=0.75),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PhotoMetricDistortion"),
    dict(type="PackSegInputs"),
]
test_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="Resize", scale=(2560, 640), keep_ratio=True),
    dict(type="LoadAnnotations", reduce_zero_label=True),
    dict(type="PackSegInputs"),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# Multi-scale + flip test (`eva seg test --tta`) as BAAI's: the test scale times 0.5 .. 1.75, no short side below the
# crop (ratios 0.5 / 0.75 / 1.0 all test at the crop and are averaged as three views, as in BAAI's runs). mmseg's
# base ADE20K TTA would scale the original image instead, and load its labels without reduce_zero_label.
tta_pipeline = [
    dict(type="LoadImageFromFile", backend_args=None),
    dict(type="TestTimeAug", transforms=[
        [dict(type="Resize", scale=(4 * s, s), keep_ratio=True)
         for s in [max(640, int(640 * r)) for r in (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)]],
        [dict(type="RandomFlip", prob=0.0, direction="horizontal"),
         dict(type="RandomFlip", prob=1.0, direction="horizontal")],
        [dict(type="LoadAnnotations", reduce_zero_label=True)],
        [dict(type="PackSegInputs")],
    ]),
]
