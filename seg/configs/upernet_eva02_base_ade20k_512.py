# EVA-02-B + UperNet on ADE20K at 512 (EVA-02 paper's recipe): batch 32, 60k iterations, AdamW lr 6e-5 with layer
# decay 0.85, drop path 0.15, head width 768; features of blocks 3, 5, 7, 11 through mmseg's Feature2Pyramid;
# slide inference with stride 341. Built on mmseg's own base configs (model, ADE20K pipeline, runtime).
_base_ = [
    "mmseg::_base_/models/upernet_beit.py",
    "mmseg::_base_/datasets/ade20k.py",
    "mmseg::_base_/default_runtime.py",
]
custom_imports = dict(imports=["eva.seg"], allow_failed_imports=False)

recipe = dict(variant="eva02_base_patch14_224", crop=512, batch_size=32, iters=60000, lr=6e-5, layer_decay=0.85,
              drop_path=0.15, head_channels=768, out_indices=(3, 5, 7, 11), num_classes=150, warmup_iters=1500)
num_gpus = 8
crop_size = (recipe["crop"], recipe["crop"])
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(_delete_=True, type="EVASegBackbone", variant=recipe["variant"], img_size=recipe["crop"],
                  patch_size=16, out_indices=recipe["out_indices"], drop_path_rate=recipe["drop_path"],
                  pretrained="checkpoints/eva02_B_pt_in21k_p14.pt"),
    neck=dict(embed_dim=768, rescales=[4, 2, 1, 0.5]),
    decode_head=dict(in_channels=[768] * 4, channels=recipe["head_channels"], num_classes=recipe["num_classes"]),
    auxiliary_head=dict(in_channels=768, num_classes=recipe["num_classes"]),
    test_cfg=dict(mode="slide", crop_size=crop_size, stride=(341, 341)),
)
# Multi-scale + flip test (`eva seg test --tta`) as BAAI's: the test scale times 0.5 .. 1.75, no short side below the
# crop (ratios 0.5 / 0.75 / 1.0 all test at the crop and are averaged as three views, as in BAAI's runs). mmseg's
# base ADE20K TTA would scale the original image instead, and load its labels without reduce_zero_label.
tta_pipeline = [
    dict(type="LoadImageFromFile", backend_args=None),
    dict(type="TestTimeAug", transforms=[
        [dict(type="Resize", scale=(4 * s, s), keep_ratio=True)
         for s in [max(recipe["crop"], int(recipe["crop"] * r)) for r in (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)]],
        [dict(type="RandomFlip", prob=0.0, direction="horizontal"),
         dict(type="RandomFlip", prob=1.0, direction="horizontal")],
        [dict(type="LoadAnnotations", reduce_zero_label=True)],
        [dict(type="PackSegInputs")],
    ]),
]
train_dataloader = dict(batch_size=recipe["batch_size"] // num_gpus)
optim_wrapper = dict(
    type="SafeOptimWrapper",
    optimizer=dict(type="AdamW", lr=recipe["lr"], betas=(0.9, 0.999), weight_decay=0.05),
    constructor="LayerDecayOptimWrapperConstructor",
    paramwise_cfg=dict(layer_decay=recipe["layer_decay"], backbone_prefix="backbone."),
)
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-6, by_epoch=False, begin=0, end=recipe["warmup_iters"]),
    dict(type="PolyLR", power=1.0, eta_min=0.0, by_epoch=False, begin=recipe["warmup_iters"], end=recipe["iters"]),
]
# mmengine's IterBasedTrainLoop, but a resumed run starts its sampler where it stopped instead of loading every
# batch it skips, and each sample is augmented under a seed of its own (eva.backbone.mm.loops)
train_cfg = dict(type="ResumableIterBasedTrainLoop", max_iters=recipe["iters"], val_interval=4000)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
default_hooks = dict(
    timer=dict(type="IterTimerHook"),
    logger=dict(type="LoggerHook", interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type="ParamSchedulerHook"),
    checkpoint=dict(type="CheckpointHook", by_epoch=False, interval=4000, max_keep_ckpts=2),
    sampler_seed=dict(type="DistSamplerSeedHook"),
    visualization=dict(type="SegVisualizationHook"),
)
# exact resume, and checkpoints that load with torch.load(weights_only=True) (eva.backbone.mm.ResumeStateHook);
# the fixed seed fixes the sampler's order and the per-sample seeds
custom_hooks = [dict(type="ResumeStateHook")]
randomness = dict(seed=0)
