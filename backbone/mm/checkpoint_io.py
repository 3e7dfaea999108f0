"""Checkpoint I/O for mmengine runs: atomic writes, safe loading, exact resume.

mmengine 0.10 calls ``torch.load`` without ``weights_only``, which torch >= 2.6 defaults to True. Instead of
turning safe loading off, ``eva.backbone.checkpoint`` allows numpy's plain data types process-wide and
:class:`ResumeStateHook` keeps mmengine's own objects out of checkpoints.
"""
from __future__ import annotations

import os

import numpy as np
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..checkpoint import atomic_path  # importing it also allows numpy plain data in torch.load
from ..seeding import seed_everything, step_seed


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend, but ``put`` writes a temporary file and renames it: a crash during a
    checkpoint save never corrupts the previous checkpoint or leaves a half-written one."""

    def put(self, obj: bytes, filepath) -> None:
        with atomic_path(filepath) as tmp, open(tmp, "wb") as f:
            f.write(obj)
            f.flush()
            os.fsync(f.fileno())


register_backend("local", AtomicLocalBackend, force=True, prefixes="")


@HOOKS.register_module()
class ResumeStateHook(Hook):
    """Makes resuming exact and safe.

    - Before every training iteration the Python, NumPy and torch (CPU and CUDA) generators are re-seeded from
      (seed, rank, iteration): drop path and every other random op are a function of where training is, so a
      resumed run continues exactly, on every rank, and ranks draw different masks.
    - mmengine pickles its ``HistoryBuffer`` objects (with bound statistics functions) into checkpoints, which
      ``torch.load(weights_only=True)`` rightly refuses: they are stored as plain arrays and rebuilt on load.

    Args:
        seed: base seed (default: the runner's ``randomness.seed``, else 0).
    """

    priority = "VERY_LOW"

    def __init__(self, seed=None):
        self.seed = seed

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        base = self.seed if self.seed is not None else (runner.seed if runner.seed is not None else 0)
        seed_everything(step_seed(base, runner.rank, runner.iter))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        hub = checkpoint.get("message_hub")
        if isinstance(hub, dict) and "log_scalars" in hub:
            hub["log_scalars"] = {k: dict(log=np.asarray(v._log_history), count=np.asarray(v._count_history),
                                          max_length=int(v.max_length))
                                  for k, v in hub["log_scalars"].items()}

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        from mmengine.logging.history_buffer import HistoryBuffer

        hub = checkpoint.get("message_hub")
        if isinstance(hub, dict) and "log_scalars" in hub:
            hub["log_scalars"] = {k: HistoryBuffer(list(v["log"]), list(v["count"]), v["max_length"])
                                  if isinstance(v, dict) else v for k, v in hub["log_scalars"].items()}
