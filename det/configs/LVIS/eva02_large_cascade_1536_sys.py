"""EVA-02-L Cascade Mask R-CNN on LVIS v1, system-level setting (BAAI EVA-02 det config): 1536, window 32,
lr 1e-4, 40k iterations, batch 128, repeat-factor sampling 0.001, federated loss."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.lvis import to_lvis
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva02_large_patch14_224", img_size=1536, test_size=1536, window_size=32,
              global_blocks=[2, 5, 8, 11, 14, 17, 20, 23],
              drop_path=0.4, lr=0.0001, layer_decay=0.8, batch_size=128,
              max_iter=40000, milestones=[32000, 36000], warmup_iters=1000, ema=False)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
to_lvis(model, dataloader)
