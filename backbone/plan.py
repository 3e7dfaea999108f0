"""Training-memory planner: predicts peak memory per sample with and without activation checkpointing.

The prediction comes from a short measured probe, not from constants: a copy of the model cut down to one block
of each kind (windowed / global) runs one forward pass at batch 1 and 2 on the CPU with the requested precision,
and every tensor autograd saves for the backward pass is counted (``saved_tensors_hooks``) and attributed to the
block that saved it. The difference between the two batches is the per-sample cost, the rest is batch-independent
(weight copies cast for autocast). Whole-model numbers are these per-block costs times the block counts, plus
weights, gradients and optimizer state counted from the full model built on the meta device (no memory).

Peak of a training step (fwd + bwd + optimizer), bytes::

    states + fixed + batch * (sum of blocks' saved + stem saved + one block's saved)

where the last term is the backward pass's working set (gradients of one block's activations). With activation
checkpointing a block keeps only its input, and the backward holds one recomputed block at a time instead.
Measured on an H200 (benchmarks/results/gpu_h200.json) and on the CPU (tests/backbone/test_plan.py).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Tuple

import torch

from .model import EVAViT
from .variants import model_args

TASKS = ("cls", "det", "seg", "video", "pretrain")
#: bytes of optimizer state per trainable parameter (AdamW: two fp32 moments)
OPTIMIZER_BYTES = {"adamw": 8, "sgd": 4, "lars": 4, "none": 0}
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class MemoryPlan:
    """Predicted training memory of one model / task / input size (bytes unless noted)."""

    model: str
    task: str
    input_hw: Tuple[int, int]
    precision: str
    params: int
    states: int            # weights + gradients + optimizer state
    fixed: int             # batch-independent saved tensors (weight copies cast by autocast)
    per_sample: int        # saved activations + backward working set, per sample, no checkpointing
    per_sample_ckpt: int   # the same with activation checkpointing

    def peak(self, batch_size: int, checkpointing: bool = False) -> int:
        """Predicted peak bytes of a training step at ``batch_size``."""
        return self.states + self.fixed + batch_size * (self.per_sample_ckpt if checkpointing else self.per_sample)

    def max_batch(self, mem_bytes: float, checkpointing: bool = False, headroom: float = 0.9) -> int:
        """Largest batch whose predicted peak fits in ``headroom * mem_bytes`` (0 when none does)."""
        free = headroom * mem_bytes - self.states - self.fixed
        return max(0, int(free // (self.per_sample_ckpt if checkpointing else self.per_sample)))

    def recommend(self, mem_bytes: float, headroom: float = 0.9) -> Dict[str, object]:
        """Batch size and checkpointing for a device with ``mem_bytes``: checkpointing only when needed."""
        plain, ckpt = self.max_batch(mem_bytes, False, headroom), self.max_batch(mem_bytes, True, headroom)
        use_ckpt = plain < 1 or (plain < 8 and ckpt >= 2 * plain)
        return dict(batch_size=ckpt if use_ckpt else plain, grad_checkpointing=use_ckpt,
                    max_batch_plain=plain, max_batch_checkpointing=ckpt)

    def to_dict(self) -> dict:
        return asdict(self)


def task_model_args(name: str, task: str, img: int, frames: int = 1) -> Tuple[dict, Tuple[int, int]]:
    """Constructor arguments and input size that a task uses for variant ``name``.

    cls / pretrain: the variant at ``img``. det: patch 16, window 16, four evenly spaced global blocks, no class
    token, relative positions for models without RoPE (EVA-01), as the det configs. seg: patch 16, global
    attention, no class token (UperNet). video: joint space-time attention over ``frames`` x the patch grid,
    probed as one ``frames * img`` x ``img`` raster (the same tokens, the same attention size).
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    args = model_args(name, img_size=img)
    hw = (img, img)
    if task in ("det", "seg"):
        dense = dict(patch_size=16, class_token=False, global_pool="", num_classes=0, fc_norm=False,
                     final_norm=False)
        if task == "det":
            d = args["depth"]
            dense.update(window_size=16, global_blocks=tuple(d // 4 * (i + 1) - 1 for i in range(4)),
                         rel_pos=not args.get("rope", False))
        args.update(dense)
    elif task == "video":
        args.update(img_size=(frames * img, img), class_token=False, global_pool="avg")
        hw = (frames * img, img)
    return args, hw


def _probe_model(args: dict) -> Tuple[EVAViT, Dict[int, int]]:
    """A copy with one block per kind; returns it and {probe block index: count of such blocks in the full model}."""
    depth = args["depth"]
    if args.get("window_size"):
        n_global = len(set(args.get("global_blocks", ())))
        probe = dict(args, depth=2, global_blocks=(1,), drop_path_rate=0.0)
        counts = {0: depth - n_global, 1: n_global}
    else:
        probe = dict(args, depth=1, global_blocks=(), drop_path_rate=0.0)
        counts = {0: depth}
    return EVAViT(**probe), counts


def _saved_bytes(model: EVAViT, batch: int, hw: Tuple[int, int], dtype: torch.dtype) -> Dict[object, int]:
    """Bytes autograd saves during one forward, per block index and ``"stem"`` (embedding, head, loss)."""
    current: List[object] = ["stem"]
    seen: Dict[object, set] = {}
    totals: Dict[object, int] = {}

    params = {p.untyped_storage().data_ptr() for p in model.parameters()}  # counted with the states

    def pack(t: torch.Tensor):
        key = (t.untyped_storage().data_ptr(), t.dtype)
        owner = current[0]
        if key[0] not in params and key not in seen.setdefault(owner, set()):
            seen[owner].add(key)
            totals[owner] = totals.get(owner, 0) + t.untyped_storage().nbytes()
        return t

    hooks = []
    for i, blk in enumerate(model.blocks):
        hooks.append(blk.register_forward_pre_hook(lambda m, a, i=i: current.__setitem__(0, i)))
        hooks.append(blk.register_forward_hook(lambda m, a, o: current.__setitem__(0, "stem")))
    x = torch.randn(batch, 3, *hw)
    autocast = torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32)
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), autocast:
            out = model(x)
            out.float().square().mean()
    finally:
        for h in hooks:
            h.remove()
    return totals


def plan_memory(name: str, task: str = "cls", img: int = 224, frames: int = 1, precision: str = "bf16",
                optimizer: str = "adamw", freeze_backbone: bool = False) -> MemoryPlan:
    """Probe and predict the training memory of variant ``name`` for ``task`` at ``img`` pixels.

    Args:
        name: an ``eva.backbone`` variant.
        task: one of :data:`TASKS` (sets window attention, patch size and token count as the task's configs do).
        img: input side (crop size).
        frames: frames per clip (video).
        precision: ``"bf16"`` / ``"fp16"`` autocast or ``"fp32"``.
        optimizer: ``"adamw"``, ``"sgd"``, ``"lars"`` or ``"none"`` (sets optimizer-state bytes).
        freeze_backbone: no gradients or optimizer state for the backbone (linear probing).

    Returns:
        A :class:`MemoryPlan`; the backbone only: task heads (FPN, ROI heads, decoders) are not counted.
    """
    if precision not in _DTYPES:
        raise ValueError(f"precision must be one of {tuple(_DTYPES)}, got {precision!r}")
    if optimizer not in OPTIMIZER_BYTES:
        raise ValueError(f"optimizer must be one of {tuple(OPTIMIZER_BYTES)}, got {optimizer!r}")
    args, hw = task_model_args(name, task, img, frames)
    with torch.device("meta"):
        full = EVAViT(**args)
    params = sum(p.numel() for p in full.parameters())
    trainable = 0 if freeze_backbone else params
    states = 4 * params + (4 + OPTIMIZER_BYTES[optimizer]) * trainable

    torch.manual_seed(0)
    probe, counts = _probe_model(args)
    probe.requires_grad_(not freeze_backbone)
    dtype = _DTYPES[precision]
    s1, s2 = (_saved_bytes(probe, b, hw, dtype) for b in (1, 2))
    per = {k: s2.get(k, 0) - s1.get(k, 0) for k in s2}
    fixed_blocks = {k: s1.get(k, 0) - per[k] for k in per}
    blocks_saved = sum(per.get(i, 0) * n for i, n in counts.items())
    largest_block = max(per.get(i, 0) for i in counts)
    stem = per.get("stem", 0)
    tokens = math.prod(probe.feature_grid(hw)) + probe.num_prefix_tokens
    block_input = tokens * probe.embed_dim * 4  # the residual stream a checkpointed block keeps (fp32)
    fixed = sum(fixed_blocks.get(i, 0) * n for i, n in counts.items()) + max(fixed_blocks.get("stem", 0), 0)
    if task == "pretrain":  # the frozen teacher's bf16 weights (EVA-CLIP-g, EVA-02's teacher)
        with torch.device("meta"):
            teacher = EVAViT(**model_args("eva_giant_patch14_clip_224", num_classes=1024))
        states += 2 * sum(p.numel() for p in teacher.parameters())
    return MemoryPlan(
        model=name, task=task, input_hw=hw, precision=precision, params=params, states=states, fixed=fixed,
        per_sample=blocks_saved + stem + largest_block,
        per_sample_ckpt=sum(counts.values()) * block_input + stem + largest_block,
    )


def format_plan(plan: MemoryPlan, gpu_mem_gib: Optional[float] = None) -> str:
    """Human-readable summary, with a recommendation when the device memory is given."""
    mib = 2 ** 20
    lines = [
        f"{plan.model} / {plan.task} at {plan.input_hw[0]}x{plan.input_hw[1]}, {plan.precision}: "
        f"{plan.params / 1e6:.1f} M params (backbone only: heads not counted)",
        f"  weights + grads + optimizer state: {plan.states / mib:10.0f} MiB",
        f"  batch-independent activations:     {plan.fixed / mib:10.0f} MiB",
        f"  per sample, no checkpointing:      {plan.per_sample / mib:10.1f} MiB",
        f"  per sample, checkpointing:         {plan.per_sample_ckpt / mib:10.1f} MiB",
    ]
    if gpu_mem_gib:
        rec = plan.recommend(gpu_mem_gib * 2 ** 30)
        lines.append(f"  on {gpu_mem_gib:g} GiB: batch {rec['batch_size']} per device, activation checkpointing "
                     f"{'ON' if rec['grad_checkpointing'] else 'off'} (max batch {rec['max_batch_plain']} without, "
                     f"{rec['max_batch_checkpointing']} with); predicted peak "
                     f"{plan.peak(rec['batch_size'], rec['grad_checkpointing']) / 2 ** 30:.1f} GiB")
    return "\n".join(lines)
