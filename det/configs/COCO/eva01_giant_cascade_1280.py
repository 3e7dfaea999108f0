"""EVA-01-g Cascade Mask R-CNN on COCO (EVA paper; BAAI EVA-01 det config): patch 16, window 16, global
blocks 3, 7, ..., 39, decomposed relative positions, LSJ 1280 train / 1536 test, batch 64, lr 2.5e-5, layer
decay 0.9, drop path 0.6, 45k iterations (step at 40k), 500 warmup. Start from an Objects365-intermediate or
the MIM checkpoint (14 -> 16 converted): model.backbone.net.pretrained=..."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.schedule import lr_multiplier, optimizer, train


recipe = dict(variant="eva_giant_patch14_224", img_size=1280, test_size=1536, window_size=16,
              global_blocks=[3, 7, 11, 15, 19, 23, 27, 31, 35, 39], drop_path=0.6, lr=2.5e-05, layer_decay=0.9, batch_size=64,
              max_iter=45000, milestones=[40000, 44999], warmup_iters=500, ema=False)

model.backbone.net.update(variant=recipe["variant"], img_size=recipe["img_size"], window_size=recipe["window_size"],
                          global_blocks=recipe["global_blocks"], drop_path_rate=recipe["drop_path"],
                          grad_checkpointing=True, rel_pos=True)
model.backbone.square_pad = recipe["img_size"]
dataloader.train.total_batch_size = recipe["batch_size"]
dataloader.train.mapper.augmentations[1].update(target_height=recipe["img_size"], target_width=recipe["img_size"])
dataloader.train.mapper.augmentations[2].crop_size = (recipe["img_size"], recipe["img_size"])
dataloader.test.mapper.augmentations[0].update(short_edge_length=recipe["test_size"], max_size=recipe["test_size"])
optimizer.lr = recipe["lr"]
optimizer.params.lr_factor_func.keywords.update(lr_decay_rate=recipe["layer_decay"], num_layers=40)
train.max_iter = recipe["max_iter"]
train.model_ema.enabled = recipe["ema"]
lr_multiplier.scheduler.milestones = recipe["milestones"]
lr_multiplier.warmup_length = recipe["warmup_iters"] / recipe["max_iter"]
# EVA-01 keeps the patch embedding fixed while fine-tuning detection
model.backbone.net.freeze_patch_embed = True
