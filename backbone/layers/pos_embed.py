"""Absolute position embeddings: the one resampler used everywhere, and MAE-style fixed sin-cos tables."""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F
from timm.layers import resample_abs_pos_embed

Grid = Tuple[int, int]
Grid3D = Tuple[int, int, int]


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


def resize_pos_embed_3d(
        pos_embed: torch.Tensor,
        old_grid: Grid3D,
        new_grid: Grid3D,
        num_prefix_tokens: int = 1,
        antialias: bool = True,
) -> torch.Tensor:
    """Resample a learned space-time position embedding (video) onto another ``(t, h, w)`` token grid.

    Time is resampled linearly (``align_corners=False``), so a one-frame (image) table is replicated over every
    frame: this is how an image table is inflated. Space goes through :func:`resize_pos_embed`, the same
    resampler the image model uses, so a video model and its image model see the same spatial table: linear in
    time (equal to trilinear interpolation when only the frame count changes), bicubic in space.

    Args:
        pos_embed: ``[1, num_prefix_tokens + old_t * old_h * old_w, C]``, time-major (frame by frame).
        old_grid: (t, h, w) grid of the table; ``t = 1`` for an image table.
        new_grid: (t, h, w) target grid.
        num_prefix_tokens: leading entries (class token) copied unchanged.
        antialias: anti-alias when shrinking in space.

    Returns:
        ``[1, num_prefix_tokens + new_t * new_h * new_w, C]``.
    """
    (ot, oh, ow), (nt, nh, nw) = tuple(old_grid), tuple(new_grid)
    expected = num_prefix_tokens + ot * oh * ow
    if pos_embed.shape[1] != expected:
        raise ValueError(f"pos_embed has {pos_embed.shape[1]} entries, expected {expected} for grid "
                         f"{tuple(old_grid)} with {num_prefix_tokens} prefix token(s)")
    if (ot, oh, ow) == (nt, nh, nw):
        return pos_embed
    prefix, table = pos_embed[:, :num_prefix_tokens], pos_embed[:, num_prefix_tokens:]
    c = table.shape[-1]
    if ot == 1:  # inflation: the same table for every frame (what linear interpolation gives, exactly)
        table = table.repeat(1, nt, 1)
    elif ot != nt:
        dtype = table.dtype
        table = table.reshape(1, ot, oh * ow * c).transpose(1, 2).float()  # [1, h*w*C, t]: resample along t
        table = F.interpolate(table, size=nt, mode="linear", align_corners=False)
        table = table.transpose(1, 2).reshape(1, nt * oh * ow, c).to(dtype)
    if (oh, ow) != (nh, nw):
        # frames side by side as channels: one 2D resample of a [1, h*w, t*C] table (channels are independent)
        table = table.reshape(nt, oh * ow, c).transpose(0, 1).reshape(1, oh * ow, nt * c)
        table = resize_pos_embed(table, (oh, ow), (nh, nw), num_prefix_tokens=0, antialias=antialias)
        table = table.reshape(nh * nw, nt, c).transpose(0, 1).reshape(1, nt * nh * nw, c)
    return torch.cat((prefix, table), dim=1)


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
