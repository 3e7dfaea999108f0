# EVA-01-g/14 MIM (the same published recipe) sharded with FSDP: parameters, gradients and AdamW state are split
# over the GPUs instead of replicated, and blocks recompute activations in the backward pass.
# Launch: torchrun --nnodes N --nproc_per_node 8 ... -m eva.backbone.cli pretrain <this file>
_base_ = ["./eva01_giant_p14_merged30m.py", "./_base_/fsdp.py"]

model = dict(grad_checkpointing=True)
