"""Optimisation for mmengine runs: the layer-decay rule as an optimizer-wrapper constructor, and an optimizer
wrapper that skips non-finite steps.

Config use::

    optim_wrapper = dict(
        optimizer=dict(type="AdamW", lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
        constructor="LayerDecayOptimWrapperConstructor",
        paramwise_cfg=dict(layer_decay=0.9, backbone_prefix="backbone."))
"""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS
from torch import nn

from ..layer_decay import param_groups_layer_decay
from .fsdp import is_fsdp, original_ndims


@OPTIM_WRAPPER_CONSTRUCTORS.register_module(force=True)
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Parameter groups from :func:`eva.backbone.param_groups_layer_decay`.

    Each group's lr is ``base_lr * lr_scale``; mmengine's schedulers scale every group from its own initial lr.

    Args:
        optim_wrapper_cfg: mmengine's ``optim_wrapper`` config (``optimizer.lr`` and ``weight_decay`` are read).
        paramwise_cfg: ``layer_decay`` (1.0 = none); ``backbone_prefix``, the name prefix of the EVA backbone
            inside the model, e.g. ``"backbone."`` (other parameters get the top layer's rate); ``num_layers``
            (default: the backbone's depth); ``no_decay_names``, extra names without weight decay.
    """

    def __call__(self, model: nn.Module):
        ndims = original_ndims(model)
        if hasattr(model, "module"):
            model = model.module
        cfg = dict(self.optimizer_cfg)
        base_lr, wd = cfg["lr"], cfg.get("weight_decay", 0.0)
        pw = dict(self.paramwise_cfg or {})
        prefix = pw.get("backbone_prefix", "")
        backbone = model.get_submodule(prefix.rstrip(".")) if prefix else model
        depth = pw.get("num_layers", getattr(backbone, "depth", None))
        if depth is None:
            raise ValueError("LayerDecayOptimWrapperConstructor: set paramwise_cfg.num_layers or backbone_prefix "
                             "pointing at an EVA backbone")
        groups = param_groups_layer_decay(model, weight_decay=wd, layer_decay=pw.get("layer_decay", 1.0),
                                          depth=depth, prefix=prefix, skip=pw.get("no_decay_names", ()),
                                          ndim_of=(lambda p: ndims[id(p)]) if ndims is not None else None)
        for g in groups:
            g["lr"] = base_lr * g["lr_scale"]
        cfg["params"] = groups
        optimizer = OPTIMIZERS.build(cfg)
        wrapper_cfg = dict(self.optim_wrapper_cfg)
        wrapper_cfg.setdefault("type", "OptimWrapper")
        return OPTIM_WRAPPERS.build(wrapper_cfg, default_args=dict(optimizer=optimizer))


class NonFiniteError(RuntimeError):
    """Training produced non-finite losses or gradients for too many consecutive steps."""


@OPTIM_WRAPPERS.register_module()
class SafeOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that skips steps whose loss or gradient norm is not finite.

    With gradient accumulation a non-finite micro-batch spoils its whole window: the window's update is skipped.
    A skipped step leaves weights and optimizer state untouched and is counted (``skipped_steps``); after
    ``max_bad_steps`` consecutive bad steps training stops with a clear error, and can be resumed from the
    last good checkpoint. Gradient clipping (``clip_grad=dict(max_norm=3.0)``) is applied on good steps with
    the norm of the WHOLE gradient: under FSDP each rank holds a shard, so the squared norms are summed over
    ranks (mmengine's own clipping would clip each shard by its local norm).

    Args:
        autocast_dtype: ``"bfloat16"`` to run forward passes under autocast on CUDA (CPU stays fp32).
    """

    def __init__(self, *args, max_bad_steps: int = 20, autocast_dtype: Optional[str] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bad_steps = max_bad_steps
        self.autocast_dtype = autocast_dtype
        self.skipped_steps = 0
        self.consecutive_bad = 0
        self.window_bad: Optional[str] = None  # set when a micro-batch of the current window was non-finite

    def optim_context(self, model):
        if not hasattr(self, "_sharded"):
            self._sharded = is_fsdp(model)
        ctx = super().optim_context(model)
        if self.autocast_dtype and torch.cuda.is_available():
            from contextlib import ExitStack
            stack = ExitStack()
            stack.enter_context(ctx)
            stack.enter_context(torch.autocast("cuda", dtype=getattr(torch, self.autocast_dtype)))
            return stack
        return ctx

    def _skip_window(self, what: str) -> None:
        """Drop the whole accumulation window: no update, gradients cleared, counted as one skipped step."""
        self.window_bad = None
        self.skipped_steps += 1
        self.consecutive_bad += 1
        self.zero_grad()
        if self.consecutive_bad >= self.max_bad_steps:
            raise NonFiniteError(
                f"training diverged: {self.consecutive_bad} consecutive steps with a non-finite {what}. "
                f"The weights are those of the last good step; resume from the last checkpoint "
                f"(`--resume`) with a lower learning rate or gradient clipping.")

    def update_params(self, loss: torch.Tensor, step_kwargs=None, zero_kwargs=None) -> None:
        loss = self.scale_loss(loss)
        bad = (~torch.isfinite(loss.detach())).any().float()
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(bad, op=torch.distributed.ReduceOp.MAX)  # every rank skips together
        if bad.item():
            self._inner_count += 1  # the micro-batch counts toward the window, but adds no gradient
            self.window_bad = "loss"
        else:
            self.backward(loss)
        if not self.should_update():
            return
        if self.window_bad:
            self._skip_window(self.window_bad)
            return
        norm = self._global_grad_norm()
        if not torch.isfinite(norm):
            self._skip_window("gradient")
            return
        self._grad_norm = norm
        self.consecutive_bad = 0
        self.step(**(step_kwargs or {}))
        self.zero_grad(**(zero_kwargs or {}))

    def _grads(self):
        return [p.grad for g in self.optimizer.param_groups for p in g["params"] if p.grad is not None]

    def _global_grad_norm(self) -> torch.Tensor:
        """L2 norm of the full gradient (sum of squared shard norms over ranks when sharded)."""
        grads = [g for g in self._grads() if g.numel()]
        sq = torch.stack([torch.linalg.vector_norm(g.float()) ** 2 for g in grads]).sum() if grads \
            else torch.zeros((), device=self.optimizer.param_groups[0]["params"][0].device)
        if getattr(self, "_sharded", False) and torch.distributed.is_initialized():
            torch.distributed.all_reduce(sq)
        return sq.sqrt()

    def _clip_grad(self) -> None:
        if (self.clip_func is not torch.nn.utils.clip_grad_norm_ or self.clip_grad_kwargs.get("norm_type", 2.0) != 2.0
                or getattr(self, "_grad_norm", None) is None):
            return super()._clip_grad()
        max_norm = self.clip_grad_kwargs["max_norm"]
        torch.nn.utils.clip_grads_with_norm_(
            [p for g in self.optimizer.param_groups for p in g["params"] if p.grad is not None],
            max_norm, self._grad_norm)
        self.message_hub.update_scalar(f"train/{self.grad_name}", float(self._grad_norm))

    def state_dict(self) -> dict:
        return dict(super().state_dict(), skipped_steps=self.skipped_steps)

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        self.skipped_steps = state_dict.pop("skipped_steps", 0)
        super().load_state_dict(state_dict)
