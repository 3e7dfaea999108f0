"""Absolute position embeddings: the one resampler used everywhere, and MAE-style fixed sin-cos tables."""
from __future__ import annotations

from typing import Tuple

import torch
from timm.layers import resample_abs_pos_embed

Grid = Tuple[int, int]


def resize_pos_embed(
        pos_embed: torch.Tensor,
        old_grid: Grid,
        new_grid: Grid,
        num_prefix_tokens: int = 1,
        mode: str = "bicubic",
        antialias: bool = True,
) -> torch.Tensor:
    """Resample a learned position embedding onto another patch grid.

    Used at run time by the model (any input size) and by the checkpoint converters, so both agree.

    Args:
        pos_embed: ``[1, num_prefix_tokens + old_h * old_w, C]``.
        old_grid: (h, w) grid the table was trained on.
        new_grid: (h, w) target grid.
        num_prefix_tokens: leading entries (class token) copied unchanged.
        mode: interpolation mode of ``F.interpolate``.
        antialias: anti-alias when shrinking.

    Returns:
        ``[1, num_prefix_tokens + new_h * new_w, C]``.
    """
    expected = num_prefix_tokens + old_grid[0] * old_grid[1]
    if pos_embed.shape[1] != expected:
        raise ValueError(f"pos_embed has {pos_embed.shape[1]} entries, expected {expected} for grid {tuple(old_grid)}"
                         f" with {num_prefix_tokens} prefix token(s)")
    if tuple(old_grid) == tuple(new_grid):
        return pos_embed
    return resample_abs_pos_embed(pos_embed, new_size=list(new_grid), old_size=list(old_grid),
                                  num_prefix_tokens=num_prefix_tokens, interpolation=mode, antialias=antialias)


def sincos_pos_embed(grid: Grid, dim: int, num_prefix_tokens: int = 1, temperature: float = 10000.0,
                     device=None) -> torch.Tensor:
    """Fixed 2D sin-cos table in MAE's layout: first half of channels encodes the column, second the row.

    Returns:
        ``[1, num_prefix_tokens + h * w, dim]`` with zeros for the prefix tokens.
    """
    if dim % 4:
        raise ValueError(f"sin-cos position embedding needs dim divisible by 4, got {dim}")
    h, w = grid
    omega = 1.0 / temperature ** (torch.arange(dim // 4, device=device, dtype=torch.float64) / (dim // 4))
    rows, cols = torch.meshgrid(torch.arange(h, device=device, dtype=torch.float64),
                                torch.arange(w, device=device, dtype=torch.float64), indexing="ij")

    def encode(pos: torch.Tensor) -> torch.Tensor:
        out = pos.reshape(-1, 1) * omega
        return torch.cat([out.sin(), out.cos()], dim=1)

    table = torch.cat([encode(cols), encode(rows)], dim=1).float()
    prefix = table.new_zeros(num_prefix_tokens, dim)
    return torch.cat([prefix, table], dim=0).unsqueeze(0)
