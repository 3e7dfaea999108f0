"""Transformer blocks. Variants differ only by the sub-layers they are given."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import nn

from .attention import Attention
from .window import window_partition, window_unpartition

Rope = Optional[Tuple[torch.Tensor, torch.Tensor]]


class Block(nn.Module):
    """Pre-norm block: ``x + ls1(attn(norm1(x)))`` then ``x + ls2(mlp(norm2(x)))``, with drop path.

    Args:
        norm1, attn, norm2, mlp: the sub-layers.
        ls1, ls2: layer scale (``timm.layers.LayerScale``) or ``nn.Identity``.
        drop_path: stochastic depth module (``timm.layers.DropPath``) or ``nn.Identity``.
        window_size: > 0 makes attention local to non-overlapping windows (ViTDet); 0 is global attention.
    """

    def __init__(self, norm1: nn.Module, attn: Attention, norm2: nn.Module, mlp: nn.Module,
                 ls1: Optional[nn.Module] = None, ls2: Optional[nn.Module] = None,
                 drop_path: Optional[nn.Module] = None, window_size: int = 0):
        super().__init__()
        self.norm1 = norm1
        self.attn = attn
        self.ls1 = ls1 if ls1 is not None else nn.Identity()
        self.norm2 = norm2
        self.mlp = mlp
        self.ls2 = ls2 if ls2 is not None else nn.Identity()
        self.drop_path = drop_path if drop_path is not None else nn.Identity()
        self.window_size = window_size

    def mix(self, x: torch.Tensor, grid: Tuple[int, int], rope: Rope) -> torch.Tensor:
        """Token mixing: global attention, or attention inside windows of the ``grid`` raster."""
        if not self.window_size:
            return self.attn(x, grid, rope)
        b, n, c = x.shape
        windows, padded = window_partition(x.view(b, grid[0], grid[1], c), self.window_size)
        windows = self.attn(windows, (self.window_size, self.window_size), rope)
        return window_unpartition(windows, self.window_size, padded, grid).view(b, n, c)

    def forward(self, x: torch.Tensor, grid: Tuple[int, int], rope: Rope = None) -> torch.Tensor:
        """``x`` ``[B, N, C]`` -> ``[B, N, C]``; ``rope`` matches the attention grid (window or full)."""
        x = x + self.drop_path(self.ls1(self.mix(self.norm1(x), grid, rope)))
        return x + self.drop_path(self.ls2(self.mlp(self.norm2(x))))


class PostNormBlock(Block):
    """Residual post-norm block (EVA-02-E): ``x + norm1(attn(x))`` then ``x + norm2(mlp(x))``."""

    def forward(self, x: torch.Tensor, grid: Tuple[int, int], rope: Rope = None) -> torch.Tensor:
        x = x + self.drop_path(self.ls1(self.norm1(self.mix(x, grid, rope))))
        return x + self.drop_path(self.ls2(self.norm2(self.mlp(x))))
