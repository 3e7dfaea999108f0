# Runtime shared by every EVA MIM recipe (mmengine Runner). Recipes import this with `_base_` and change fields.
custom_imports = dict(imports=["eva.pretrain"], allow_failed_imports=False)

# Published optimiser: AdamW (0.9, 0.98), eps 1e-6, weight decay 0.05 except position / class / mask tokens,
# biases and norms (the backbone's one no-decay rule); gradient clip 3.0; non-finite steps are skipped.
optim_wrapper = dict(
    type="SafeOptimWrapper",
    optimizer=dict(type="AdamW", lr=1.5e-3, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.05),
    constructor="LayerDecayOptimWrapperConstructor",
    paramwise_cfg=dict(layer_decay=1.0, backbone_prefix="student."),
    clip_grad=dict(max_norm=3.0),
    accumulative_counts=1,
    autocast_dtype="bfloat16",  # CUDA only; CPU runs fp32
    max_bad_steps=20,
)

default_hooks = dict(
    timer=dict(type="IterTimerHook"),
    logger=dict(type="LoggerHook", interval=10),
    param_scheduler=dict(type="ParamSchedulerHook"),
    checkpoint=dict(type="CheckpointHook", by_epoch=False, interval=1000, max_keep_ckpts=3, save_last=True),
    sampler_seed=dict(type="DistSamplerSeedHook"),
)
custom_hooks = [
    dict(type="ResumeStateHook"),
    dict(type="BackboneExportHook"),
    dict(type="LossCurveHook", plot_interval=100),
]
visualizer = dict(type="Visualizer", vis_backends=[dict(type="LocalVisBackend"),
                                                  dict(type="TensorboardVisBackend")])
log_processor = dict(by_epoch=False, window_size=10)
env_cfg = dict(cudnn_benchmark=True, mp_cfg=dict(mp_start_method="fork"), dist_cfg=dict(backend="nccl"))
log_level = "INFO"
randomness = dict(seed=0, deterministic=False)
load_from = None
resume = False
