"""Checkpoint converters: pure functions over state dicts that return a :class:`LoadReport`."""
from __future__ import annotations

from typing import Dict, Tuple

import torch
from torch import nn

from .describe import describe_state_dict, match_variant
from .fit import fit_to_model
from .layouts import detect_source, native_to_timm, to_native, unwrap
from .report import CheckpointError, LoadReport, compare_keys

__all__ = ["convert_state_dict", "export_timm", "CheckpointError", "LoadReport", "detect_source",
           "compare_keys", "describe_state_dict", "match_variant", "to_native", "unwrap", "fit_to_model"]


def convert_state_dict(checkpoint, model: nn.Module) -> Tuple[Dict[str, torch.Tensor], LoadReport]:
    """Turn a checkpoint of any supported layout into ``model``'s native state dict.

    Detects the layout (BAAI EVA-01/EVA-02/EVA-CLIP releases, timm, ours), unwraps training containers,
    renames and fuses tensors, drops pre-training-only entries, resamples patch / position / relative-position
    tables to the model, and lists whatever still does not fit.

    Args:
        checkpoint: a state dict or a training checkpoint dict holding one.
        model: the target :class:`~eva.backbone.EVAViT`.

    Returns:
        ``(state_dict, report)``; check ``report.ok`` before a strict load.
    """
    report = LoadReport()
    sd = unwrap(checkpoint, report)
    report.source = detect_source(sd)
    sd = to_native(sd, report)
    native = dict(sd)  # as the checkpoint is, before resampling to the model: what the hint describes
    sd = fit_to_model(sd, model, report)
    if not report.ok:
        report.hint = report.hint or _hint(native, model, report)
    return sd, report


def export_timm(sd: Dict[str, torch.Tensor], model: nn.Module) -> Tuple[Dict[str, torch.Tensor], list]:
    """Native state dict of ``model`` -> timm ``Eva`` state dict (same variant name in timm)."""
    # timm keeps q/k/v and the SwiGLU halves as separate layers exactly for the sub-LN (EVA-02 B/L) models.
    split = bool(model.config.get("mlp_norm"))
    return native_to_timm(sd, split_qkv=split, split_fc1=split and model.config.get("mlp_type") == "swiglu")


def _hint(sd, model, report: LoadReport) -> str:
    ckpt = describe_state_dict(sd)
    mine = describe_state_dict(model.state_dict())
    if ckpt["width"] and (ckpt["width"], ckpt["depth"]) != (mine["width"], mine["depth"]):
        return (f"the checkpoint is a different variant ({ckpt['summary']}) than the model ({mine['summary']}); "
                f"create the matching model, e.g. {', '.join(ckpt['candidates']) or 'see list_models()'}")
    if any(k.startswith("head.") for k, *_ in report.mismatched):
        return ("classifier size differs: build the model with the checkpoint's num_classes, or drop the head "
                "(num_classes=0) and call reset_classifier(n) for a new task")
    return "build the model with the options the checkpoint was trained with (see eva.backbone.list_models())"
