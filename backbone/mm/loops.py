"""Training loops that resume exactly, with any number of data-loading workers, and at once.

mmengine's loops leave augmentation to each worker's running random state, so a resumed run augments
differently unless its workers happen to restart at the same point of their streams; and ``IterBasedTrainLoop``
resumes by loading and discarding every batch the interrupted run trained on (hours for a long segmentation
schedule). These loops build the training data with a sampler that tags each index with where it is drawn
(:class:`EpochSeededSampler`, :class:`SeededInfiniteSampler`) around :class:`SeededDataset`, which augments each
sample under a seed of its own; the iteration loop then starts its sampler at the resumed draw and loads nothing
it skips.
"""
from __future__ import annotations

import copy

from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.registry import LOOPS
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from .sampler import EpochSeededSampler, SeededInfiniteSampler


def seeded_dataloader(dataloader, runner, plain: tuple, seeded: type):
    """A training dataloader config whose ``plain`` sampler (type name or class) becomes ``seeded`` (same
    arguments) around :class:`SeededDataset`; other configs (other samplers, a ``batch_sampler``), and built
    dataloaders, come back unchanged."""
    if not isinstance(dataloader, dict) or dataloader.get("batch_sampler"):  # a batch sampler reads plain indices
        return dataloader
    sampler = dict(dataloader.get("sampler") or {})
    if sampler.get("type") not in plain:
        return dataloader
    dataloader = copy.deepcopy(dataloader)
    dataloader["sampler"] = dict(sampler, type=seeded)
    dataloader["dataset"] = dict(type="SeededDataset", dataset=dataloader["dataset"],
                                 seed=runner.seed if runner.seed is not None else 0)
    return dataloader


@LOOPS.register_module(force=True)
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` (same arguments) whose resume is exact with any number of workers: a training
    dataloader config with mmengine's ``DefaultSampler`` is built with :class:`EpochSeededSampler` around
    :class:`SeededDataset`, so each sample is augmented under a seed of (seed, epoch, index)."""

    def __init__(self, runner, dataloader, max_epochs: int, **kwargs):
        dataloader = seeded_dataloader(dataloader, runner, ("DefaultSampler", DefaultSampler), EpochSeededSampler)
        super().__init__(runner, dataloader, max_epochs, **kwargs)


class _ResumedIterator:
    """Answers the loop's ``skip`` replay calls with ``None`` (nothing is loaded), then iterates the loader."""

    def __init__(self, dataloader, skip: int):
        self.dataloader, self.skip, self.iterator = dataloader, skip, None

    def __iter__(self):
        return self

    def __next__(self):
        if self.skip > 0:
            self.skip -= 1
            return None
        if self.iterator is None:
            self.iterator = _InfiniteDataloaderIterator(self.dataloader)
        return next(self.iterator)


@LOOPS.register_module(force=True)
class ResumableIterBasedTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` (same arguments) whose resume is exact and loads no skipped batch: a training
    dataloader config with mmengine's ``InfiniteSampler`` is built with :class:`SeededInfiniteSampler` around
    :class:`SeededDataset`, and a resumed run starts the sampler at its next draw.

    (mmengine's constructor starts the loader before the checkpoint is read, so workers prefetch
    ``prefetch_factor`` batches each from the first draws; those few are discarded.)"""

    def __init__(self, runner, dataloader, max_iters: int, **kwargs):
        dataloader = seeded_dataloader(dataloader, runner, ("InfiniteSampler", InfiniteSampler),
                                       SeededInfiniteSampler)
        super().__init__(runner, dataloader, max_iters, **kwargs)

    def run(self):
        sampler = getattr(self.dataloader, "sampler", None)
        if self._iter > 0 and isinstance(sampler, SeededInfiniteSampler):
            sampler.start = self._iter * self.dataloader.batch_size
            self.dataloader_iterator = _ResumedIterator(self.dataloader, self._iter)
        return super().run()
