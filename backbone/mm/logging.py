"""Readable training records for mmengine runs."""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Optional

import numpy as np
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class LossCurveHook(Hook):
    """Appends ``iter, loss, lr, skipped`` to ``loss.csv`` and draws ``loss_curve.png`` in the work dir."""

    priority = "BELOW_NORMAL"

    def __init__(self, plot_interval: int = 50):
        self.plot_interval = plot_interval
        self.rows = []

    def before_train(self, runner) -> None:
        """Keep only the rows up to where this run starts (none for a fresh run, the resumed iteration else)."""
        path = Path(runner.work_dir) / "loss.csv"
        if runner.rank != 0 or not path.exists():
            return
        with open(path) as f:
            kept = [r for r in csv.reader(f)][1:]
        kept = [r for r in kept if int(r[0]) <= runner.iter]
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows([["iter", "loss", "lr", "skipped_steps"], *kept])

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
        ax.set_ylabel("loss")
        ax.set_title(Path(work_dir).name)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        out = Path(work_dir) / "loss_curve.png"
        fig.savefig(out)
        plt.close(fig)
        return out
