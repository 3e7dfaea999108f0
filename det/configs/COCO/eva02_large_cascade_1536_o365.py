"""EVA-02-L Objects365 -> COCO (BAAI EVA-02 det config): start from the Objects365-trained detector
(train.init_checkpoint), 1536, window 16, global 2, 5, ..., 23, drop path 0.3, lr 4e-5, layer decay 0.8,
batch 64, 40k iterations at a constant lr after 1% warmup, model EMA 0.9999."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva02_large_patch14_224", img_size=1536, test_size=1536, window_size=16,
              global_blocks=[2, 5, 8, 11, 14, 17, 20, 23],
              drop_path=0.3, lr=4e-05, layer_decay=0.8, batch_size=64,
              max_iter=40000, milestones=[], warmup_iters=400, ema=True, constant_lr=True)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
