"""eva.det: EVA in upstream detectron2 (Cascade Mask R-CNN with detectron2's own SimpleFeaturePyramid, RPN and
CascadeROIHeads). Needs detectron2, installed from its upstream source (README)."""
from .backbone import EVAViTDet
from .checkpoint import load_detector
from .lr_decay import eva_lr_factor
from .postprocess import maskness, soft_nms
from .pyramid import EVAFeaturePyramid
from .roi_heads import EVACascadeROIHeads

__all__ = ["EVAViTDet", "EVAFeaturePyramid", "load_detector", "EVACascadeROIHeads", "eva_lr_factor", "soft_nms",
           "maskness"]
