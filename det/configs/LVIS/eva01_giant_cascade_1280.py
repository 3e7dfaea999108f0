"""EVA-01-g Cascade Mask R-CNN on LVIS v1 (EVA paper; BAAI EVA-01 det config): the COCO recipe with
lr 2e-4, 75k iterations (steps at 70k / 75k), 250 warmup, repeat-factor sampling 0.001, federated loss,
up to 1000 detections per image at score >= 0.001."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.schedule import lr_multiplier, optimizer, train
from ..common.lvis import to_lvis


recipe = dict(variant="eva_giant_patch14_224", img_size=1280, test_size=1536, window_size=16,
              global_blocks=[3, 7, 11, 15, 19, 23, 27, 31, 35, 39], drop_path=0.6, lr=0.0002, layer_decay=0.9, batch_size=64,
              max_iter=75000, milestones=[70000, 75000], warmup_iters=250, ema=False)

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
to_lvis(model, dataloader, max_dets=1000, score_thresh=0.001)
model.backbone.net.freeze_patch_embed = True
