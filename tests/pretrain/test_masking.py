import pytest
import torch

from eva.pretrain import DEFAULT_MASK_RATIO, BlockMaskGenerator


def _components(mask: torch.Tensor) -> int:
    seen, count = set(), 0
    h, w = mask.shape
    for i in range(h):
        for j in range(w):
            if mask[i, j] and (i, j) not in seen:
                count += 1
                stack = [(i, j)]
                while stack:
                    y, x = stack.pop()
                    if (y, x) in seen or not (0 <= y < h and 0 <= x < w) or not mask[y, x]:
                        continue
                    seen.add((y, x))
                    stack += [(y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)]
    return count


def test_default_is_105_of_256_and_exact():
    gen = BlockMaskGenerator((16, 16))
    assert gen.num_masked == 105 and DEFAULT_MASK_RATIO == pytest.approx(0.41, abs=0.01)
    masks = torch.stack([gen(torch.Generator().manual_seed(s)) for s in range(200)])
    assert (masks.flatten(1).sum(1) == 105).all()


def test_masks_are_blocks_not_scattered_patches():
    gen = BlockMaskGenerator((16, 16))
    comps = [_components(gen(torch.Generator().manual_seed(s))) for s in range(100)]
    # 105 patches in blocks of >= 16 patches: a few connected regions, never ~105 isolated patches
    assert sum(comps) / len(comps) < 8
    # every position gets masked sometimes (no positional bias left uncovered)
    cover = torch.stack([gen(torch.Generator().manual_seed(s)) for s in range(400)]).float().mean(0)
    assert cover.min() > 0.02 and cover.max() < 0.8  # corners are covered less (3% here), as in BEiT


def test_reproducible_from_seed():
    gen = BlockMaskGenerator((14, 14), mask_ratio=0.4)
    a, b = gen(torch.Generator().manual_seed(7)), gen(torch.Generator().manual_seed(7))
    c = gen(torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.sum() == round(0.4 * 196)


def test_single_blocks_respect_area_and_aspect_bounds():
    gen = BlockMaskGenerator((16, 16))
    aspects = []
    for s in range(200):
        mask = torch.zeros(16, 16, dtype=torch.bool)
        added = gen._place_block(mask, budget=105, g=torch.Generator().manual_seed(s))
        if not added:
            continue
        rows, cols = mask.any(1).nonzero(), mask.any(0).nonzero()
        bh, bw = len(rows), len(cols)
        assert bh * bw == added and 16 * 0.5 <= added <= 105 * 1.2  # one rectangle, area ~ [16, 105]
        aspects.append(bh / bw)
    assert len(aspects) > 150
    # log-uniform aspect in [0.3, 1/0.3], up to rounding of the sides
    assert min(aspects) >= 0.3 / 1.5 and max(aspects) <= 1.5 / 0.3
    assert min(aspects) < 0.6 and max(aspects) > 1.7  # elongated blocks in both directions do occur


def test_bad_ratio_is_a_clear_error():
    with pytest.raises(ValueError, match="masks 0 of"):
        BlockMaskGenerator((4, 4), mask_ratio=0.01)
