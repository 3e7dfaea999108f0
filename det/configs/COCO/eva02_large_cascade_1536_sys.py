"""EVA-02-L Cascade Mask R-CNN on COCO, system-level ("sys") setting (BAAI EVA-02 det config): 1536 LSJ,
window 32, 8 global blocks 2, 5, ..., 23, lr 5e-5, layer decay 0.8, drop path 0.4, batch 128, 60k."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva02_large_patch14_224", img_size=1536, test_size=1536, window_size=32,
              global_blocks=[2, 5, 8, 11, 14, 17, 20, 23],
              drop_path=0.4, lr=5e-05, layer_decay=0.8, batch_size=128,
              max_iter=60000, milestones=[48000, 54000], warmup_iters=1000, ema=False)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
