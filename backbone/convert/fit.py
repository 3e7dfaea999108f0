"""Fit a native state dict to a concrete model: resample shapes that depend on size, then diff the keys."""
from __future__ import annotations

import math
from typing import Dict

import torch
from timm.layers import resample_patch_embed
from torch import nn

from ..layers import inflate_patch_embed, resize_pos_embed, resize_pos_embed_3d, resize_rel_pos
from .report import LoadReport, compare_keys

StateDict = Dict[str, torch.Tensor]


def fit_to_model(sd: StateDict, model: nn.Module, report: LoadReport) -> StateDict:
    """Resample patch embedding, position and relative-position tables to ``model``; fill the report's
    missing / unexpected / mismatched lists. Pure: ``sd`` is not modified."""
    target = model.state_dict()
    sd = dict(sd)
    _drop_absent_optionals(sd, model, target, report)
    patch = sd.get("patch_embed.proj.weight")
    video_source = patch is not None and patch.ndim == 5  # read before the patch kernel is inflated below
    for key in list(sd):
        if key not in target:
            continue
        old, want = sd[key], target[key]
        if old.shape == want.shape:
            continue
        new = _resample(key, old, want, model, video_source)
        if new is not None and new.shape == want.shape:
            report.resized.append((key, tuple(old.shape), tuple(new.shape)))
            sd[key] = new
    compare_keys(sd, target, report)
    return sd


def _drop_absent_optionals(sd: StateDict, model, target: StateDict, report: LoadReport) -> None:
    """Handle parts a checkpoint may legitimately have that this model is built without."""
    if "cls_token" in sd and "cls_token" not in target:
        report.dropped.append(("cls_token", "model is built without a class token (e.g. for detection)"))
        del sd["cls_token"]
    if "pos_embed" in sd and "pos_embed" not in target:
        kind = getattr(model, "pos_embed_type", "no")
        if kind == "sincos" and not _is_sincos(sd["pos_embed"]):
            # a learned table (a fine-tuned checkpoint) would be lost: left in, it is reported as unexpected
            report.hint = "the checkpoint's position table is learned: build the model with pos_embed='learned'"
        else:
            report.dropped.append(("pos_embed", f"model uses {kind} positions"))
            del sd["pos_embed"]
    # The last norm moves between `norm` (token pooling, pre-training) and `fc_norm` (average pooling): a
    # pre-trained final norm is the best start for a fine-tuning fc_norm, and vice versa.
    for src, dst in (("norm", "fc_norm"), ("fc_norm", "norm")):
        for p in ("weight", "bias"):
            if f"{src}.{p}" in sd and f"{src}.{p}" not in target and f"{dst}.{p}" in target and \
                    f"{dst}.{p}" not in sd:
                sd[f"{dst}.{p}"] = sd.pop(f"{src}.{p}")
                report.renamed.append((f"{src}.{p}", f"{dst}.{p}"))
    head_keys = [k for k in sd if k.startswith("head.")]
    if head_keys and not any(k.startswith("head.") for k in target):
        for k in head_keys:
            report.dropped.append((k, "model is built without a classifier (num_classes=0)"))
            del sd[k]
    if "head.weight" in sd and "head.bias" not in sd and "head.bias" in target:
        sd["head.bias"] = torch.zeros(sd["head.weight"].shape[0], dtype=sd["head.weight"].dtype)
        report.added.append(("head.bias", "bias-free projection head loaded as a linear layer with zero bias"))


def _resample(key: str, old: torch.Tensor, want: torch.Tensor, model, video_source: bool) -> torch.Tensor | None:
    if key == "patch_embed.proj.weight" and old.shape[:2] == want.shape[:2]:
        return _fit_patch_embed(old, want, getattr(model.patch_embed, "inflation", "average"))
    if key == "pos_embed" and old.shape[-1] == want.shape[-1]:
        antialias = getattr(model, "pos_embed_antialias", True)
        if hasattr(model, "pos_grid"):  # video model: inflate an image table or resample a space-time one
            old_grid = _space_time_grid(old.shape[1] - 1, video_source, model)
            if old_grid is None:
                return None
            return resize_pos_embed_3d(old, old_grid, model.pos_grid, num_prefix_tokens=1, antialias=antialias)
        old_n = old.shape[1] - 1
        side = math.isqrt(old_n)
        if side * side != old_n:
            return None
        return resize_pos_embed(old, (side, side), tuple(model.grid), num_prefix_tokens=1, antialias=antialias)
    if key.endswith(("rel_pos_h", "rel_pos_w")) and old.shape[-1] == want.shape[-1]:
        return resize_rel_pos(old, want.shape[0])
    return None


def _fit_patch_embed(old: torch.Tensor, want: torch.Tensor, inflation: str) -> torch.Tensor | None:
    """Patch size (FlexiViT pseudo-inverse resize, so token embeddings of resized patches are preserved) and,
    for a video model, tubelet: an image kernel is inflated; a video kernel of another tubelet is summed over
    time first (the same response to a still clip)."""
    def resize(w4: torch.Tensor) -> torch.Tensor:
        if w4.shape[-2:] == want.shape[-2:]:
            return w4
        return resample_patch_embed(w4.float(), list(want.shape[-2:])).to(w4.dtype)

    if want.ndim == 4:
        return resize(old) if old.ndim == 4 else None
    if old.ndim == 5 and old.shape[2] == want.shape[2]:
        return torch.stack([resize(old[:, :, i]) for i in range(old.shape[2])], dim=2)
    image = old if old.ndim == 4 else old.sum(2)
    return inflate_patch_embed(resize(image), want.shape[2], inflation)


def _space_time_grid(n: int, video_source: bool, model) -> tuple | None:
    """(t, h, w) of a checkpoint's position table of ``n`` patch entries, for loading into a video model.

    An image checkpoint (4-D patch kernel) stores a square (1, s, s) table. A video table is read with the
    model's spatial grid (another frame count, EVA's 8 -> 16 step) or, failing that, with the model's frame
    count and a square grid (another size). The table does not record its grid, so changing both at once is
    ambiguous (8 x 16 x 16 entries also factor as 2 x 32 x 32): resample in two steps, frames first
    (``eva convert --frames`` at the old size), then size.
    """
    if not video_source:
        side = math.isqrt(n)
        return (1, side, side) if side * side == n else None
    (t, h, w) = model.pos_grid
    if n % (h * w) == 0:
        return (n // (h * w), h, w)
    side = math.isqrt(n // t) if n % t == 0 else 0
    return (t, side, side) if side and side * side * t == n else None


def _is_sincos(table) -> bool:
    """Whether a ``[1, prefix + h * w, D]`` table is MAE's fixed sin-cos one (a square grid)."""
    from ..layers import sincos_pos_embed

    dim = table.shape[-1]
    for prefix in (1, 0):
        side = int(round((table.shape[1] - prefix) ** 0.5))
        if side * side == table.shape[1] - prefix and dim % 4 == 0:
            fixed = sincos_pos_embed((side, side), dim, num_prefix_tokens=prefix)
            atol = 1e-4 if table.dtype in (torch.float32, torch.float64) else 1e-2  # fp16 / bf16 files round it
            if torch.allclose(table.float()[:, prefix:], fixed[:, prefix:], atol=atol):
                return True
    return False
