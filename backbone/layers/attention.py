"""Multi-head self-attention of the EVA family: one fused qkv projection, SDPA by default."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .rel_pos import decomposed_rel_pos_bias
from .rope import apply_rope

QKV_BIAS_MODES = ("qv", "qkv", "none")


class Attention(nn.Module):
    """Self-attention with a fused qkv projection.

    EVA checkpoints that store separate q/k/v projections are fused by the converters at load time (one GEMM
    instead of three, identical math).

    Args:
        dim: token width.
        num_heads: attention heads.
        qkv_bias: ``"qv"`` (BEiT/EVA: learned q and v biases, k bias fixed at zero), ``"qkv"`` (MAE-style
            full bias) or ``"none"``.
        inner_norm: optional norm on the attention output before ``proj`` (EVA-CLIP's ``inner_attn_ln``).
        rel_pos_grid: (h, w) attention grid for decomposed relative-position tables; ``None`` disables them.
        attn_drop: dropout on attention probabilities (training only).
        proj_drop: dropout after ``proj``.
    """

    def __init__(
            self,
            dim: int,
            num_heads: int,
            qkv_bias: str = "qv",
            inner_norm: Optional[nn.Module] = None,
            rel_pos_grid: Optional[Tuple[int, int]] = None,
            attn_drop: float = 0.0,
            proj_drop: float = 0.0,
    ):
        super().__init__()
        if qkv_bias not in QKV_BIAS_MODES:
            raise ValueError(f"qkv_bias must be one of {QKV_BIAS_MODES}, got {qkv_bias!r}")
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias == "qkv")
        if qkv_bias == "qv":
            self.q_bias = nn.Parameter(torch.zeros(dim))
            self.v_bias = nn.Parameter(torch.zeros(dim))
        else:
            self.q_bias = self.v_bias = None
        if rel_pos_grid is not None:
            self.rel_pos_h = nn.Parameter(torch.zeros(2 * rel_pos_grid[0] - 1, self.head_dim))
            self.rel_pos_w = nn.Parameter(torch.zeros(2 * rel_pos_grid[1] - 1, self.head_dim))
        else:
            self.rel_pos_h = self.rel_pos_w = None
        self.attn_drop = attn_drop
        self.norm = inner_norm if inner_norm is not None else nn.Identity()
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.fused_attn = True  # F.scaled_dot_product_attention; False -> explicit softmax(QK^T)V

    def _qkv_bias(self) -> Optional[torch.Tensor]:
        if self.q_bias is None:
            return self.qkv.bias
        return torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))

    @torch.no_grad()
    def fold_qkv_bias_(self) -> "Attention":
        """Move learned q/v biases into ``qkv.bias``, making ``qkv`` a plain ``nn.Linear`` that can be swapped
        (FP8 inference of a frozen model). The function is unchanged; ``state_dict`` keys change
        (``q_bias``/``v_bias`` -> ``qkv.bias``), so fold only models that are not saved as checkpoints."""
        if self.q_bias is not None:
            bias = self._qkv_bias()
            self.q_bias = self.v_bias = None
            self.qkv.bias = nn.Parameter(bias, requires_grad=self.qkv.weight.requires_grad)
        return self

    def forward(
            self,
            x: torch.Tensor,
            grid: Optional[Tuple[int, int]] = None,
            rope: Optional[Tuple[torch.Tensor, torch.Tensor]] = None,
    ) -> torch.Tensor:
        """Attend over tokens ``x`` ``[B, N, C]``.

        Args:
            x: tokens; any leading prefix tokens (class token) come before the ``grid`` raster tokens.
            grid: (h, w) raster of the non-prefix tokens; needed for relative positions.
            rope: ``(cos, sin)`` ``[N, head_dim]`` rotating every token's query and key (identity rows for
                prefix tokens, see :class:`~eva.backbone.layers.RotaryEmbedding2D`).

        Returns:
            ``[B, N, C]``.
        """
        b, n, c = x.shape
        qkv = self.qkv(x) if self.q_bias is None else F.linear(x, self.qkv.weight, self._qkv_bias())
        qkv = qkv.view(b, n, 3, self.num_heads, self.head_dim)
        if rope is not None:
            cos, sin = rope
            if cos.shape[0] != n:
                raise ValueError(f"RoPE tables cover {cos.shape[0]} tokens but attention sees {n}")
            # queries and keys rotated together, in one pass; values untouched. `split` (not indexing) keeps the
            # backward to one concatenation instead of zero-filled full-size gradients per index
            qk, v = qkv.split((2, 1), dim=2)
            qk = apply_rope(qk, cos[:, None, None], sin[:, None, None])
            q, k = qk.permute(2, 0, 3, 1, 4).unbind(0)
            v = v.squeeze(2).transpose(1, 2)
        else:
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        bias = None
        if self.rel_pos_h is not None:
            if grid is None or grid[0] * grid[1] != n:
                raise ValueError("relative position bias needs the token grid and no prefix tokens")
            bias = decomposed_rel_pos_bias(q, self.rel_pos_h, self.rel_pos_w, grid, grid)
        dropout = self.attn_drop if self.training else 0.0
        if self.fused_attn:
            x = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout)
        else:
            attn = (q * self.scale) @ k.transpose(-2, -1)
            if bias is not None:
                attn = attn + bias
            attn = F.dropout(attn.softmax(dim=-1), p=dropout)
            x = attn @ v
        x = x.transpose(1, 2).reshape(b, n, c)
        return self.proj_drop(self.proj(self.norm(x)))
