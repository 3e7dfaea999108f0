"""detectron2's ``lr_factor_func`` from the backbone's one layer-decay rule."""
from __future__ import annotations

from eva.backbone import get_lr_scale


def eva_lr_factor(name: str, lr_decay_rate: float = 1.0, num_layers: int = 12, prefix: str = "backbone.net.") -> float:
    """Learning-rate multiplier of detector parameter ``name`` (for ``get_default_optimizer_params``).

    Backbone parameters (under ``prefix``) follow :func:`eva.backbone.get_lr_scale`: embeddings
    ``decay ** (depth + 1)``, block ``i`` ``decay ** (depth - i)``; the feature pyramid and heads train at the
    base lr. This is the same assignment as detectron2's ``get_vit_lr_decay_rate`` (tested).

    Args:
        name: the parameter's name in the detector, e.g. ``"backbone.net.blocks.3.attn.qkv.weight"``.
        lr_decay_rate: decay per block (1.0: none).
        num_layers: the backbone's depth.
        prefix: where the backbone's parameters live in the detector.
    """
    if not name.startswith(prefix):
        return 1.0
    return get_lr_scale(name[len(prefix):], num_layers, lr_decay_rate)
