"""Cascade Mask R-CNN over an EVA backbone, built from detectron2's own parts: the ViTDet model of detectron2's
model zoo (SimpleFeaturePyramid, RPN, LN conv heads) with its ViT replaced by ``EVAViTDet`` and its ROI heads
replaced by detectron2's ``CascadeROIHeads`` (3 stages, IoU 0.5 / 0.6 / 0.7). Defaults: EVA-02-B at 1024."""
from detectron2 import model_zoo
from detectron2.config import LazyCall as L
from detectron2.layers import ShapeSpec
from detectron2.modeling.box_regression import Box2BoxTransform
from detectron2.modeling.matcher import Matcher
from detectron2.modeling.roi_heads import FastRCNNConvFCHead, FastRCNNOutputLayers

from eva.det import EVACascadeROIHeads, EVAFeaturePyramid, EVAViTDet

model = model_zoo.get_config("common/models/mask_rcnn_vitdet.py").model
model.backbone._target_ = EVAFeaturePyramid
model.backbone.net = L(EVAViTDet)(
    variant="eva02_base_patch14_224",
    img_size=1024,
    patch_size=16,
    window_size=16,
    global_blocks=[2, 5, 8, 11],
    drop_path_rate=0.1,
    grad_checkpointing=False,
    pretrained=None,
    out_feature="last_feat",
)
model.backbone.square_pad = 1024
model.backbone.test_square_pad = None  # the recipes set it to their test size

_roi = model.roi_heads  # underscore: LazyConfig leaves it out of the config
for _key in ("box_head", "box_predictor", "proposal_matcher"):
    _roi.pop(_key)
_roi.update(
    _target_=EVACascadeROIHeads,
    box_heads=[L(FastRCNNConvFCHead)(input_shape=ShapeSpec(channels=256, height=7, width=7),
                                     conv_dims=[256, 256, 256, 256], fc_dims=[1024], conv_norm="LN")
               for _ in range(3)],
    box_predictors=[L(FastRCNNOutputLayers)(input_shape=ShapeSpec(channels=1024), test_score_thresh=0.05,
                                            box2box_transform=L(Box2BoxTransform)(weights=(w1, w1, w2, w2)),
                                            cls_agnostic_bbox_reg=True, num_classes="${...num_classes}")
                    for (w1, w2) in [(10, 5), (20, 10), (30, 15)]],
    proposal_matchers=[L(Matcher)(thresholds=[th], labels=[0, 1], allow_low_quality_matches=False)
                       for th in [0.5, 0.6, 0.7]],
    # evaluation protocol of the EVA papers (off = detectron2's default post-processing)
    soft_nms=None,  # e.g. dict(method="linear", iou_threshold=0.6, sigma=0.5, class_wise=True)
    maskness_thresh=None,  # e.g. 0.5: scores multiplied by the mean mask probability above it
)
