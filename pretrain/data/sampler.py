"""A sampler that tells the dataset which pass it is in."""
from __future__ import annotations

from mmengine.dataset import DefaultSampler
from mmengine.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class EpochSeededSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` (shuffling, sharding across ranks) yielding ``(epoch, index)`` pairs, so the
    dataset can seed each sample's randomness independently of workers and of where training resumed."""

    def __iter__(self):
        epoch = self.epoch
        return ((epoch, i) for i in super().__iter__())
