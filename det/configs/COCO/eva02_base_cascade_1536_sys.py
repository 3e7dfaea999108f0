"""EVA-02-B Cascade Mask R-CNN on COCO, system-level ("sys") setting (BAAI EVA-02 det config): 1536 LSJ, window 32,
6 global blocks 1, 3, ..., 11, lr 5e-5, layer decay 0.7, drop path 0.1, batch 128, 60k iterations."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva02_base_patch14_224", img_size=1536, test_size=1536, window_size=32,
              global_blocks=[1, 3, 5, 7, 9, 11],
              drop_path=0.1, lr=5e-05, layer_decay=0.7, batch_size=128,
              max_iter=60000, milestones=[48000, 54000], warmup_iters=1000, ema=False)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
