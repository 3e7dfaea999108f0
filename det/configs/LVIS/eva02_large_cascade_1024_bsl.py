"""EVA-02-L Cascade Mask R-CNN on LVIS v1, baseline setting (BAAI EVA-02 det config): 1024 LSJ, window 16,
global blocks 5, 11, 17, 23, lr 1e-4, layer decay 0.8, drop path 0.4, batch 128, 40k iterations."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.lvis import to_lvis
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva02_large_patch14_224", img_size=1024, test_size=1024, window_size=16,
              global_blocks=[5, 11, 17, 23],
              drop_path=0.4, lr=1e-4, layer_decay=0.8, batch_size=128,
              max_iter=40000, milestones=[32000, 36000], warmup_iters=1000, ema=False)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
to_lvis(model, dataloader)
