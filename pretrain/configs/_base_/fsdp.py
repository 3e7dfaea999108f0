# Fully sharded data parallel (FSDP) through mmengine's FlexibleRunner, for models too large to replicate per GPU
# (EVA-01-g: 1B parameters + AdamW state). One FSDP unit per transformer block; the original parameters stay
# visible (use_orig_params) so layer-wise lr decay and the no-decay rule see their real names and shapes.
# Checkpoints are gathered to full state dicts, so a run can resume on a different number of GPUs.
runner_type = "FlexibleRunner"
strategy = dict(
    type="FSDPStrategy",
    state_dict_cfg="full",
    model_wrapper=dict(use_orig_params=True, auto_wrap_policy="eva_block_wrap_policy", limit_all_gathers=True),
)
