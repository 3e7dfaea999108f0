"""Seeds as functions of where training is, the basis of exact resume in every part.

A resumed run cannot replay the random draws the interrupted run made before it stopped. So no random draw
depends on history: each training step re-seeds the generators from (seed, rank, iteration), and each sample's
augmentation runs under a seed derived from (seed, pass, position). Workers, ranks and the resume point then
change nothing.
"""
from __future__ import annotations

import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch


def _hashed(*parts: int) -> int:
    # NumPy's SeedSequence hashes the parts: distinct tuples give unrelated seeds (a linear formula would collide,
    # e.g. one sample of a 30M-image set with another epoch's sample, or one rank's step with another's)
    fixed_width = [w for p in parts for w in (int(p) % 2**32, int(p) // 2**32 % 2**32)]  # 2 words per part
    words = np.random.SeedSequence(fixed_width).generate_state(1, dtype=np.uint64)
    return int(words[0]) % 2**63


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of one sample's augmentation.

    Args:
        seed: the run's base seed.
        epoch: the pass over the data (or any counter that, with ``index``, names the draw uniquely).
        index: the sample's position in that pass.
    """
    return _hashed(seed, epoch, index)


def step_seed(seed: int, rank: int, iteration: int) -> int:
    """The seed of one training step on one rank (ranks differ, so they draw different drop-path masks)."""
    return _hashed(seed, 0x5EED, rank, iteration)  # the tag keeps steps apart from samples


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block (one sample's augmentation) under ``seed`` in Python's, NumPy's and torch's CPU generators,
    then put the caller's generator states back."""
    state, np_state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            random.seed(seed)
            np.random.seed(seed % 2**32)
            torch.default_generator.manual_seed(seed)  # CPU only, as forked (torch.manual_seed: CUDA too, 100x slower)
            yield
    finally:
        random.setstate(state)
        np.random.set_state(np_state)
