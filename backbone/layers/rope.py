"""2D axial rotary position embedding (RoPE) as used by EVA-02.

Tables are computed from the grid the attention actually sees (the full feature grid, or a window) and the
positions are rescaled onto the pre-training grid, as EVA-02 does when fine-tuning at another resolution.
Nothing here is a parameter or a persistent buffer: checkpoints never carry RoPE tables.
"""
from __future__ import annotations

from typing import Dict, Tuple

import torch
from torch import nn

Grid = Tuple[int, int]


class RotaryEmbedding2D(nn.Module):
    """Builds (cos, sin) tables for 2D axial RoPE in the interleaved ("rotate every pair") layout.

    Half of the head channels encode the row, half the column; each axis uses ``head_dim // 4`` frequencies
    ``1 / temperature ** (i / (head_dim // 4))``. Row ``r`` of an ``h``-row grid sits at ``r / h * ref_h``.

    Args:
        head_dim: channels per attention head; must be a multiple of 4.
        ref_grid: (h, w) patch grid of pre-training, onto which positions are rescaled.
        temperature: frequency base.
        max_cached: number of distinct (grid, device, dtype) tables kept.
    """

    def __init__(self, head_dim: int, ref_grid: Grid, temperature: float = 10000.0, max_cached: int = 8):
        super().__init__()
        if head_dim % 4:
            raise ValueError(f"2D RoPE needs head_dim divisible by 4, got {head_dim}")
        self.head_dim = head_dim
        self.ref_grid = tuple(int(g) for g in ref_grid)
        self.temperature = float(temperature)
        self.max_cached = max_cached
        self._cache: Dict[tuple, Tuple[torch.Tensor, torch.Tensor]] = {}

    def extra_repr(self) -> str:
        return f"head_dim={self.head_dim}, ref_grid={self.ref_grid}, temperature={self.temperature}"

    def forward(self, grid: Tuple[int, ...], device: torch.device | None = None,
                num_prefix_tokens: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return ``(cos, sin)``, each ``[num_prefix_tokens + (t *) grid_h * grid_w, head_dim]`` float32.

        Rows follow the token order: prefix tokens (class token) first with the identity rotation (cos 1,
        sin 0), so attention rotates all tokens in one pass, then the grid row-major. A video grid
        ``(t, h, w)`` repeats the spatial rows for each of the ``t`` frames (time-major tokens): EVA's video
        model keeps the image RoPE per frame and learns time through its space-time position table.
        """
        device = torch.device(device) if device is not None else torch.device("cpu")
        frames, h, w = (1, *grid) if len(grid) == 2 else grid
        key = (int(h), int(w), int(num_prefix_tokens), int(frames), device.type, device.index)
        table = self._cache.get(key)
        if table is None:
            if torch.compiler.is_compiling():  # traced into the graph; the eager cache is not touched
                return self._build(key[:2], device, key[2], key[3])
            with torch.inference_mode(False), torch.no_grad():  # cached tables must serve training too
                table = self._build(key[:2], device, key[2], key[3])
            if len(self._cache) >= self.max_cached:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = table
        return table

    def _build(self, grid: Grid, device, num_prefix_tokens: int = 0,
               frames: int = 1) -> Tuple[torch.Tensor, torch.Tensor]:
        h, w = grid
        num_bands = self.head_dim // 4
        exponent = torch.arange(num_bands, device=device, dtype=torch.float32) / num_bands
        bands = self.temperature ** -exponent
        pos_h = torch.arange(h, device=device, dtype=torch.float32) / h * self.ref_grid[0]
        pos_w = torch.arange(w, device=device, dtype=torch.float32) / w * self.ref_grid[1]
        ang_h = (pos_h[:, None] * bands)[:, None, :].expand(h, w, num_bands)
        ang_w = (pos_w[:, None] * bands)[None, :, :].expand(h, w, num_bands)
        angles = torch.cat([ang_h, ang_w], dim=-1).reshape(h * w, 2 * num_bands)
        angles = angles.repeat_interleave(2, dim=-1).repeat(frames, 1)
        angles = torch.cat((angles.new_zeros(num_prefix_tokens, angles.shape[1]), angles))
        return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate channel pairs ``(x[2i], x[2i+1])`` of ``x`` ``[..., head_dim]`` by the table angles.

    ``cos`` and ``sin`` broadcast against ``x`` (``[N, head_dim]`` for ``x`` ``[..., N, head_dim]``; attention
    passes ``[N, 1, 1, head_dim]`` to rotate queries and keys ``[B, N, 2, heads, head_dim]`` together).
    Computed in the tables' precision (float32), returned in ``x``'s dtype.
    """
    pairs = x.unflatten(-1, (-1, 2))
    rotated = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)
    return torch.addcmul(x * cos, rotated, sin).to(x.dtype)
