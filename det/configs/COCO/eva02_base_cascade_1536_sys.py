"""EVA-02-B Cascade Mask R-CNN on COCO, system-level ("sys") setting: 1536 LSJ with window 32 (other numbers
as the B baseline)."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.schedule import lr_multiplier, optimizer, train


recipe = dict(variant="eva02_base_patch14_224", img_size=1536, test_size=1536, window_size=32,
              global_blocks=[2, 5, 8, 11], drop_path=0.1, lr=5e-05, layer_decay=0.7, batch_size=128,
              max_iter=60000, milestones=[48000, 54000], warmup_iters=1000, ema=False)

model.backbone.net.update(variant=recipe["variant"], img_size=recipe["img_size"], window_size=recipe["window_size"],
                          global_blocks=recipe["global_blocks"], drop_path_rate=recipe["drop_path"],
                          grad_checkpointing=True)
model.backbone.square_pad = recipe["img_size"]
dataloader.train.total_batch_size = recipe["batch_size"]
dataloader.train.mapper.augmentations[1].update(target_height=recipe["img_size"], target_width=recipe["img_size"])
dataloader.train.mapper.augmentations[2].crop_size = (recipe["img_size"], recipe["img_size"])
dataloader.test.mapper.augmentations[0].update(short_edge_length=recipe["test_size"], max_size=recipe["test_size"])
optimizer.lr = recipe["lr"]
optimizer.params.lr_factor_func.keywords.update(lr_decay_rate=recipe["layer_decay"], num_layers=12)
train.max_iter = recipe["max_iter"]
train.model_ema.enabled = recipe["ema"]
lr_multiplier.scheduler.milestones = recipe["milestones"]
lr_multiplier.warmup_length = recipe["warmup_iters"] / recipe["max_iter"]
