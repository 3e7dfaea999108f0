# EVA-01-g on Kinetics-722 (the union of K400/600/700), the intermediate video stage of the EVA paper: the image
# model inflated to video (Conv3d tubelet 1, the 16x16 position table replicated over 8 frames, joint space-time
# attention over 8 x 256 tokens), 8 frames by sparse TSN-style sampling (one frame per segment), 224 crops,
# 40 epochs with 5 of warmup, AdamW lr 8e-6 (not scaled by batch) betas (0.9, 0.98), no layer decay,
# drop path 0.3, mixup 0.8 / cutmix 1.0 (one of the two per batch), label smoothing 0.1, batch 256 (2 x 128 GPUs).
# Test: 4 clips x 3 crops, softmax averaged. mmaction2's own recognizer, head, pipeline and metric.
# (mmaction2 1.1.0's metafiles break mmengine's "mmaction::" base lookup, so the runtime is spelled out here.)
default_scope = "mmaction"
custom_imports = dict(imports=["eva.video"], allow_failed_imports=False)

recipe = dict(variant="eva_giant_patch14_224", frames=8, tubelet=1, crop=224, epochs=40, warmup_epochs=5, lr=8e-6,
              min_lr=8e-8, layer_decay=1.0, drop_path=0.3, weight_decay=0.05, mixup=0.8, cutmix=1.0,
              label_smoothing=0.1, batch_size=256, num_classes=722, test_clips=4, test_crops=3)
num_gpus = 128
accumulate = 1
width = 1408
model = dict(
    type="Recognizer3D",
    backbone=dict(type="EVAVideoBackbone", variant=recipe["variant"], num_frames=recipe["frames"],
                  tubelet_size=recipe["tubelet"], img_size=recipe["crop"], drop_path_rate=recipe["drop_path"],
                  grad_checkpointing=True, pretrained="checkpoints/eva_psz14.pt"),  # BAAI's EVA-01 MIM weights
    # mmaction2's TimeSformerHead (see eva.video.head); EVA's init: truncated normal 0.02 scaled by 1e-3
    cls_head=dict(type="EVAVideoHead", num_classes=recipe["num_classes"], in_channels=width, init_std=2e-5,
                  label_smooth_eps=recipe["label_smoothing"], average_clips="prob"),
    data_preprocessor=dict(
        type="ActionDataPreprocessor", mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        format_shape="NCTHW",
        blending=dict(type="RandomBatchAugment", probs=[0.5, 0.5], augments=[
            dict(type="MixupBlending", alpha=recipe["mixup"], num_classes=recipe["num_classes"]),
            dict(type="CutmixBlending", alpha=recipe["cutmix"], num_classes=recipe["num_classes"])])),
)

dataset_type = "VideoDataset"
data_root = "data/kinetics722"
train_pipeline = [
    dict(type="DecordInit"),
    dict(type="UniformSample", clip_len=recipe["frames"], num_clips=1),
    dict(type="DecordDecode"),
    dict(type="Resize", scale=(-1, 256)),
    dict(type="MultiScaleCrop", input_size=recipe["crop"], scales=(1, 0.875, 0.75, 0.66), random_crop=False,
         max_wh_scale_gap=1),
    dict(type="Resize", scale=(recipe["crop"], recipe["crop"]), keep_ratio=False),
    dict(type="Flip", flip_ratio=0.5),
    dict(type="FormatShape", input_format="NCTHW"),
    dict(type="PackActionInputs"),
]
val_pipeline = [
    dict(type="DecordInit"),
    dict(type="UniformSample", clip_len=recipe["frames"], num_clips=1, test_mode=True),
    dict(type="DecordDecode"),
    dict(type="Resize", scale=(-1, 256)),
    dict(type="CenterCrop", crop_size=recipe["crop"]),
    dict(type="FormatShape", input_format="NCTHW"),
    dict(type="PackActionInputs"),
]
test_pipeline = [
    dict(type="DecordInit"),
    dict(type="UniformSample", clip_len=recipe["frames"], num_clips=recipe["test_clips"], test_mode=True),
    dict(type="DecordDecode"),
    dict(type="Resize", scale=(-1, recipe["crop"])),
    dict(type="ThreeCrop", crop_size=recipe["crop"]),
    dict(type="FormatShape", input_format="NCTHW"),
    dict(type="PackActionInputs"),
]
train_dataloader = dict(
    batch_size=recipe["batch_size"] // (num_gpus * accumulate), num_workers=8, persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=True),
    dataset=dict(type=dataset_type, ann_file=f"{data_root}/train.txt", data_prefix=dict(video=f"{data_root}/train"),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=8, persistent_workers=True, sampler=dict(type="DefaultSampler", shuffle=False),
    dataset=dict(type=dataset_type, ann_file=f"{data_root}/val.txt", data_prefix=dict(video=f"{data_root}/val"),
                 pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=1, num_workers=8, persistent_workers=True, sampler=dict(type="DefaultSampler", shuffle=False),
    dataset=dict(type=dataset_type, ann_file=f"{data_root}/val.txt", data_prefix=dict(video=f"{data_root}/val"),
                 pipeline=test_pipeline, test_mode=True))
val_evaluator = dict(type="AccMetric")
test_evaluator = val_evaluator

# mmengine's EpochBasedTrainLoop, but each clip is sampled and augmented under a seed of (seed, epoch, index), so
# a resumed run continues exactly with any number of workers (eva.backbone.mm.loops)
train_cfg = dict(type="ResumableEpochBasedTrainLoop", max_epochs=recipe["epochs"], val_begin=1, val_interval=5)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
optim_wrapper = dict(
    type="SafeOptimWrapper", autocast_dtype="bfloat16", accumulative_counts=accumulate,
    optimizer=dict(type="AdamW", lr=recipe["lr"], betas=(0.9, 0.98), eps=1e-6, weight_decay=recipe["weight_decay"]),
    constructor="LayerDecayOptimWrapperConstructor",
    paramwise_cfg=dict(layer_decay=recipe["layer_decay"], backbone_prefix="backbone."),
)
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=True, begin=0, end=recipe["warmup_epochs"],
         convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", T_max=recipe["epochs"] - recipe["warmup_epochs"], eta_min=recipe["min_lr"],
         by_epoch=True, begin=recipe["warmup_epochs"], end=recipe["epochs"], convert_to_iter_based=True),
]
default_hooks = dict(
    runtime_info=dict(type="RuntimeInfoHook"),
    timer=dict(type="IterTimerHook"),
    logger=dict(type="LoggerHook", interval=50, ignore_last=False),
    param_scheduler=dict(type="ParamSchedulerHook"),
    checkpoint=dict(type="CheckpointHook", interval=1, max_keep_ckpts=3, save_best="auto"),
    sampler_seed=dict(type="DistSamplerSeedHook"),
    sync_buffers=dict(type="SyncBuffersHook"),
)
# exact resume, and checkpoints that load with torch.load(weights_only=True) (eva.backbone.mm.ResumeStateHook);
# the fixed seed gives a resumed run the same sampler order and per-clip seeds
custom_hooks = [dict(type="ResumeStateHook")]
randomness = dict(seed=0)
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method="fork", opencv_num_threads=0),
               dist_cfg=dict(backend="nccl"))
log_processor = dict(type="LogProcessor", window_size=20, by_epoch=True)
vis_backends = [dict(type="LocalVisBackend")]
visualizer = dict(type="ActionVisualizer", vis_backends=vis_backends)
log_level = "INFO"
load_from = None
resume = False
auto_scale_lr = dict(enable=False, base_batch_size=recipe["batch_size"])
