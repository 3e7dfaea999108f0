"""EVA-02-L Objects365 -> LVIS v1 (BAAI EVA-02 det config): as Objects365 -> COCO with 70k iterations,
repeat-factor sampling and the federated loss."""
from ..common.cascade_mask_rcnn_eva import model
from ..common.lsj_data import dataloader
from ..common.schedule import lr_multiplier, optimizer, train
from detectron2.config import LazyCall as L
from detectron2.solver import WarmupParamScheduler
from fvcore.common.param_scheduler import CosineParamScheduler
from ..common.lvis import to_lvis


recipe = dict(variant="eva02_large_patch14_224", img_size=1536, test_size=1536, window_size=16,
              global_blocks=[2, 5, 8, 11, 14, 17, 20, 23], drop_path=0.3, lr=4e-05, layer_decay=0.8, batch_size=64,
              max_iter=70000, milestones=[], warmup_iters=700, ema=True)

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
lr_multiplier = L(WarmupParamScheduler)(
    scheduler=L(CosineParamScheduler)(start_value=1.0, end_value=1.0),  # constant lr after warmup
    warmup_length=recipe["warmup_iters"] / recipe["max_iter"],
    warmup_factor=0.001,
)
to_lvis(model, dataloader)
