"""EVA-01-g Cascade Mask R-CNN on COCO (EVA paper; BAAI EVA-01 det config): patch 16, window 16, global
blocks 3, 7, ..., 39, decomposed relative positions, LSJ 1280 train / 1536 test, batch 64, lr 2.5e-5, layer
decay 0.9, drop path 0.6, 45k iterations (step at 40k), 500 warmup. Start from an Objects365-intermediate or
the MIM checkpoint (14 -> 16 converted): model.backbone.net.pretrained=..."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva_giant_patch14_224", img_size=1280, test_size=1536, window_size=16,
              global_blocks=[3, 7, 11, 15, 19, 23, 27, 31, 35, 39],
              drop_path=0.6, lr=2.5e-05, layer_decay=0.9, batch_size=64,
              max_iter=45000, milestones=[40000, 44999], warmup_iters=500, ema=False)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
model.backbone.net.update(rel_pos=True, freeze_patch_embed=True)  # EVA-01: rel-pos, fixed patch embedding
