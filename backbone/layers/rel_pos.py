"""Decomposed relative position bias (MViTv2 / ViTDet), as an additive attention bias for SDPA."""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F


def resize_rel_pos(table: torch.Tensor, length: int) -> torch.Tensor:
    """Linearly resample a ``[L, C]`` relative-position table to ``[length, C]`` (replaces scipy interp2d)."""
    if table.shape[0] == length:
        return table
    out = F.interpolate(table.t().unsqueeze(0).float(), size=length, mode="linear")
    return out.squeeze(0).t().to(table.dtype)


def gather_rel_pos(q_size: int, k_size: int, table: torch.Tensor) -> torch.Tensor:
    """Relative embeddings for every (query, key) pair along one axis: ``[q_size, k_size, C]``.

    When query and key lengths differ, coordinates are scaled to the longer one.
    """
    table = resize_rel_pos(table, 2 * max(q_size, k_size) - 1)
    q_scale, k_scale = max(k_size / q_size, 1.0), max(q_size / k_size, 1.0)
    q_coords = torch.arange(q_size, device=table.device)[:, None] * q_scale
    k_coords = torch.arange(k_size, device=table.device)[None, :] * k_scale
    index = (q_coords - k_coords) + (k_size - 1) * k_scale
    return table[index.long()]


def decomposed_rel_pos_bias(q: torch.Tensor, table_h: torch.Tensor, table_w: torch.Tensor,
                            q_grid: Tuple[int, int], k_grid: Tuple[int, int]) -> torch.Tensor:
    """Attention bias ``[B, heads, Nq, Nk]`` from queries ``q`` ``[B, heads, Nq, C]`` (before scaling).

    Args:
        q: queries on a ``q_grid`` raster.
        table_h: ``[2 * S_h - 1, C]`` relative table along rows.
        table_w: ``[2 * S_w - 1, C]`` relative table along columns.
        q_grid: (h, w) of the queries.
        k_grid: (h, w) of the keys.
    """
    (qh, qw), (kh, kw) = q_grid, k_grid
    rel_h = gather_rel_pos(qh, kh, table_h)
    rel_w = gather_rel_pos(qw, kw, table_w)
    b, heads, _, c = q.shape
    r_q = q.reshape(b, heads, qh, qw, c)
    bias_h = torch.einsum("bnhwc,hkc->bnhwk", r_q, rel_h.to(q.dtype))
    bias_w = torch.einsum("bnhwc,wkc->bnhwk", r_q, rel_w.to(q.dtype))
    bias = bias_h[..., :, None] + bias_w[..., None, :]
    return bias.reshape(b, heads, qh * qw, kh * kw)
