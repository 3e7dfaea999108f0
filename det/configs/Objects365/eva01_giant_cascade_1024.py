"""EVA-01-g Cascade R-CNN (boxes only) on Objects365 v2, first part of the intermediate stage before the COCO /
LVIS transfers: patch 16, window 16, global blocks 3, 7, ..., 39, decomposed relative positions, LSJ 1024, drop
path 0.6, lr 1e-4 with layer decay 0.9, batch 128, 15k warmup, then a constant lr, 335k iterations. The second
part, ``eva01_giant_cascade_1280.py``, continues at 1280.

Sources: BAAI's released ``eva_o365`` saw 380k Objects365 iterations (EVA det README); their Objects365 configs
for the 1B model (left in the EVA-02 det tree) train at 1024 with the numbers above, then at 1280 with 5k warmup
and an lr step 45k iterations in. Splitting the 380k as 335k + 45k, stopping the second part at that step, is
our reading of those two files. BAAI also trained on Objects365's train set plus 50k of its val images; add
yours to ``dataloader.train.dataset.names``.

Start from the MIM checkpoint: ``model.backbone.net.pretrained=eva_psz14.pt`` (converted 14 -> 16 on load).
Objects365 is not built into detectron2: ``common/objects365.py`` registers it from ``datasets/objects365/``."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.objects365 import to_objects365
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva_giant_patch14_224", img_size=1024, test_size=1024, window_size=16,
              global_blocks=[3, 7, 11, 15, 19, 23, 27, 31, 35, 39],
              drop_path=0.6, lr=1e-4, layer_decay=0.9, batch_size=128,
              max_iter=335000, milestones=None, warmup_iters=15000, ema=False, constant_lr=True)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
model.backbone.net.update(rel_pos=True)  # EVA-01: decomposed relative positions
to_objects365(model, dataloader)
train.output_dir = "work_dirs/o365_eva01_1024"
train.checkpointer.period = 5000
train.eval_period = 20000
