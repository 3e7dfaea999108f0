# Runtime shared by every EVA classification config (mmengine Runner). Recipes import it with `_base_`.
custom_imports = dict(imports=["eva.cls"], allow_failed_imports=False)

# AdamW with the backbone's one layer-wise lr-decay rule (head at the full lr, embeddings at the lowest) and no
# weight decay on position / class tokens, biases and norms; non-finite steps are skipped.
optim_wrapper = dict(
    type="SafeOptimWrapper",
    optimizer=dict(type="AdamW", lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
    constructor="LayerDecayOptimWrapperConstructor",
    paramwise_cfg=dict(layer_decay=0.9, backbone_prefix="backbone."),
    autocast_dtype="bfloat16",  # CUDA only; CPU runs fp32
    max_bad_steps=20,
)

default_hooks = dict(
    timer=dict(type="IterTimerHook"),
    logger=dict(type="LoggerHook", interval=50),
    param_scheduler=dict(type="ParamSchedulerHook"),
    checkpoint=dict(type="CheckpointHook", interval=1, max_keep_ckpts=2, save_last=True,
                    save_best="cls/top1", rule="greater"),
    sampler_seed=dict(type="DistSamplerSeedHook"),
)
custom_hooks = [dict(type="ResumeStateHook"), dict(type="LossCurveHook", plot_interval=100)]

val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
val_evaluator = dict(type="ClsMetric", topk=(1, 5))
test_evaluator = val_evaluator

visualizer = dict(type="Visualizer", vis_backends=[dict(type="LocalVisBackend"),
                                                  dict(type="TensorboardVisBackend")])
log_processor = dict(by_epoch=True, window_size=20)
env_cfg = dict(cudnn_benchmark=True, mp_cfg=dict(mp_start_method="fork"), dist_cfg=dict(backend="nccl"))
log_level = "INFO"
randomness = dict(seed=0, deterministic=False)
load_from = None
resume = False
