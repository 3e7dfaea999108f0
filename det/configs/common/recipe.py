"""One place that turns a recipe's numbers into config fields, so each recipe file holds only its numbers."""
from detectron2.config import LazyCall as L
from fvcore.common.param_scheduler import ConstantParamScheduler

from eva.backbone import model_args


def apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier):
    """Set backbone, LSJ sizes, batch, lr, layer decay, schedule and EMA from ``recipe`` (a dict with ``variant,
    img_size, test_size, window_size, global_blocks, drop_path, lr, layer_decay, batch_size, max_iter,
    milestones, warmup_iters, ema`` and optionally ``constant_lr``)."""
    r = recipe
    model.backbone.net.update(variant=r["variant"], img_size=r["img_size"], window_size=r["window_size"],
                              global_blocks=r["global_blocks"], drop_path_rate=r["drop_path"],
                              grad_checkpointing=True)
    model.backbone.square_pad = r["img_size"]
    model.backbone.test_square_pad = r["test_size"]
    train_augs = dataloader.train.mapper.augmentations
    train_augs[1].update(target_height=r["img_size"], target_width=r["img_size"])
    train_augs[2].crop_size = (r["img_size"], r["img_size"])
    dataloader.test.mapper.augmentations[0].update(short_edge_length=r["test_size"], max_size=r["test_size"])
    dataloader.train.total_batch_size = r["batch_size"]
    optimizer.lr = r["lr"]
    optimizer.params.lr_factor_func.keywords.update(lr_decay_rate=r["layer_decay"],
                                                   num_layers=model_args(r["variant"])["depth"])
    train.max_iter = r["max_iter"]
    train.model_ema.enabled = r["ema"]
    if r.get("constant_lr"):
        lr_multiplier.scheduler = L(ConstantParamScheduler)(value=1.0)
    else:
        lr_multiplier.scheduler.milestones = r["milestones"]
        lr_multiplier.scheduler.values = [0.1 ** i for i in range(len(r["milestones"]) + 1)]  # x0.1 at each
    lr_multiplier.warmup_length = r["warmup_iters"] / r["max_iter"]
