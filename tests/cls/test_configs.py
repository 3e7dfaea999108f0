"""The published classification recipes, number by number, and every config builds its model (depth cut to 1
so the 1B-parameter variants build in a second)."""
import pytest
import torch
from mmengine.config import Config

from .conftest import CONFIGS

# config: (variant, img, epochs, global batch, lr, layer decay, drop path, smoothing, ema, classes)
PAPER = {
    "eva01_giant_p14_in21k_224.py": ("eva_giant_patch14_224", 224, 60, 4096, 1e-4, 0.85, 0.4, 0.1, False, 21841),
    "eva01_giant_p14_in1k_336.py": ("eva_giant_patch14_336", 336, 10, 512, 3e-5, 0.95, 0.4, 0.3, True, 1000),
    "eva01_giant_p14_in1k_560.py": ("eva_giant_patch14_560", 560, 15, 512, 3e-5, 0.95, 0.4, 0.3, True, 1000),
    "eva02_tiny_p14_in1k_336.py": ("eva02_tiny_patch14_336", 336, 100, 1024, 2e-4, 0.9, 0.1, 0.1, True, 1000),
    "eva02_small_p14_in1k_336.py": ("eva02_small_patch14_336", 336, 100, 1024, 1e-4, 0.8, 0.1, 0.1, True, 1000),
    "eva02_base_p14_in1k_448.py": ("eva02_base_patch14_448", 448, 30, 1024, 1e-4, 0.7, 0.1, 0.1, True, 1000),
    "eva02_large_p14_in1k_448.py": ("eva02_large_patch14_448", 448, 30, 1024, 5e-5, 0.8, 0.15, 0.2, True, 1000),
}


def _ema(cfg):
    return [h for h in cfg.custom_hooks if h["type"] == "EMAHook"]


@pytest.mark.parametrize("name", sorted(PAPER))
def test_fine_tuning_recipe_numbers(name):
    variant, img, epochs, batch, lr, lrd, dpr, smoothing, ema, classes = PAPER[name]
    cfg = Config.fromfile(CONFIGS / name)
    assert cfg.model.backbone.name == variant and cfg.model.backbone.img_size == img
    assert cfg.train_dataloader.dataset.transform.img_size == img == cfg.val_dataloader.dataset.transform.img_size
    assert cfg.train_cfg.max_epochs == epochs
    assert cfg.train_dataloader.batch_size * cfg.num_gpus * cfg.optim_wrapper.accumulative_counts == batch
    assert cfg.optim_wrapper.optimizer.type == "AdamW" and cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.optim_wrapper.optimizer.lr == lr and cfg.optim_wrapper.paramwise_cfg.layer_decay == lrd
    assert cfg.optim_wrapper.constructor == "LayerDecayOptimWrapperConstructor"
    assert cfg.model.backbone.drop_path_rate == dpr and cfg.model.label_smoothing == smoothing
    assert cfg.model.num_classes == classes == cfg.model.data_preprocessor.num_classes
    assert cfg.model.get("head", "finetune") == "finetune"  # avg pool + fc_norm + linear
    assert cfg.train_dataloader.dataset.transform.auto_augment == "rand-m9-mstd0.5-inc1"
    assert bool(_ema(cfg)) == ema and all(h["momentum"] == 1e-4 for h in _ema(cfg))  # decay 0.9999
    warm, cosine = cfg.param_scheduler
    assert (warm.type, cosine.type, cosine.begin, cosine.eta_min) == ("LinearLR", "CosineAnnealingLR", warm.end, 0.0)


def test_eva01_in21k_stage_uses_cutmix_and_evaluates_on_in1k():
    cfg = Config.fromfile(CONFIGS / "eva01_giant_p14_in21k_224.py")
    assert cfg.model.data_preprocessor.cutmix_alpha == 1.0 and cfg.model.data_preprocessor.mixup_alpha == 0.0
    assert cfg.optim_wrapper.optimizer.betas == (0.9, 0.98) and cfg.optim_wrapper.optimizer.eps == 1e-6
    assert cfg.warmup_epochs == 15 and cfg.val_evaluator.label_map == "in1k_from_21k"


def test_eva_clip_linear_probe_recipe():
    cfg = Config.fromfile(CONFIGS / "eva_clip_giant_p14_linear_probe_in1k.py")
    assert cfg.model.head == "linear_probe" and cfg.model.backbone.name == "eva_giant_patch14_clip_224"
    assert cfg.train_cfg.max_epochs == 90 and cfg.warmup_epochs == 10
    assert cfg.train_dataloader.batch_size * cfg.num_gpus == 16000
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ("ProbeLars", 1.0, 0.0) and "betas" not in opt
    assert cfg.train_dataloader.dataset.transform.auto_augment is None  # crop + flip only


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.py")))
def test_every_config_builds(name):
    import eva.cls  # noqa: F401
    from mmengine.registry import MODELS

    cfg = Config.fromfile(CONFIGS / name)
    cfg.model.pretrained = None
    cfg.model.backbone.depth = 1
    model = MODELS.build(cfg.model)
    img = cfg.model.backbone.get("img_size", 224)
    assert model.backbone.grid == tuple(s // model.backbone.patch_embed.patch_size[0] for s in (img, img))
    if name.startswith("eva02_tiny_demo"):
        with torch.no_grad():
            assert model(torch.randn(2, 3, img, img)).shape == (2, cfg.model.num_classes)
