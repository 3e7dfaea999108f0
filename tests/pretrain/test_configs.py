"""The published recipes, checked number by number, and every config builds its model."""
from pathlib import Path

import pytest
from mmengine.config import Config

CONFIGS = Path(__file__).resolve().parents[2] / "pretrain" / "configs"

# (config, variant, dataset, epochs, global batch, lr, warmup epochs, drop path, teacher type, stop-grad)
PAPER = [
    ("eva01_giant_p14_merged30m.py", "eva_giant_patch14_224", "Merged-30M", 150, 4096, 1e-3, 2, 0.1, "open_clip",
     False),
    ("eva02_tiny_p14_in21k.py", "eva02_tiny_patch14_224", "ImageNet-21K", 240, 4000, 3e-3, 1, 0.0, "eva_clip", True),
    ("eva02_small_p14_in21k.py", "eva02_small_patch14_224", "ImageNet-21K", 240, 4000, 3e-3, 1, 0.0, "eva_clip",
     True),
    ("eva02_base_p14_in21k.py", "eva02_base_patch14_224", "ImageNet-21K", 150, 2048, 1.5e-3, 1, 0.0, "eva_clip",
     True),
    ("eva02_large_p14_in21k.py", "eva02_large_patch14_224", "ImageNet-21K", 150, 2048, 1.5e-3, 1, 0.1, "eva_clip",
     True),
]


PAPER.append(("eva01_giant_p14_merged30m_fsdp.py",) + PAPER[0][1:])  # the same recipe, sharded


@pytest.mark.parametrize("row", PAPER, ids=[r[0] for r in PAPER])
def test_recipe_numbers(row):
    name, variant, dataset, epochs, batch, lr, warmup, dpr, teacher, stop_grad = row
    cfg = Config.fromfile(CONFIGS / name)
    assert cfg.model.backbone.name == variant
    assert cfg.recipe.dataset == dataset
    assert cfg.train_cfg.max_epochs == epochs
    assert cfg.train_dataloader.batch_size * cfg.num_gpus * cfg.optim_wrapper.accumulative_counts == batch
    assert cfg.optim_wrapper.optimizer.lr == lr
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, tuple(opt.betas), opt.eps, opt.weight_decay) == ("AdamW", (0.9, 0.98), 1e-6, 0.05)
    assert cfg.optim_wrapper.clip_grad.max_norm == 3.0
    warm, cosine = cfg.param_scheduler
    # cosine runs to the end of training: mmengine sets a missing `end` to max_epochs
    assert (warm.type, warm.end, cosine.type, cosine.begin, cosine.get("end", cfg.train_cfg.max_epochs)) == \
        ("LinearLR", warmup, "CosineAnnealingLR", warmup, epochs)
    assert cfg.model.backbone.drop_path_rate == dpr
    assert cfg.model.teacher.type == teacher and cfg.model.stop_grad_conv1 == stop_grad
    if teacher == "open_clip":
        assert cfg.model.teacher.model_name == "ViT-L-14"  # EVA-01: CLIP ViT-L/14 at 224
    else:
        assert cfg.model.teacher.variant == "eva_giant_patch14_clip_224" and cfg.model.teacher.embed_dim == 1024
    assert cfg.train_dataloader.dataset.transform.mask_ratio == pytest.approx(105 / 256)


def test_demo_config_builds_its_model():
    import eva.pretrain  # noqa: F401
    from mmengine.registry import MODELS

    cfg = Config.fromfile(CONFIGS / "eva02_tiny_demo_fashion_mnist.py")
    model = MODELS.build(cfg.model)
    assert model.student.grid == (10, 10) and model.teacher.out_dim == 112


def test_fsdp_config_shards_blocks_and_keeps_original_parameters():
    cfg = Config.fromfile(CONFIGS / "eva01_giant_p14_merged30m_fsdp.py")
    assert cfg.runner_type == "FlexibleRunner" and cfg.strategy.type == "FSDPStrategy"
    wrapper = cfg.strategy.model_wrapper
    assert wrapper.use_orig_params and wrapper.auto_wrap_policy == "eva_block_wrap_policy"
    assert cfg.strategy.state_dict_cfg == "full" and cfg.model.grad_checkpointing
