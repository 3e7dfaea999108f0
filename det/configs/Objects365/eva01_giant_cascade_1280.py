"""EVA-01-g on Objects365 v2, second part of the intermediate stage: ``eva01_giant_cascade_1024.py`` continued at
LSJ 1280 for 45k iterations (5k warmup to lr 1e-4, constant after), 380k Objects365 iterations in all, the count
of BAAI's released ``eva_o365``. BAAI's file for this part drops the lr x0.1 at 45k; we stop there (for a decayed
tail, raise ``train.max_iter`` and set ``lr_multiplier.scheduler``). Its result starts
``COCO/eva01_giant_cascade_1280.py`` and ``LVIS/...``.

    eva det train --config-file det/configs/Objects365/eva01_giant_cascade_1280.py \\
        --init-checkpoint work_dirs/o365_eva01_1024/model_final.pth
"""
from ..common.recipe import apply_recipe
from .eva01_giant_cascade_1024 import dataloader, lr_multiplier, model, optimizer, recipe, train

recipe = dict(recipe, img_size=1280, test_size=1280, max_iter=45000, warmup_iters=5000)
apply_recipe(recipe, model, dataloader, optimizer, train, lr_multiplier)
train.output_dir = "work_dirs/o365_eva01_1280"
