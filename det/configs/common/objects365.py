"""Objects365 v2 changes to a COCO recipe: 365 classes, boxes only (the set has no masks), COCO-format
annotations registered from ``datasets/objects365/`` (detectron2 does not ship them: edit the paths)."""
from detectron2.config import LazyCall as L
from detectron2.data import get_detection_dataset_dicts

from eva.det.data import register_coco_json

ROOT = "datasets/objects365"


def to_objects365(model, dataloader, root=ROOT):
    """Mutate a COCO ``model`` / ``dataloader`` config into its box-only Objects365 v2 counterpart."""
    model.roi_heads.update(num_classes=365, mask_in_features=None, mask_pooler=None, mask_head=None)
    train = L(register_coco_json)(name="objects365_v2_train", json_file=f"{root}/annotations/train.json",
                                  image_root=f"{root}/train")
    val = L(register_coco_json)(name="objects365_v2_val", json_file=f"{root}/annotations/val.json",
                                image_root=f"{root}/val")
    dataloader.train.dataset = L(get_detection_dataset_dicts)(names=train)
    dataloader.test.dataset = L(get_detection_dataset_dicts)(names=val, filter_empty=False)
    dataloader.evaluator.dataset_name = val
    dataloader.train.mapper.use_instance_mask = False
    dataloader.train.mapper.recompute_boxes = False
