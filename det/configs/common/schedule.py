"""Optimizer, schedule and trainer settings shared by the EVA detection recipes.

AdamW with the backbone's layer-wise lr decay (``eva_lr_factor``), step schedule with linear warmup, AMP
(bf16 autocast where supported), optional model EMA; `recipe.apply_recipe` turns activation checkpointing on.
"""
from functools import partial

from detectron2 import model_zoo
from detectron2.config import LazyCall as L
from detectron2.solver import WarmupParamScheduler
from fvcore.common.param_scheduler import MultiStepParamScheduler

from eva.det.lr_decay import eva_lr_factor

train = model_zoo.get_config("common/train.py").train
train.amp.enabled = True
train.amp.precision = "bfloat16"  # autocast dtype of detectron2's AMPTrainer (CUDA only)
train.ddp.fp16_compression = True
train.max_iter = 60000
train.eval_period = 5000
train.checkpointer.period = 5000
train.seed = 0  # data order, augmentation and per-step random draws: a resumed run continues exactly
# model EMA (decay per step); evaluation uses the averaged weights when enabled
train.model_ema = dict(enabled=False, decay=0.9999, use_for_eval=True)

optimizer = model_zoo.get_config("common/optim.py").AdamW
optimizer.lr = 5e-5
optimizer.betas = (0.9, 0.999)
optimizer.weight_decay = 0.1
optimizer.params.lr_factor_func = partial(eva_lr_factor, lr_decay_rate=0.7, num_layers=12)
optimizer.params.overrides = {}
optimizer.params.weight_decay_norm = None  # EVA's recipes decay norms like other weights

lr_multiplier = L(WarmupParamScheduler)(
    scheduler=L(MultiStepParamScheduler)(values=[1.0, 0.1, 0.01], milestones=[48000, 54000],
                                         num_updates="${train.max_iter}"),
    warmup_length=1000 / 60000,
    warmup_factor=0.001,
)
