"""The one layer-wise learning-rate decay rule, shared by cls fine-tuning, detectron2 and mm optimizers."""
from __future__ import annotations

import re
from typing import Callable, Dict, Iterable, List, Optional

from torch import nn

_EMBED = re.compile(r"^(cls_token|pos_embed|mask_token|patch_embed|rope)(\.|$)")
_BLOCK = re.compile(r"^blocks\.(\d+)\.")
# Name segments torch's wrappers insert (FSDP, activation-checkpoint wrapper, torch.compile).
_WRAPPER_SEGMENTS = re.compile(r"(_fsdp_wrapped_module|_checkpoint_wrapped_module|_orig_mod)\.")


def clean_param_name(name: str) -> str:
    """``name`` without the segments torch's module wrappers insert (``_fsdp_wrapped_module.`` etc.)."""
    return _WRAPPER_SEGMENTS.sub("", name)


def get_layer_id(name: str, depth: int) -> int:
    """Layer id of a backbone parameter: embeddings 0, ``blocks.<i>`` -> i + 1, everything else depth + 1.

    Args:
        name: parameter name relative to the backbone (prefixes like ``backbone.net.`` must be stripped).
        depth: number of blocks.
    """
    if _EMBED.match(name):
        return 0
    m = _BLOCK.match(name)
    if m:
        return int(m.group(1)) + 1
    return depth + 1


def get_lr_scale(name: str, depth: int, decay: float) -> float:
    """Multiplier ``decay ** (depth + 1 - layer_id)`` of the base learning rate."""
    return decay ** (depth + 1 - get_layer_id(name, depth))


def is_no_decay(name: str, param: nn.Parameter, skip: Iterable[str] = (), ndim: Optional[int] = None) -> bool:
    """No weight decay for 1-D tensors (biases, norms, layer scale) and position / class / mask tokens.

    Args:
        ndim: the parameter's original number of dimensions where a wrapper has flattened it (FSDP).
    """
    return (param.ndim if ndim is None else ndim) <= 1 or name.endswith(".bias") or name in set(skip) or \
        name.split(".")[-1] in {"pos_embed", "cls_token", "mask_token"}


def param_groups_layer_decay(model: nn.Module, weight_decay: float = 0.05, layer_decay: float = 0.75,
                             depth: Optional[int] = None, prefix: str = "",
                             skip: Iterable[str] = (),
                             ndim_of: Optional[Callable[[nn.Parameter], int]] = None) -> List[Dict]:
    """Optimizer parameter groups with ``lr_scale`` and weight decay per (layer, decay) pair.

    Args:
        model: the module holding the backbone (its parameters may carry ``prefix``).
        weight_decay: decay for weight matrices.
        layer_decay: per-layer lr multiplier; 1.0 disables decay.
        depth: number of blocks (defaults to ``model.depth``).
        prefix: name prefix of backbone parameters (e.g. ``"backbone."``); others get layer depth + 1.
        skip: extra names without weight decay.
        ndim_of: original ``ndim`` of a parameter, for wrappers that flatten parameters (FSDP shards); names
            are always read without wrapper segments (:func:`clean_param_name`).

    Returns:
        A list of ``{"params", "weight_decay", "lr_scale", "layer_id"}`` dicts; schedulers multiply the lr by
        ``lr_scale``.
    """
    depth = depth if depth is not None else model.depth
    groups: Dict[tuple, Dict] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        name = clean_param_name(name)
        rel = name[len(prefix):] if prefix and name.startswith(prefix) else name
        layer = get_layer_id(rel, depth) if (not prefix or name.startswith(prefix)) else depth + 1
        wd = 0.0 if is_no_decay(rel, param, skip, ndim_of(param) if ndim_of else None) else weight_decay
        key = (layer, wd)
        if key not in groups:
            groups[key] = dict(params=[], weight_decay=wd, layer_id=layer,
                               lr_scale=layer_decay ** (depth + 1 - layer))
        groups[key]["params"].append(param)
    return [groups[k] for k in sorted(groups)]
