"""EVA-01-g Cascade Mask R-CNN on LVIS v1 (EVA paper; BAAI EVA-01 det config): the COCO recipe with
lr 2e-4, 75k iterations (x0.1 at 70k; BAAI's second step, at 75k, is the last iteration and has no
effect), 250 warmup, repeat-factor sampling 0.001, federated loss, up to 1000 detections per image at
score >= 0.001."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.lvis import to_lvis
from ..common.recipe import apply_recipe
from ..common.schedule import lr_multiplier, optimizer, train

recipe = dict(variant="eva_giant_patch14_224", img_size=1280, test_size=1536, window_size=16,
              global_blocks=[3, 7, 11, 15, 19, 23, 27, 31, 35, 39],
              drop_path=0.6, lr=0.0002, layer_decay=0.9, batch_size=64,
              max_iter=75000, milestones=[70000], warmup_iters=250, ema=False)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
model.backbone.net.update(rel_pos=True, freeze_patch_embed=True)  # EVA-01: rel-pos, fixed patch embedding
to_lvis(model, dataloader, max_dets=1000, score_thresh=0.001)
