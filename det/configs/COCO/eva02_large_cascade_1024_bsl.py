"""EVA-02-L Cascade Mask R-CNN on COCO, baseline ("bsl") setting of the EVA-02 paper: 1024 LSJ, window 16,
global blocks 5, 11, 17, 23, lr 6e-5, layer decay 0.8, drop path 0.4, 60k iterations, batch 144."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva02_large_patch14_224", img_size=1024, test_size=1024, window_size=16,
              global_blocks=[5, 11, 17, 23],
              drop_path=0.4, lr=6e-05, layer_decay=0.8, batch_size=144,
              max_iter=60000, milestones=[48000, 54000], warmup_iters=1000, ema=False)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
