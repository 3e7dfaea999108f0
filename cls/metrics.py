"""Classification metrics for mmengine's evaluator: top-k, per-class accuracy, a confusion-matrix PNG."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor, topk: Sequence[int] = (1, 5)) -> Dict[int, float]:
    """Percent of samples whose label is among the ``k`` highest logits (timm's ``accuracy``).

    Args:
        logits: ``[N, C]``.
        labels: ``[N]`` integer labels.
    """
    from timm.utils import accuracy

    ks = [k for k in topk if k <= logits.shape[1]]
    return {k: float(v) for k, v in zip(ks, accuracy(logits.float(), labels, topk=ks))}


def apply_label_map(logits: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``[N, C_head]`` -> ``[N, len(index)]``; columns the head lacks (index -1) can never win."""
    out = logits[:, index.clamp(min=0)]
    out[:, index < 0] = float("-inf")
    return out


@METRICS.register_module()
class ClsMetric(BaseMetric):
    """Top-k accuracy, mean per-class accuracy, per-class accuracies (JSON) and a confusion-matrix PNG.

    Args:
        topk: the ``k`` of the top-k accuracies reported.
        label_map: evaluate the head on another label space: a name from :mod:`eva.cls.label_maps`
            (``"in1k_from_21k"``, ``"imagenet_a"``, ``"imagenet_r"``) or an index file.
        out_dir: where ``metrics.json``, ``per_class_accuracy.json`` and ``confusion_matrix.png`` of the latest
            evaluation go (``None``: not written).
        class_names: names for the outputs (default: the dataset's ``classes``).
    """

    default_prefix = "cls"

    def __init__(self, topk: Sequence[int] = (1, 5), label_map: Optional[str] = None, out_dir: Optional[str] = None,
                 class_names: Optional[List[str]] = None, collect_device: str = "cpu", prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk, self.label_map_name, self.out_dir, self.class_names = tuple(topk), label_map, out_dir, class_names

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            if s["label"] is None:
                raise ValueError("evaluation needs labelled samples")
            self.results.append((s["logits"], s["label"]))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        logits = torch.stack([r[0] for r in results])
        labels = torch.tensor([r[1] for r in results], dtype=torch.long)
        if self.label_map_name:
            from .label_maps import label_map
            logits = apply_label_map(logits, label_map(self.label_map_name, head_classes=logits.shape[1]))
        num_classes = logits.shape[1]
        if int(labels.max()) >= num_classes:
            raise ValueError(f"label {int(labels.max())} but the evaluated head has {num_classes} classes: check "
                             f"model.num_classes or set a label_map")
        metrics = {f"top{k}": v for k, v in topk_accuracy(logits, labels, self.topk).items()}
        pred = logits.argmax(1)
        present = torch.unique(labels)
        per_class = {int(c): float((pred[labels == c] == c).float().mean() * 100) for c in present}
        metrics["mean_class_acc"] = float(np.mean(list(per_class.values())))
        if self.out_dir:
            self._write(metrics, per_class, labels.numpy(), pred.numpy(), num_classes)
        return metrics

    def _names(self, num_classes: int) -> List[str]:
        names = self.class_names or (self.dataset_meta or {}).get("classes")
        return list(names) if names and len(names) == num_classes else [str(i) for i in range(num_classes)]

    def _write(self, metrics: Dict[str, float], per_class: Dict[int, float], labels: np.ndarray, pred: np.ndarray,
               num_classes: int) -> None:
        from sklearn.metrics import confusion_matrix

        out = Path(self.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        names = self._names(num_classes)
        (out / "metrics.json").write_text(json.dumps(dict(metrics, num_samples=len(labels)), indent=1))
        (out / "per_class_accuracy.json").write_text(json.dumps({names[c]: a for c, a in per_class.items()}, indent=1))
        if num_classes > 50:  # a 1000 x 1000 picture says nothing; the JSON has the numbers
            return
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from sklearn.metrics import ConfusionMatrixDisplay

        cm = confusion_matrix(labels, pred, labels=list(range(num_classes)), normalize="true")
        fig, ax = plt.subplots(figsize=(1 + 0.6 * num_classes, 1 + 0.6 * num_classes))
        ConfusionMatrixDisplay(cm, display_labels=names).plot(ax=ax, values_format=".2f", xticks_rotation=60,
                                                              colorbar=False, cmap="Blues")
        ax.set_title("confusion matrix (rows: true class, normalised)")
        fig.tight_layout()
        fig.savefig(out / "confusion_matrix.png", dpi=100)
        plt.close(fig)
