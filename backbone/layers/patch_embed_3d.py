"""Space-time patch embedding for video: one token per ``tubelet x patch x patch`` cube (a Conv3d)."""
from __future__ import annotations

import math
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn


class PatchEmbed3D(nn.Module):
    """Clips ``[B, C, T, H, W]`` -> tokens ``[B, t, h, w, D]`` with ``t = ceil(T / tubelet)``, ``h = ceil(H / p)``.

    The parameter keeps the image model's name (``proj.weight``, now ``[D, C, tubelet, p, p]``), so checkpoint
    converters inflate an image embedding into it (see :func:`inflate_patch_embed`). A clip whose size is not a
    multiple of the patch is zero-padded at the bottom and right, like an image; a frame count that is not a
    multiple of the tubelet is completed by repeating the last frame.

    Args:
        patch_size: spatial side of a patch.
        tubelet_size: frames per token (1: every frame is embedded on its own, EVA's default).
        in_chans: input channels.
        embed_dim: token width.
        inflation: ``"average"`` or ``"central"``, see :func:`inflate_patch_embed`.
    """

    def __init__(self, patch_size: int = 16, tubelet_size: int = 1, in_chans: int = 3, embed_dim: int = 768,
                 inflation: str = "average"):
        super().__init__()
        if tubelet_size < 1 or patch_size < 1:
            raise ValueError(f"patch_size and tubelet_size must be >= 1, got {patch_size}, {tubelet_size}")
        if inflation not in INFLATIONS:
            raise ValueError(f"inflation must be one of {INFLATIONS}, got {inflation!r}")
        self.patch_size = patch_size
        self.tubelet_size = tubelet_size
        #: how an image kernel is spread over the tubelet when a checkpoint is inflated into this layer.
        self.inflation = inflation
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=(tubelet_size, patch_size, patch_size),
                              stride=(tubelet_size, patch_size, patch_size))

    def grid(self, thw: Tuple[int, int, int]) -> Tuple[int, int, int]:
        """Token grid ``(t, h, w)`` for a clip of ``thw`` = (frames, height, width)."""
        return (math.ceil(thw[0] / self.tubelet_size), math.ceil(thw[1] / self.patch_size),
                math.ceil(thw[2] / self.patch_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 5:
            raise ValueError(f"video patch embedding expects clips [B, C, T, H, W], got shape {tuple(x.shape)}")
        t, h, w = self.grid(tuple(x.shape[2:]))
        pad_t = t * self.tubelet_size - x.shape[2]
        if pad_t:  # repeat the last frame: a zero frame would look like motion (and hide the frame from a
            x = torch.cat((x, x[:, :, -1:].expand(-1, -1, pad_t, -1, -1)), dim=2)  # central-inflated kernel)
        pad = (0, w * self.patch_size - x.shape[4], 0, h * self.patch_size - x.shape[3])
        if any(pad):
            x = F.pad(x, pad)
        return self.proj(x).permute(0, 2, 3, 4, 1)


INFLATIONS = ("average", "central")


def inflate_patch_embed(weight: torch.Tensor, tubelet_size: int, mode: str = "average") -> torch.Tensor:
    """Image patch embedding ``[D, C, p, p]`` -> video ``[D, C, tubelet, p, p]``.

    ``"average"`` gives each frame of a tubelet ``weight / tubelet`` (I3D); ``"central"`` puts ``weight`` on the
    middle frame and zeros on the others (ViViT's central-frame initialisation: each token starts as the image
    embedding of its middle frame, and the other frames' weights are learned from zero rather than from equal
    shares that cancel any change within the tubelet). Either way the kernel sums to ``weight`` over time, so a
    clip of identical frames embeds exactly as the image does; with ``tubelet_size=1`` both are the image kernel.
    """
    if weight.ndim != 4:
        raise ValueError(f"expected an image patch embedding [D, C, p, p], got {tuple(weight.shape)}")
    if mode == "average":
        return weight.unsqueeze(2).repeat(1, 1, tubelet_size, 1, 1) / tubelet_size
    if mode == "central":
        out = weight.new_zeros(*weight.shape[:2], tubelet_size, *weight.shape[2:])
        out[:, :, tubelet_size // 2] = weight
        return out
    raise ValueError(f"inflation must be one of {INFLATIONS}, got {mode!r}")
