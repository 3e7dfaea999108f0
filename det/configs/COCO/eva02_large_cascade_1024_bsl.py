"""EVA-02-L Cascade Mask R-CNN on COCO, baseline ("bsl") setting of the EVA-02 paper: 1024 LSJ, window 16,
global blocks 5, 11, 17, 23, lr 6e-5, layer decay 0.8, drop path 0.4, 60k iterations, batch 144."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.schedule import lr_multiplier, optimizer, train


recipe = dict(variant="eva02_large_patch14_224", img_size=1024, test_size=1024, window_size=16,
              global_blocks=[5, 11, 17, 23], drop_path=0.4, lr=6e-05, layer_decay=0.8, batch_size=144,
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
optimizer.params.lr_factor_func.keywords.update(lr_decay_rate=recipe["layer_decay"], num_layers=24)
train.max_iter = recipe["max_iter"]
train.model_ema.enabled = recipe["ema"]
lr_multiplier.scheduler.milestones = recipe["milestones"]
lr_multiplier.warmup_length = recipe["warmup_iters"] / recipe["max_iter"]
