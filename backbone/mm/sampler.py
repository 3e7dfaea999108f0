"""Samplers that tell the dataset where in training a sample is drawn, so its augmentation is a function of
(seed, position, index): independent of workers, ranks and where training resumed.

- :class:`EpochSeededSampler` (epoch loops) yields ``(epoch, index)`` keys, read by our own datasets;
- :class:`SeededInfiniteSampler` (iteration loops) yields ``(position, index)`` keys from any position of the
  stream, read by :class:`SeededDataset`, which wraps any mm dataset (mmseg's, mmaction2's).
"""
from __future__ import annotations

import copy
import itertools

from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.registry import DATA_SAMPLERS, DATASETS
from torch.utils.data import Dataset

from ..seeding import sample_seed, seeded


@DATA_SAMPLERS.register_module(force=True)
class EpochSeededSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` (shuffling, sharding across ranks) yielding ``(epoch, index)`` pairs."""

    def __iter__(self):
        epoch = self.epoch
        return ((epoch, i) for i in super().__iter__())


@DATA_SAMPLERS.register_module(force=True)
class SeededInfiniteSampler(InfiniteSampler):
    """mmengine's ``InfiniteSampler`` (same order, same sharding) yielding ``(position, index)`` pairs, where
    ``position`` counts draws over all ranks; iteration starts at this rank's draw ``start``.

    Unlike ``InfiniteSampler``, every ``iter()`` starts over at ``start``: skipping to where a run resumes costs
    index arithmetic, no data loading.
    """

    def __init__(self, dataset, shuffle: bool = True, seed=None):
        super().__init__(dataset, shuffle=shuffle, seed=seed)
        self.start = 0

    def __iter__(self):
        world, rank = self.world_size, self.rank
        stream = itertools.islice(self._infinite_indices(), rank + self.start * world, None, world)
        return ((position * world + rank, index) for position, index in enumerate(stream, start=self.start))


@DATASETS.register_module(force=True)
class SeededDataset(Dataset):
    """Any mm dataset, read with ``(position, index)`` keys: ``dataset[index]`` runs under a seed of (seed,
    position, index), so its random transforms do not depend on which worker runs them or on what ran before.

    Args:
        dataset: the dataset or its config.
        seed: base seed (the runner's ``randomness.seed``).
    """

    def __init__(self, dataset, seed: int = 0):
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.seed = int(seed)

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def __getattr__(self, name):  # the wrapped dataset's other attributes (pipeline, data_list, ...)
        if name == "dataset":  # not set yet (e.g. while unpickling in a worker)
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def full_init(self) -> None:
        if hasattr(self.dataset, "full_init"):
            self.dataset.full_init()

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            return self.dataset[key]
        position, index = key
        with seeded(sample_seed(self.seed, position, index)):
            return self.dataset[index]
