"""A detectron2 training loader that resumes exactly.

detectron2's own loader groups images by aspect ratio after loading them, augments them from each worker's running
random state and restarts its sampler at every launch, so a resumed run trains on another data order. This one
builds the same batches from indices alone: detectron2's infinite sampler, grouped by each dataset dict's
``width > height`` (the rule of detectron2's ``AspectRatioGroupedDataset``) with detectron2's
``GroupedBatchSampler``. Iteration ``i``'s batch is then known without loading an image, and each sample is mapped
under a seed of (seed, iteration, position). Started at iteration ``i``, the loader yields exactly what an
uninterrupted run yields from ``i`` on, with any number of workers.
"""
from __future__ import annotations

import logging
import random
from typing import List, Optional, Sequence

import torch
from detectron2.data.build import trivial_batch_collator
from detectron2.data.common import DatasetFromList
from detectron2.data.samplers import GroupedBatchSampler, TrainingSampler
from detectron2.utils import comm
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler

from eva.backbone.seeding import sample_seed, seeded

logger = logging.getLogger("eva.det")


class SeededMapDataset(Dataset):
    """``mapper(dataset[index])`` under a seed of its own; keys are ``(seed, index)`` pairs.

    As in detectron2's ``MapDataset``, a sample the mapper rejects (returns ``None``, e.g. a crop that kept no
    object) is replaced by another one, here drawn from the sample's own seed.

    Args:
        dataset: detectron2 dataset dicts (a list or ``DatasetFromList``).
        mapper: e.g. detectron2's ``DatasetMapper``; its augmentations draw from NumPy's / Python's generators.
        max_retries: replacements tried before giving up.
    """

    def __init__(self, dataset: Sequence[dict], mapper, max_retries: int = 100):
        self.dataset, self.mapper, self.max_retries = dataset, mapper, max_retries

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        seed, index = key
        replacements = None
        for attempt in range(self.max_retries + 1):
            with seeded(sample_seed(seed, attempt, index)):
                out = self.mapper(self.dataset[index])
            if out is not None:
                return out
            replacements = replacements or random.Random(seed)  # only built when a sample is rejected
            index = replacements.randrange(len(self.dataset))
        raise RuntimeError(f"the mapper rejected {self.max_retries + 1} samples in a row (returned None): check the "
                           f"dataset's annotations and the augmentations (e.g. a crop smaller than every object)")


class ResumableBatchSampler(Sampler):
    """Per-rank batches of ``(sample seed, index)`` keys, starting at iteration ``start_iter``.

    Args:
        sampler: an infinite index sampler, sharded by rank (detectron2's ``TrainingSampler`` or
            ``RepeatFactorTrainingSampler``) with a fixed seed.
        batch_size: images per rank and iteration.
        group_ids: a group per dataset index (batches never mix groups), or ``None`` for plain batches.
        seed: base of the per-sample seeds.
        rank: this process's rank (makes sample seeds differ across ranks).
    """

    def __init__(self, sampler: Sampler, batch_size: int, group_ids: Optional[List[int]], seed: int, rank: int = 0):
        self.sampler, self.batch_size, self.group_ids = sampler, batch_size, group_ids
        self.seed, self.rank = seed, rank
        self.start_iter = 0

    def __iter__(self):
        # a fresh grouper per pass: detectron2's keeps its half-full buckets between passes
        batches = (GroupedBatchSampler(self.sampler, self.group_ids, self.batch_size) if self.group_ids is not None
                   else BatchSampler(self.sampler, self.batch_size, drop_last=True))
        first_slot = self.rank * self.batch_size
        for iteration, batch in enumerate(batches):
            if iteration >= self.start_iter:  # earlier batches are replayed as indices only, nothing is loaded
                yield [(sample_seed(self.seed, iteration, first_slot + j), int(i)) for j, i in enumerate(batch)]


class ResumableTrainLoader:
    """What detectron2's trainers iterate: lists of mapped dicts, one list per iteration, from ``start_iter`` on.

    ``eva.det.engine``'s ``ExactResumeHook`` sets ``start_iter`` to the iteration a run resumes at, before the
    trainer starts iterating.
    """

    def __init__(self, dataset: SeededMapDataset, batch_sampler: ResumableBatchSampler, num_workers: int = 0,
                 pin_memory: bool = False, prefetch_factor: int = 2):
        self.dataset, self.batch_sampler = dataset, batch_sampler
        self.num_workers, self.pin_memory, self.prefetch_factor = num_workers, pin_memory, prefetch_factor

    @property
    def start_iter(self) -> int:
        return self.batch_sampler.start_iter

    @start_iter.setter
    def start_iter(self, value: int) -> None:
        self.batch_sampler.start_iter = int(value)

    def __iter__(self):
        # a generator of its own: starting an iterator draws the workers' base seed, which from the global
        # generator would shift every random draw of the step a resumed run starts with
        own = torch.Generator().manual_seed(self.batch_sampler.seed)
        return iter(DataLoader(self.dataset, batch_sampler=self.batch_sampler, num_workers=self.num_workers,
                               collate_fn=trivial_batch_collator, pin_memory=self.pin_memory, generator=own,
                               prefetch_factor=self.prefetch_factor if self.num_workers > 0 else None))


def aspect_ratio_groups(dataset: Sequence[dict]) -> List[int]:
    """0 for landscape (``width > height``), 1 otherwise, per dataset dict, as detectron2 groups batches."""
    try:
        return [0 if d["width"] > d["height"] else 1 for d in (dataset[i] for i in range(len(dataset)))]
    except KeyError as e:
        raise ValueError(f"aspect-ratio grouping needs 'width' and 'height' in every dataset dict (detectron2's "
                         f"COCO / LVIS loaders set them); this dataset lacks {e}: add them, or set "
                         f"dataloader.train.aspect_ratio_grouping=False") from None


def build_resumable_train_loader(dataset, *, mapper, total_batch_size: int, sampler: Optional[Sampler] = None,
                                 aspect_ratio_grouping: bool = True, num_workers: int = 0, seed: int = 0,
                                 pin_memory: bool = False, prefetch_factor: int = 2) -> ResumableTrainLoader:
    """Drop-in for detectron2's ``build_detection_train_loader`` (same arguments, plus ``seed``) whose runs
    resume exactly.

    Args:
        dataset: detectron2 dataset dicts (``get_detection_dataset_dicts``).
        mapper: maps a dataset dict to the model's input (detectron2's ``DatasetMapper``).
        total_batch_size: images per iteration over all ranks.
        sampler: infinite index sampler; default detectron2's ``TrainingSampler`` seeded with ``seed``. Give
            yours a fixed seed too (the recipes pass ``train.seed``): one drawn at random differs at a resume.
        aspect_ratio_grouping: batch landscape and portrait images separately, as detectron2 does.
        num_workers: data-loading processes per rank.
        seed: base of the per-sample augmentation seeds (and of the default sampler).

    Returns:
        An iterable of per-rank batches (lists of mapped dicts) with a settable ``start_iter``.
    """
    world = comm.get_world_size()
    if total_batch_size <= 0 or total_batch_size % world:
        raise ValueError(f"total_batch_size {total_batch_size} must be a positive multiple of the number of "
                         f"processes ({world})")
    if not isinstance(dataset, Sequence) and not isinstance(dataset, DatasetFromList):
        raise TypeError(f"expected a list of dataset dicts (get_detection_dataset_dicts), got {type(dataset)}")
    groups = aspect_ratio_groups(dataset) if aspect_ratio_grouping else None
    if isinstance(dataset, list):
        dataset = DatasetFromList(dataset, copy=False)  # one serialized buffer, shared by the workers
    sampler = sampler if sampler is not None else TrainingSampler(len(dataset), seed=seed)
    batch_size = total_batch_size // world
    logger.info("resumable training loader: %d images per rank and iteration, %d workers", batch_size, num_workers)
    batches = ResumableBatchSampler(sampler, batch_size, groups, seed, comm.get_rank())
    return ResumableTrainLoader(SeededMapDataset(dataset, mapper), batches, num_workers, pin_memory, prefetch_factor)
