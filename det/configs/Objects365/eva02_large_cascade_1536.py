"""EVA-02-L Cascade R-CNN (boxes only: Objects365 has no masks) on Objects365 v2, the intermediate stage before the
COCO / LVIS transfers (BAAI EVA-02 det config): 1536 LSJ, window 16, global blocks 2, 5, ..., 23, drop path 0.4,
lr 6e-5, layer decay 0.8, batch 160, 400k iterations (steps at 80% / 90%), 5k warmup, 365 classes.

Objects365 is not built into detectron2: point the two registrations below at its COCO-format annotations."""
from detectron2.config import LazyCall as L
from detectron2.data import get_detection_dataset_dicts

from eva.det.data import register_coco_json

from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva02_large_patch14_224", img_size=1536, test_size=1536, window_size=16,
              global_blocks=[2, 5, 8, 11, 14, 17, 20, 23],
              drop_path=0.4, lr=6e-5, layer_decay=0.8, batch_size=160,
              max_iter=400000, milestones=[320000, 360000], warmup_iters=5000, ema=False)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)

model.roi_heads.update(num_classes=365, mask_in_features=None, mask_pooler=None, mask_head=None)
_train = L(register_coco_json)(name="objects365_v2_train", json_file="datasets/objects365/annotations/train.json",
                               image_root="datasets/objects365/train")
_val = L(register_coco_json)(name="objects365_v2_val", json_file="datasets/objects365/annotations/val.json",
                             image_root="datasets/objects365/val")
dataloader.train.dataset = L(get_detection_dataset_dicts)(names=_train)
dataloader.test.dataset = L(get_detection_dataset_dicts)(names=_val, filter_empty=False)
dataloader.evaluator.dataset_name = _val
dataloader.train.mapper.use_instance_mask = False
dataloader.train.mapper.recompute_boxes = False
train.checkpointer.period = 2500
train.eval_period = 10000
