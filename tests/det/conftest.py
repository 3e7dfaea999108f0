"""det tests need detectron2 (not on any package registry): they skip with the reason when it is absent."""
from pathlib import Path

import pytest

pytest.importorskip("detectron2", reason="detectron2 is not installed: install it from its upstream source "
                                         "(README, 'Set-up details') to run the det tests")

CONFIGS = Path(__file__).resolve().parents[2] / "det" / "configs"


def tiny_model_cfg(num_classes: int = 3, img: int = 128, **net):
    """The shipped Cascade Mask R-CNN config with a 2-block EVA-02-Ti backbone at ``img`` pixels."""
    from detectron2.config import LazyConfig

    cfg = LazyConfig.load(str(CONFIGS / "common" / "cascade_mask_rcnn_eva.py"))
    cfg.model.backbone.net.update(dict(variant="eva02_tiny_patch14_224", depth=2, img_size=img, window_size=4,
                                       global_blocks=[1], drop_path_rate=0.0), **net)
    cfg.model.backbone.square_pad = img
    cfg.model.roi_heads.num_classes = num_classes
    # CPU-sized proposal budget (the recipe's 2000 / 1000 proposals only cost time here)
    cfg.model.proposal_generator.update(pre_nms_topk=(200, 100), post_nms_topk=(64, 32))
    cfg.model.roi_heads.batch_size_per_image = 64
    return cfg
