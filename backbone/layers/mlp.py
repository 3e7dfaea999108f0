"""Feed-forward layers: GELU MLP (EVA-01, EVA-02-E) and SwiGLU with optional sub-LN (EVA-02)."""
from __future__ import annotations

from typing import Callable, Optional

from timm.layers import GluMlp, Mlp
from torch import nn


def build_mlp(dim: int, hidden_dim: int, kind: str = "gelu", norm_layer: Optional[Callable] = None,
              drop: float = 0.0) -> nn.Module:
    """Create the block's MLP from timm's layers.

    Args:
        dim: token width.
        hidden_dim: hidden width (for SwiGLU: the width of each of the gate and value halves).
        kind: ``"gelu"`` (fc1 -> GELU -> fc2) or ``"swiglu"`` (packed fc1 = [gate; value],
            ``silu(gate) * value`` -> fc2).
        norm_layer: sub-LN applied on the hidden activations before ``fc2`` (EVA-02 B/L, normformer style).
        drop: dropout after activation and after fc2.

    Returns:
        A module mapping ``[..., dim]`` to ``[..., dim]`` with parameters ``fc1``, ``[norm]``, ``fc2``.
    """
    if kind == "gelu":
        return Mlp(dim, hidden_dim, act_layer=nn.GELU, norm_layer=norm_layer, drop=drop)
    if kind == "swiglu":
        return GluMlp(dim, 2 * hidden_dim, act_layer=nn.SiLU, gate_last=False, norm_layer=norm_layer, drop=drop)
    raise ValueError(f"unknown mlp kind {kind!r}; expected 'gelu' or 'swiglu'")
