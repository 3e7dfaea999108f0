# Epoch-based schedule of the published recipes: linear warmup then cosine, both per iteration.
# A recipe sets `recipe = dict(...)` with the paper's numbers and derives every field from it.
_base_ = ["./mim_runtime.py"]

train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=150)
default_hooks = dict(checkpoint=dict(by_epoch=True, interval=1, max_keep_ckpts=3))
log_processor = dict(by_epoch=True)
env_cfg = dict(dist_cfg=dict(backend="nccl"))
