"""detectron2's ``CascadeROIHeads`` with the EVA evaluation protocol switchable from the config."""
from __future__ import annotations

from typing import Dict, List, Optional

import torch
from detectron2.modeling.roi_heads import CascadeROIHeads
from detectron2.structures import Boxes, Instances

from .postprocess import SOFT_NMS_METHODS, maskness, soft_nms


class EVACascadeROIHeads(CascadeROIHeads):
    """``CascadeROIHeads`` (training unchanged) whose inference can use soft-NMS instead of NMS and rescore
    instances by their mask's maskness.

    Args:
        soft_nms: ``None`` (detectron2's NMS) or ``dict(method="linear"|"gaussian", iou_threshold=0.3,
            sigma=0.5, class_wise=True, min_score=1e-3)``. detectron2's score threshold still applies before,
            its top-k per image after.
        maskness_thresh: ``None`` or a probability: each score is multiplied by the mean mask probability of the
            pixels above it (instances re-sorted by the new score).
        **kwargs: ``CascadeROIHeads`` arguments.
    """

    def __init__(self, *, soft_nms: Optional[dict] = None, maskness_thresh: Optional[float] = None, **kwargs):
        super().__init__(**kwargs)
        if soft_nms is not None:
            soft_nms = dict(dict(method="linear", iou_threshold=0.3, sigma=0.5, class_wise=True, min_score=1e-3),
                            **soft_nms)
            if soft_nms["method"] not in SOFT_NMS_METHODS:
                raise ValueError(f"soft_nms.method must be one of {SOFT_NMS_METHODS}, got {soft_nms['method']!r}")
        self.soft_nms = soft_nms
        self.maskness_thresh = maskness_thresh

    def _forward_box(self, features, proposals, targets=None):
        if self.training or self.soft_nms is None:
            return super()._forward_box(features, proposals, targets)
        # detectron2's inference with hard NMS switched off (IoU > 1 never happens) and no top-k yields every
        # (box, class) candidate above the score threshold; soft-NMS then rescores them.
        last = self.box_predictor[-1]
        saved = last.test_nms_thresh, last.test_topk_per_image
        last.test_nms_thresh, last.test_topk_per_image = 1.0, -1
        try:
            candidates = super()._forward_box(features, proposals, targets)
        finally:
            last.test_nms_thresh, last.test_topk_per_image = saved
        return [self._soft_nms(inst, saved[1]) for inst in candidates]

    def _soft_nms(self, inst: Instances, topk: int) -> Instances:
        cfg = self.soft_nms
        keep, scores = soft_nms(inst.pred_boxes.tensor, inst.scores, cfg["method"], cfg["iou_threshold"],
                                cfg["sigma"], cfg["min_score"], inst.pred_classes if cfg["class_wise"] else None)
        if topk >= 0:
            keep, scores = keep[:topk], scores[:topk]
        out = Instances(inst.image_size)
        out.pred_boxes = Boxes(inst.pred_boxes.tensor[keep])
        out.scores = scores.to(inst.scores.dtype)
        out.pred_classes = inst.pred_classes[keep]
        return out

    def forward_with_given_boxes(self, features: Dict[str, torch.Tensor], instances: List[Instances]):
        instances = super().forward_with_given_boxes(features, instances)
        if self.maskness_thresh is None or not self.mask_on:
            return instances
        rescored = []
        for inst in instances:
            if len(inst):
                inst.scores = inst.scores * maskness(inst.pred_masks, self.maskness_thresh).to(inst.scores.dtype)
                inst = inst[torch.argsort(inst.scores, descending=True)]
            rescored.append(inst)
        return rescored
