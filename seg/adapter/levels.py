"""The token layout deformable attention reads: several feature maps flattened row-major and concatenated."""
from __future__ import annotations

from typing import List, Sequence, Tuple

import torch


class Levels:
    """Feature maps of shapes ``[(h_0, w_0), (h_1, w_1), ...]`` stored as one ``[B, sum(h_l * w_l), C]`` sequence.

    Args:
        shapes: ``(h, w)`` of each level, in sequence order.
        device: where the index tensors live.
    """

    def __init__(self, shapes: Sequence[Tuple[int, int]], device=None):
        self.shapes = [tuple(int(v) for v in s) for s in shapes]
        self.sizes = [h * w for h, w in self.shapes]
        #: ``[L, 2]`` long: mmcv's ``spatial_shapes``.
        self.spatial_shapes = torch.tensor(self.shapes, dtype=torch.long, device=device)
        #: ``[L]`` long: offset of each level in the sequence (mmcv's ``level_start_index``).
        self.start_index = torch.tensor([0] + self.sizes[:-1], dtype=torch.long, device=device).cumsum(0)

    def __len__(self) -> int:
        return len(self.shapes)

    @property
    def num_tokens(self) -> int:
        return sum(self.sizes)

    def reference_points(self, dtype=torch.float32) -> torch.Tensor:
        """Centre of every token as normalised ``(x, y)`` in ``(0, 1)``: ``[1, N, 1, 2]``.

        The singleton level axis broadcasts over the levels a query reads, so a query samples each level at the
        same relative position of the image.

        Args:
            dtype: floating dtype of the result.
        """
        device = self.spatial_shapes.device
        points = []
        for h, w in self.shapes:
            y = (torch.arange(h, device=device, dtype=dtype) + 0.5) / h
            x = (torch.arange(w, device=device, dtype=dtype) + 0.5) / w
            yy, xx = torch.meshgrid(y, x, indexing="ij")
            points.append(torch.stack((xx.reshape(-1), yy.reshape(-1)), -1))
        return torch.cat(points)[None, :, None]

    def split_maps(self, tokens: torch.Tensor) -> List[torch.Tensor]:
        """Split a sequence back into maps.

        Args:
            tokens: ``[B, N, C]`` laid out as these levels.

        Returns:
            One ``[B, C, h_l, w_l]`` map per level.
        """
        if tokens.shape[1] != self.num_tokens:
            raise ValueError(f"expected {self.num_tokens} tokens for levels {self.shapes}, got {tokens.shape[1]}")
        return [t.transpose(1, 2).reshape(t.shape[0], t.shape[2], h, w)
                for t, (h, w) in zip(tokens.split(self.sizes, dim=1), self.shapes)]

    @staticmethod
    def flatten(maps: Sequence[torch.Tensor]) -> torch.Tensor:
        """Concatenate maps into one sequence.

        Args:
            maps: one ``[B, C, h_l, w_l]`` map per level.

        Returns:
            ``[B, sum(h_l * w_l), C]``, row-major within each level.
        """
        return torch.cat([m.flatten(2).transpose(1, 2) for m in maps], dim=1)
