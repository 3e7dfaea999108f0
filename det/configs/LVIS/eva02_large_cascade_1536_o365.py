"""EVA-02-L Objects365 -> LVIS v1 (BAAI EVA-02 det config): as Objects365 -> COCO with 70k iterations,
repeat-factor sampling and the federated loss."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.lvis import to_lvis
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva02_large_patch14_224", img_size=1536, test_size=1536, window_size=16,
              global_blocks=[2, 5, 8, 11, 14, 17, 20, 23],
              drop_path=0.3, lr=4e-05, layer_decay=0.8, batch_size=64,
              max_iter=70000, milestones=[], warmup_iters=700, ema=True, constant_lr=True)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
to_lvis(model, dataloader)
