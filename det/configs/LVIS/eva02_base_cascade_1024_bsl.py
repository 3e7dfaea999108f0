"""EVA-02-B Cascade Mask R-CNN on LVIS v1, baseline setting (BAAI EVA-02 det config): 1024 LSJ, window 16,
global blocks 2, 5, 8, 11, lr 1e-4, layer decay 0.7, drop path 0.1, batch 128, 50k iterations."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.lvis import to_lvis
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva02_base_patch14_224", img_size=1024, test_size=1024, window_size=16,
              global_blocks=[2, 5, 8, 11],
              drop_path=0.1, lr=1e-4, layer_decay=0.7, batch_size=128,
              max_iter=50000, milestones=[40000, 45000], warmup_iters=1000, ema=False)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
to_lvis(model, dataloader)
