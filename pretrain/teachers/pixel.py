"""Pixel targets (MAE-style normalised patch pixels), the no-teacher baseline for ablations."""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F

from .base import Teacher


class PixelTeacher(Teacher):
    """Each student patch's pixels, normalised by the patch's own mean and std.

    Args:
        patch_size: pixels per patch side after resizing the image to ``grid * patch_size``.
    """

    def __init__(self, patch_size: int = 16):
        super().__init__(3 * patch_size * patch_size, (0, 0))
        self.patch_size = patch_size
        self.freeze()

    @torch.no_grad()
    def forward(self, images: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
        p = self.patch_size
        x = F.interpolate(images.float(), size=(grid[0] * p, grid[1] * p), mode="bilinear", align_corners=False,
                          antialias=True)
        patches = F.unfold(x, kernel_size=p, stride=p).transpose(1, 2)  # [B, N, 3 * p * p]
        mean, var = patches.mean(-1, keepdim=True), patches.var(-1, keepdim=True)
        return (patches - mean) / (var + 1e-6).sqrt()
