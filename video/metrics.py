"""Accuracy of each factor of the demo's labels (playback speed, frame order), so the demo shows which one a
model has learned; mmaction2's ``AccMetric`` gives the joint top-1 / top-5."""
from __future__ import annotations

from typing import Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS

from .data import SPEEDS


@METRICS.register_module(force=True)  # mmengine's root registry: mmaction2 configs find it by name
class MotionFactorsMetric(BaseMetric):
    """``speed_acc`` and ``order_acc`` of :func:`eva.video.data.motion_classes` predictions
    (class = order index * len(SPEEDS) + speed index); chance is 1 / 3 and 1 / (number of orders)."""

    default_prefix = "motion"

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = int(sample["pred_scores"]["item"].argmax())
            self.results.append((pred, int(sample["gt_labels"]["item"].reshape(-1)[0])))

    def compute_metrics(self, results: list) -> dict:
        pred, gt = torch.tensor(results).T
        n = len(SPEEDS)
        return dict(speed_acc=float(((pred % n) == (gt % n)).float().mean()),
                    order_acc=float(((pred // n) == (gt // n)).float().mean()))
