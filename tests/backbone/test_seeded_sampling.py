"""The seeded samplers and dataset behind exact resume (`eva.backbone.mm`): the same order and rank sharding as
mmengine's own samplers, any start position without drawing the ones before, and per-draw seeds that make a
random transform repeatable and distinct between draws."""
import itertools

import numpy as np
import pytest

pytest.importorskip("mmengine", reason="eva.backbone.mm needs mmengine (make setup installs it)")


@pytest.mark.parametrize("rank", [0, 2])
def test_seeded_infinite_sampler_is_mmengines_order_from_any_start(rank, monkeypatch):
    import mmengine.dataset.sampler as mm_sampler

    from eva.backbone.mm import SeededInfiniteSampler

    monkeypatch.setattr(mm_sampler, "get_dist_info", lambda: (rank, 3))
    data = list(range(7))  # not a multiple of the world size: draws cross the reshuffles
    peer = [i for i in itertools.islice(iter(mm_sampler.InfiniteSampler(data, seed=4)), 40)]
    ours = SeededInfiniteSampler(data, seed=4)
    keys = list(itertools.islice(iter(ours), 40))
    assert [i for _, i in keys] == peer
    assert [p for p, _ in keys] == [3 * k + rank for k in range(40)]  # draw numbers over all ranks
    ours.start = 25
    assert list(itertools.islice(iter(ours), 15)) == keys[25:]
    assert list(itertools.islice(iter(ours), 15)) == keys[25:]  # every pass starts at `start`


def test_seeded_dataset_repeats_a_draw_and_varies_between_draws():
    from eva.backbone.mm import SeededDataset

    class Noisy:
        metainfo = dict(classes=("a",))

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return i + np.random.rand()  # a random transform drawing from NumPy's global generator

    ds = SeededDataset(Noisy(), seed=1)
    assert ds[(5, 2)] == ds[(5, 2)] and ds[(5, 2)] != ds[(6, 2)] and ds[(5, 2)] != ds[(5, 1)] + 1
    assert SeededDataset(Noisy(), seed=2)[(5, 2)] != ds[(5, 2)]
    state = np.random.get_state()[1].copy()
    ds[(0, 0)]
    assert (np.random.get_state()[1] == state).all()  # the caller's generator is left as it was
    assert len(ds) == 3 and ds.metainfo == dict(classes=("a",)) and 0 <= ds[1] - 1 < 1  # plain keys: unseeded
