"""A sampler that tells the dataset which pass it is in, so per-sample randomness is a function of
(seed, epoch, index): independent of workers, ranks and where training resumed."""
from __future__ import annotations

from mmengine.dataset import DefaultSampler
from mmengine.registry import DATA_SAMPLERS

from ..seeding import sample_seed  # noqa: F401  (re-exported: the datasets' seed of one sample)


@DATA_SAMPLERS.register_module(force=True)
class EpochSeededSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` (shuffling, sharding across ranks) yielding ``(epoch, index)`` pairs."""

    def __iter__(self):
        epoch = self.epoch
        return ((epoch, i) for i in super().__iter__())
