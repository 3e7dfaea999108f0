"""Training-engine pieces on top of mmengine: a non-finite-safe optimizer wrapper, atomic checkpoint writes,
RNG state in checkpoints (exact resume), backbone export and a readable loss curve."""
from __future__ import annotations

import csv
import math
import os
import random
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from mmengine.registry import HOOKS, OPTIM_WRAPPERS

from eva.backbone import save_checkpoint


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend, but ``put`` writes a temporary file and renames it: a crash during a
    checkpoint save never corrupts the previous checkpoint or leaves a half-written one."""

    def put(self, obj: bytes, filepath) -> None:
        path = Path(filepath)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


register_backend("local", AtomicLocalBackend, force=True, prefixes="")


def allow_mmengine_checkpoint_data() -> None:
    """mmengine 0.10 calls ``torch.load`` without ``weights_only``, which torch >= 2.6 defaults to True. Allow the
    plain-data types our checkpoints carry (numpy arrays and scalars of the RNG state and logs) instead of
    turning safe loading off; :class:`ResumeStateHook` keeps everything else plain."""
    from eva.backbone.checkpoint import SAFE_GLOBALS
    torch.serialization.add_safe_globals(list(SAFE_GLOBALS))


allow_mmengine_checkpoint_data()


class NonFiniteError(RuntimeError):
    pass


@OPTIM_WRAPPERS.register_module()
class SafeOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that skips steps whose loss or gradient norm is not finite.

    A skipped step leaves weights and optimizer state untouched and is counted (``skipped_steps``); after
    ``max_bad_steps`` consecutive bad steps training stops with a clear error, and can be resumed from the
    last good checkpoint. Gradient clipping (``clip_grad=dict(max_norm=3.0)``) is applied on good steps.

    Args:
        autocast_dtype: ``"bfloat16"`` to run forward passes under autocast on CUDA (CPU stays fp32).
    """

    def __init__(self, *args, max_bad_steps: int = 20, autocast_dtype: Optional[str] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bad_steps = max_bad_steps
        self.autocast_dtype = autocast_dtype
        self.skipped_steps = 0
        self.consecutive_bad = 0

    def optim_context(self, model):
        ctx = super().optim_context(model)
        if self.autocast_dtype and torch.cuda.is_available():
            from contextlib import ExitStack
            stack = ExitStack()
            stack.enter_context(ctx)
            stack.enter_context(torch.autocast("cuda", dtype=getattr(torch, self.autocast_dtype)))
            return stack
        return ctx

    def _bad(self, what: str) -> None:
        self.skipped_steps += 1
        self.consecutive_bad += 1
        self.zero_grad()
        if self.consecutive_bad >= self.max_bad_steps:
            raise NonFiniteError(
                f"training diverged: {self.consecutive_bad} consecutive steps with a non-finite {what}. "
                f"The weights are those of the last good step; resume from the last checkpoint "
                f"(`--resume`) with a lower learning rate or gradient clipping.")

    def update_params(self, loss: torch.Tensor, step_kwargs=None, zero_kwargs=None) -> None:
        loss = self.scale_loss(loss)
        bad = (~torch.isfinite(loss.detach())).any().float()
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(bad, op=torch.distributed.ReduceOp.MAX)  # every rank skips together
        if bad.item():
            self._inner_count += 1
            self._bad("loss")
            return
        self.backward(loss)
        if self.should_update():
            grads = [p.grad for g in self.optimizer.param_groups for p in g["params"] if p.grad is not None]
            norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])) \
                if grads else torch.tensor(0.0)
            if not torch.isfinite(norm):
                self._bad("gradient")
                return
            self.consecutive_bad = 0
            self.step(**(step_kwargs or {}))
            self.zero_grad(**(zero_kwargs or {}))

    def state_dict(self) -> dict:
        return dict(super().state_dict(), skipped_steps=self.skipped_steps)

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        self.skipped_steps = state_dict.pop("skipped_steps", 0)
        super().load_state_dict(state_dict)


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


@HOOKS.register_module()
class BackboneExportHook(Hook):
    """Writes ``backbone.safetensors`` (student weights, read by ``eva.backbone.load_checkpoint``) and
    ``mim_head.safetensors`` (mask token + lm head) into the work dir at each checkpoint and at the end."""

    priority = "LOW"

    def __init__(self, filename: str = "backbone.safetensors"):
        self.filename = filename

    def _export(self, runner) -> None:
        if runner.rank != 0:
            return
        model = runner.model.module if hasattr(runner.model, "module") else runner.model
        meta = {"eva_variant": str(getattr(model.student, "variant", "")), "iteration": str(runner.iter)}
        save_checkpoint(model.backbone_state_dict(), Path(runner.work_dir) / self.filename, metadata=meta)
        save_checkpoint(model.mim_head_state_dict(), Path(runner.work_dir) / "mim_head.safetensors", metadata=meta)

    def after_save_checkpoint(self, runner, checkpoint) -> None:  # noqa: D401 (mmengine hook name)
        self._export(runner)

    def after_train(self, runner) -> None:
        self._export(runner)


@HOOKS.register_module()
class LossCurveHook(Hook):
    """Appends ``iter, loss, lr, skipped`` to ``loss.csv`` and draws ``loss_curve.png`` in the work dir."""

    priority = "BELOW_NORMAL"

    def __init__(self, plot_interval: int = 50):
        self.plot_interval = plot_interval
        self.rows = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.rank != 0 or not outputs:
            return
        loss = float(outputs["loss"].detach())
        lr = runner.optim_wrapper.get_lr()["lr"][0]
        skipped = getattr(runner.optim_wrapper, "skipped_steps", 0)
        self.rows.append((runner.iter + 1, loss, lr, skipped))
        path = Path(runner.work_dir) / "loss.csv"
        new = not path.exists()
        with open(path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["iter", "loss", "lr", "skipped_steps"])
            w.writerow(self.rows[-1])
        if (runner.iter + 1) % self.plot_interval == 0:
            self.plot(runner.work_dir)

    def after_train(self, runner) -> None:
        if runner.rank == 0:
            self.plot(runner.work_dir)

    @staticmethod
    def plot(work_dir) -> Optional[Path]:
        path = Path(work_dir) / "loss.csv"
        if not path.exists():
            return None
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        with open(path) as f:
            rows = [r for r in csv.DictReader(f) if math.isfinite(float(r["loss"]))]
        its, losses = [int(r["iter"]) for r in rows], [float(r["loss"]) for r in rows]
        fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
        ax.plot(its, losses, lw=0.8, alpha=0.5, label="loss")
        k = max(1, len(losses) // 20)
        if len(losses) >= k:
            smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
            ax.plot(its[k - 1:], smooth, lw=2, label=f"mean of {k}")
        ax.set_xlabel("iteration")
        ax.set_ylabel("negative cosine")
        ax.set_title("EVA MIM pre-training")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        out = Path(work_dir) / "loss_curve.png"
        fig.savefig(out)
        plt.close(fig)
        return out
