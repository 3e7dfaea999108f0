# EVA-01-g on Kinetics-700 from the Kinetics-722 model: as the K400 stage, with the K722 head cut to the 700
# classes and 2 epochs (paper: 82.9 top-1, 4 clips x 3 crops).
_base_ = ["eva01_giant_k400_16x224.py"]

recipe = dict(epochs=2, num_classes=700)
init_from = "checkpoints/eva01_giant_k722_8x224_k700head.pth"  # the K722 model after `eva video remap-head`
model = dict(backbone=dict(pretrained=init_from),
             cls_head=dict(num_classes=recipe["num_classes"],
                           init_cfg=dict(type="Pretrained", checkpoint=init_from, prefix="cls_head.")))
data_root = "data/kinetics700"
train_dataloader = dict(dataset=dict(ann_file=f"{data_root}/train.txt", data_prefix=dict(video=f"{data_root}/train")))
val_dataloader = dict(dataset=dict(ann_file=f"{data_root}/val.txt", data_prefix=dict(video=f"{data_root}/val")))
test_dataloader = dict(dataset=dict(ann_file=f"{data_root}/val.txt", data_prefix=dict(video=f"{data_root}/val")))
train_cfg = dict(max_epochs=recipe["epochs"])
param_scheduler = [dict(type="ConstantLR", factor=1.0, by_epoch=True, begin=0, end=recipe["epochs"])]
