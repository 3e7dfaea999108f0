"""EVA-02-L Cascade R-CNN (boxes only: Objects365 has no masks) on Objects365 v2, the intermediate stage before the
COCO / LVIS transfers (BAAI EVA-02 det config): 1536 LSJ, window 16, global blocks 2, 5, ..., 23, drop path 0.4,
lr 6e-5, layer decay 0.8, batch 160, 400k iterations (steps at 80% / 90%), 5k warmup, 365 classes.

Objects365 is not built into detectron2: ``common/objects365.py`` registers its COCO-format annotations from
``datasets/objects365/``."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.objects365 import to_objects365
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva02_large_patch14_224", img_size=1536, test_size=1536, window_size=16,
              global_blocks=[2, 5, 8, 11, 14, 17, 20, 23],
              drop_path=0.4, lr=6e-5, layer_decay=0.8, batch_size=160,
              max_iter=400000, milestones=[320000, 360000], warmup_iters=5000, ema=False)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)

to_objects365(model, dataloader)
train.checkpointer.period = 2500
train.eval_period = 10000
