"""Every LazyConfig's numbers against the EVA papers' recipes, and every config instantiates (backbone cut to
2 blocks so the 1B model builds in seconds)."""
import pytest
from detectron2.config import LazyConfig, instantiate

from .conftest import CONFIGS

G01 = list(range(3, 40, 4))
G02L8 = list(range(2, 24, 3))
# config: (variant, img, test img, window, global blocks, drop path, lr, layer decay, batch, iters, EMA, classes)
PAPER = {
    "COCO/eva01_giant_cascade_1280.py": ("eva_giant_patch14_224", 1280, 1536, 16, G01, 0.6, 2.5e-5, 0.9, 64, 45000,
                                         False, 80),
    "LVIS/eva01_giant_cascade_1280.py": ("eva_giant_patch14_224", 1280, 1536, 16, G01, 0.6, 2e-4, 0.9, 64, 75000,
                                         False, 1203),
    "COCO/eva02_base_cascade_1024_bsl.py": ("eva02_base_patch14_224", 1024, 1024, 16, [2, 5, 8, 11], 0.1, 5e-5, 0.7,
                                            128, 60000, False, 80),
    "COCO/eva02_large_cascade_1024_bsl.py": ("eva02_large_patch14_224", 1024, 1024, 16, [5, 11, 17, 23], 0.4, 6e-5,
                                             0.8, 144, 60000, False, 80),
    "COCO/eva02_base_cascade_1536_sys.py": ("eva02_base_patch14_224", 1536, 1536, 32, [1, 3, 5, 7, 9, 11], 0.1,
                                            5e-5, 0.7, 128, 60000, False, 80),
    "COCO/eva02_large_cascade_1536_sys.py": ("eva02_large_patch14_224", 1536, 1536, 32, G02L8, 0.4, 5e-5, 0.8, 128,
                                             60000, False, 80),
    "LVIS/eva02_base_cascade_1024_bsl.py": ("eva02_base_patch14_224", 1024, 1024, 16, [2, 5, 8, 11], 0.1, 1e-4, 0.7,
                                            128, 50000, False, 1203),
    "LVIS/eva02_large_cascade_1024_bsl.py": ("eva02_large_patch14_224", 1024, 1024, 16, [5, 11, 17, 23], 0.4, 1e-4,
                                             0.8, 128, 40000, False, 1203),
    "LVIS/eva02_large_cascade_1536_sys.py": ("eva02_large_patch14_224", 1536, 1536, 32, G02L8, 0.4, 1e-4, 0.8, 128,
                                             40000, False, 1203),
    "COCO/eva02_large_cascade_1536_o365.py": ("eva02_large_patch14_224", 1536, 1536, 16, G02L8, 0.3, 4e-5, 0.8, 64,
                                              40000, True, 80),
    "Objects365/eva02_large_cascade_1536.py": ("eva02_large_patch14_224", 1536, 1536, 16, G02L8, 0.4, 6e-5, 0.8, 160,
                                               400000, False, 365),
    "Objects365/eva01_giant_cascade_1024.py": ("eva_giant_patch14_224", 1024, 1024, 16, G01, 0.6, 1e-4, 0.9, 128,
                                               335000, False, 365),
    "Objects365/eva01_giant_cascade_1280.py": ("eva_giant_patch14_224", 1280, 1280, 16, G01, 0.6, 1e-4, 0.9, 128,
                                               45000, False, 365),
    "LVIS/eva02_large_cascade_1536_o365.py": ("eva02_large_patch14_224", 1536, 1536, 16, G02L8, 0.3, 4e-5, 0.8, 64,
                                              70000, True, 1203),
}


def _load(name):
    return LazyConfig.load(str(CONFIGS / name))


@pytest.mark.parametrize("name", sorted(PAPER))
def test_recipe_numbers(name):
    variant, img, test_img, window, global_blocks, dpr, lr, lrd, batch, iters, ema, classes = PAPER[name]
    cfg = _load(name)
    net = cfg.model.backbone.net
    assert (net.variant, net.img_size, net.patch_size, net.window_size) == (variant, img, 16, window)
    assert list(net.global_blocks) == global_blocks and net.drop_path_rate == dpr
    assert cfg.model.backbone.square_pad == img
    flip, resize, crop = cfg.dataloader.train.mapper.augmentations
    assert (resize.min_scale, resize.max_scale, resize.target_height, tuple(crop.crop_size)) == (0.1, 2.0, img,
                                                                                                (img, img))
    assert cfg.dataloader.test.mapper.augmentations[0].short_edge_length == test_img
    assert cfg.dataloader.train.total_batch_size == batch
    assert cfg.optimizer.lr == lr and cfg.optimizer.params.lr_factor_func.keywords["lr_decay_rate"] == lrd
    assert cfg.optimizer.params.lr_factor_func.keywords["num_layers"] == (40 if "giant" in variant else
                                                                          24 if "large" in variant else 12)
    assert cfg.train.max_iter == iters and cfg.train.model_ema.enabled == ema
    assert cfg.model.roi_heads.num_classes == classes
    if classes == 1203:
        assert cfg.dataloader.train.sampler.repeat_factors.repeat_thresh == 0.001
        assert all(p.use_fed_loss and p.use_sigmoid_ce for p in cfg.model.roi_heads.box_predictors)


def test_eva01_specifics():
    coco = _load("COCO/eva01_giant_cascade_1280.py")
    assert coco.model.backbone.net.rel_pos and coco.model.backbone.net.freeze_patch_embed
    assert list(coco.lr_multiplier.scheduler.milestones)[0] == 40000
    assert coco.lr_multiplier.warmup_length * coco.train.max_iter == pytest.approx(500)
    lvis = _load("LVIS/eva01_giant_cascade_1280.py")
    assert list(lvis.lr_multiplier.scheduler.milestones) == [70000]
    assert instantiate(lvis.lr_multiplier)(0.95) == pytest.approx(0.1)  # after the step at 70k of 75k
    assert lvis.dataloader.evaluator.max_dets_per_image == 1000


@pytest.mark.parametrize("name", [n for n in sorted(PAPER) if n.startswith("Objects365/")])
def test_objects365_stages_are_box_only(name):
    cfg = _load(name)
    assert cfg.model.roi_heads.mask_head is None and not cfg.dataloader.train.mapper.use_instance_mask
    assert cfg.dataloader.train.dataset.names.name == "objects365_v2_train"
    assert cfg.dataloader.evaluator.dataset_name.name == "objects365_v2_val"


def test_objects365_schedules():
    eva02 = _load("Objects365/eva02_large_cascade_1536.py")
    assert list(eva02.lr_multiplier.scheduler.milestones) == [320000, 360000]
    assert eva02.lr_multiplier.warmup_length * eva02.train.max_iter == pytest.approx(5000)
    # EVA-01-g: 335k iterations at 1024 (15k warmup), then 45k at 1280 (5k warmup): 380k, as BAAI's eva_o365
    first, second = _load("Objects365/eva01_giant_cascade_1024.py"), _load("Objects365/eva01_giant_cascade_1280.py")
    assert first.train.max_iter + second.train.max_iter == 380000
    assert first.train.output_dir != second.train.output_dir  # the second part starts from the first's weights
    assert second.model.backbone.square_pad == 1280 and second.model.backbone.net.img_size == 1280  # re-applied
    for cfg, warmup in ((first, 15000), (second, 5000)):
        assert cfg.model.backbone.net.rel_pos
        sched = instantiate(cfg.lr_multiplier)
        assert sched(0.5 * warmup / cfg.train.max_iter) < 0.6  # still warming up
        assert sched(warmup / cfg.train.max_iter + 0.01) == pytest.approx(1.0) and sched(0.99) == pytest.approx(1.0)


def test_o365_transfer_runs_at_constant_lr():
    from detectron2.solver import WarmupParamScheduler  # noqa: F401

    cfg = _load("COCO/eva02_large_cascade_1536_o365.py")
    sched = instantiate(cfg.lr_multiplier)
    assert sched(0.5) == pytest.approx(1.0) and sched(0.99) == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(PAPER))
def test_config_instantiates(name):
    cfg = _load(name)
    cfg.model.backbone.net.depth = 2
    cfg.model.backbone.net.global_blocks = [1]
    model = instantiate(cfg.model)
    assert type(model.roi_heads).__name__ == "EVACascadeROIHeads"
    assert model.backbone.net.window_size == PAPER[name][3]
    instantiate(cfg.lr_multiplier)  # fvcore checks the milestones against the length here, not at load
    assert model.eval().backbone.padding_constraints["square_size"] == PAPER[name][2]  # test images not cropped
    assert model.train().backbone.padding_constraints["square_size"] == PAPER[name][1]


def test_submit_predicts_the_servers_test_split():
    """`eva det submit` runs on test-dev by default (COCO: coco_2017_test-dev, LVIS: lvis_v1_test_dev), with the
    evaluator pointed at the same split; --dataset picks another; a set the config registers itself stays."""
    from eva.det.cli import _submission_split

    coco, lvis = _load("COCO/eva02_large_cascade_1024_bsl.py"), _load("LVIS/eva02_large_cascade_1024_bsl.py")
    assert _submission_split(coco, None) == "coco_2017_test-dev"
    assert coco.dataloader.test.dataset.names == coco.dataloader.evaluator.dataset_name == "coco_2017_test-dev"
    assert _submission_split(lvis, None) == "lvis_v1_test_dev"
    assert lvis.dataloader.evaluator.dataset_name == "lvis_v1_test_dev"
    assert _submission_split(_load("COCO/eva02_large_cascade_1024_bsl.py"), "coco_2017_val") == "coco_2017_val"
    assert _submission_split(_load("demo/eva02_tiny_composites.py"), None) == "eva_composites_val"
