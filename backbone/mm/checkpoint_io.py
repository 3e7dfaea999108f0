"""Checkpoint I/O for mmengine runs: atomic writes, safe loading, exact resume.

mmengine 0.10 calls ``torch.load`` without ``weights_only``, which torch >= 2.6 defaults to True. Instead of
turning safe loading off, ``eva.backbone.checkpoint`` allows numpy's plain data types process-wide and
:class:`ResumeStateHook` keeps mmengine's own objects out of checkpoints.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..checkpoint import atomic_path  # importing it also allows numpy plain data in torch.load


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

    - Saves and restores the Python, NumPy and torch RNG states, so drop path and every other random op continue
      exactly after a resume.
    - Stores mmengine's message-hub history as plain arrays: mmengine pickles its ``HistoryBuffer`` objects
      (with bound statistics functions) into checkpoints, which ``torch.load(weights_only=True)`` rightly refuses.
      They are rebuilt after loading, so checkpoints stay loadable without allowing code.
    """

    priority = "VERY_LOW"

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint["rng_state"] = dict(python=random.getstate(), numpy=np.random.get_state(),
                                       torch=torch.get_rng_state(),
                                       cuda=torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None)
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
        state = checkpoint.get("rng_state")
        if not state:
            return
        random.setstate(state["python"])
        np.random.set_state(state["numpy"])
        torch.set_rng_state(state["torch"])
        if state.get("cuda") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])
