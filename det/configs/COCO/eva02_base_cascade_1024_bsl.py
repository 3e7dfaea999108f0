"""EVA-02-B Cascade Mask R-CNN on COCO, baseline ("bsl") setting of the EVA-02 paper: 1024 LSJ, window 16,
global blocks 2, 5, 8, 11, lr 5e-5, layer decay 0.7, drop path 0.1, 60k iterations."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva02_base_patch14_224", img_size=1024, test_size=1024, window_size=16,
              global_blocks=[2, 5, 8, 11],
              drop_path=0.1, lr=5e-05, layer_decay=0.7, batch_size=128,
              max_iter=60000, milestones=[48000, 54000], warmup_iters=1000, ema=False)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
