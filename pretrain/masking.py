"""BEiT block-wise masking on the patch grid, with an exact masked count (as EVA-02 keeps it)."""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch

#: EVA-02's default: 105 of the 256 patches at 224 / 14.
DEFAULT_MASK_RATIO = 105 / 256


class BlockMaskGenerator:
    """Masks rectangular blocks of patches until ``num_masked`` patches are masked.

    Each block's area is drawn between ``min_block`` and the patches still to mask (so the last blocks are smaller,
    as BEiT's generator), its aspect ratio log-uniform in ``[min_aspect, 1 / min_aspect]``. A block is placed only
    if it masks no more than the patches still to mask. When ten draws in a row fail, random single patches
    complete the count, so every sample of a batch has the same number of masked tokens.

    Args:
        grid: (h, w) patch grid.
        mask_ratio: fraction of patches to mask (``round(ratio * h * w)`` patches).
        min_block: smallest block area in patches.
        max_block: largest block area (default: the number to mask).
        min_aspect: smallest aspect ratio of a block.
    """

    def __init__(self, grid: Tuple[int, int], mask_ratio: float = DEFAULT_MASK_RATIO, min_block: int = 16,
                 max_block: Optional[int] = None, min_aspect: float = 0.3):
        self.grid = (int(grid[0]), int(grid[1]))
        self.num_patches = self.grid[0] * self.grid[1]
        self.num_masked = int(round(mask_ratio * self.num_patches))
        if not 0 < self.num_masked < self.num_patches:
            raise ValueError(f"mask_ratio {mask_ratio} masks {self.num_masked} of {self.num_patches} patches")
        self.min_block = min(min_block, self.num_masked)
        self.max_block = max_block or self.num_masked
        self.log_aspect = (math.log(min_aspect), math.log(1 / min_aspect))

    def __repr__(self) -> str:
        return (f"BlockMaskGenerator(grid={self.grid}, num_masked={self.num_masked}, min_block={self.min_block}, "
                f"aspect=[{math.exp(self.log_aspect[0]):.2f}, {math.exp(self.log_aspect[1]):.2f}])")

    def _place_block(self, mask: torch.Tensor, budget: int, g: torch.Generator) -> int:
        h, w = self.grid
        for _ in range(10):
            area = _uniform(self.min_block, budget, g)
            aspect = math.exp(_uniform(*self.log_aspect, g))
            bh = int(round(math.sqrt(area * aspect)))
            bw = int(round(math.sqrt(area / aspect)))
            if 0 < bh < h and 0 < bw < w:
                top = int(torch.randint(0, h - bh + 1, (1,), generator=g))
                left = int(torch.randint(0, w - bw + 1, (1,), generator=g))
                region = mask[top:top + bh, left:left + bw]
                new = int((~region).sum())
                if 0 < new <= budget:
                    region.fill_(True)
                    return new
        return 0

    def __call__(self, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """A boolean mask ``[h, w]`` with exactly ``num_masked`` True entries."""
        g = generator if generator is not None else torch.Generator().manual_seed(
            int(torch.randint(0, 2**31 - 1, (1,))))
        mask = torch.zeros(self.grid, dtype=torch.bool)
        count = 0
        while count < self.num_masked:
            budget = min(self.num_masked - count, self.max_block)
            added = self._place_block(mask, budget, g)
            if added == 0:
                break
            count += added
        flat = mask.view(-1)
        if count < self.num_masked:  # top up with random single patches
            free = (~flat).nonzero().squeeze(1)
            flat[free[torch.randperm(len(free), generator=g)[: self.num_masked - count]]] = True
        return mask


def _uniform(lo: float, hi: float, g: torch.Generator) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g))
