"""The evaluation protocol of the EVA detection results: soft-NMS (Bodla et al. 2017, linear or gaussian,
class-wise or not) and mask "maskness" rescoring, with torch / torchvision ops only."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torchvision.ops import box_iou

SOFT_NMS_METHODS = ("linear", "gaussian")


def soft_nms(boxes: torch.Tensor, scores: torch.Tensor, method: str = "linear", iou_threshold: float = 0.3,
             sigma: float = 0.5, min_score: float = 1e-3,
             classes: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Soft non-maximum suppression.

    Repeatedly takes the highest-scoring remaining box and decays the scores of the others by their overlap
    with it: ``linear``: ``s *= 1 - iou`` where ``iou > iou_threshold``; ``gaussian``: ``s *= exp(-iou^2 / sigma)``.
    Boxes whose score falls below ``min_score`` are dropped.

    Args:
        boxes: ``[N, 4]`` (x1, y1, x2, y2).
        scores: ``[N]``.
        method: ``"linear"`` or ``"gaussian"``.
        iou_threshold: overlap above which the linear rule decays.
        sigma: width of the gaussian rule.
        min_score: drop boxes decayed below it.
        classes: ``[N]`` labels for class-wise suppression (boxes of different classes never interact);
            ``None``: every box suppresses every other.

    Returns:
        ``(keep, new_scores)``: indices into the input in selection order (decreasing decayed score), and their
        decayed scores.
    """
    if method not in SOFT_NMS_METHODS:
        raise ValueError(f"soft-NMS method must be one of {SOFT_NMS_METHODS}, got {method!r}")
    n = boxes.shape[0]
    if n == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device), scores.new_zeros(0)
    iou = box_iou(boxes.float(), boxes.float())
    if classes is not None:
        iou = iou * (classes[:, None] == classes[None, :])
    if method == "linear":
        decay = torch.where(iou > iou_threshold, 1.0 - iou, torch.ones_like(iou))
    else:
        decay = torch.exp(-(iou * iou) / sigma)
    scores = scores.float().clone()
    alive = torch.ones(n, dtype=torch.bool, device=boxes.device)
    keep, kept_scores = [], []
    for _ in range(n):
        masked = torch.where(alive, scores, scores.new_full((), -1.0))
        best = int(masked.argmax())
        if not alive[best] or masked[best] < min_score:
            break
        keep.append(best)
        kept_scores.append(scores[best].clone())
        alive[best] = False
        scores = torch.where(alive, scores * decay[best], scores)
        alive &= scores >= min_score
    if not keep:
        return torch.zeros(0, dtype=torch.long, device=boxes.device), scores.new_zeros(0)
    return torch.tensor(keep, device=boxes.device), torch.stack(kept_scores)


def maskness(mask_probs: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Mean foreground probability of each mask: ``[N, 1, M, M]`` or ``[N, M, M]`` probabilities -> ``[N]``
    (0 for a mask with no pixel above ``threshold``)."""
    probs = mask_probs.flatten(1).float()
    fg = probs > threshold
    return (probs * fg).sum(1) / fg.sum(1).clamp(min=1)
