"""A sampler that tells the dataset which pass it is in, so per-sample randomness is a function of
(seed, epoch, index): independent of workers, ranks and where training resumed."""
from __future__ import annotations

from mmengine.dataset import DefaultSampler
from mmengine.registry import DATA_SAMPLERS


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of one sample's augmentation in one epoch."""
    return ((seed * 1_000_003 + epoch) * 10_000_019 + index) % (2**63 - 1)


@DATA_SAMPLERS.register_module(force=True)
class EpochSeededSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` (shuffling, sharding across ranks) yielding ``(epoch, index)`` pairs."""

    def __iter__(self):
        epoch = self.epoch
        return ((epoch, i) for i in super().__iter__())
