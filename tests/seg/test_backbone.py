"""EVA in mmsegmentation: the config builds with only `custom_imports`, mmseg's Feature2Pyramid turns the four
block outputs into strides 4 / 8 / 16 / 32, the segmentor trains a step at odd crop sizes, and the optimizer
groups follow the shared layer-decay rule."""
from pathlib import Path

import pytest
import torch

pytest.importorskip("mmseg", reason="eva.seg needs mmsegmentation (make setup installs it)")

from mmengine.config import Config  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[2] / "seg" / "configs"
TINY = dict(variant="eva02_tiny_patch14_224", img_size=64, depth=4, out_indices=(0, 1, 2, 3), rope_ref_grid=4,
            pretrained=None)


def _tiny_segmentor(num_classes=5):
    from mmengine.utils import import_modules_from_strings
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(CONFIGS / "upernet_eva02_base_ade20k_512.py")
    import_modules_from_strings(**cfg.custom_imports)  # what mmseg's runner does: nothing but custom_imports
    cfg.model.backbone.update(TINY)
    cfg.model.neck.embed_dim = 192
    cfg.model.decode_head.update(in_channels=[192] * 4, channels=32, num_classes=num_classes,
                                 norm_cfg=dict(type="BN", requires_grad=True))
    cfg.model.auxiliary_head.update(in_channels=192, channels=16, num_classes=num_classes,
                                    norm_cfg=dict(type="BN", requires_grad=True))
    cfg.model.data_preprocessor.size = (64, 64)
    return cfg, MODELS.build(cfg.model)


def test_four_strides_from_the_pyramid():
    _, model = _tiny_segmentor()
    feats = model.extract_feat(torch.randn(1, 3, 64, 64))
    assert [tuple(f.shape[-2:]) for f in feats] == [(16, 16), (8, 8), (4, 4), (2, 2)]  # strides 4, 8, 16, 32


def test_backbone_outputs_follow_out_indices():
    """Output k is block out_indices[k]'s (shapes alone cannot tell: every level is stride 16 before the neck)."""
    from eva.seg import EVASegBackbone

    _, model = _tiny_segmentor()
    bb = model.backbone.eval()
    bb.out_indices = (0, 1, 3)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        outs = bb(x)
        assert len(outs) == 3 and not torch.allclose(outs[0], outs[-1])
        for i, out in zip(bb.out_indices, outs):
            alone = bb.forward_intermediates(x, indices=[i], norm=False, output_fmt="NCHW", intermediates_only=True)
            torch.testing.assert_close(out, alone[0])
    for bad in ((3, 1), (1, 1, 2)):
        with pytest.raises(ValueError, match="out_indices must increase"):
            EVASegBackbone(**dict(TINY, out_indices=bad))


@pytest.mark.parametrize("hw", [(64, 64), (70, 53)])
def test_train_step_at_odd_crop_sizes(hw):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    _, model = _tiny_segmentor()
    model.train()
    samples = []
    for _ in range(2):
        s = SegDataSample(metainfo=dict(img_shape=hw, pad_shape=hw, ori_shape=hw))
        s.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, *hw)))
        samples.append(s)
    losses = model.loss(torch.randn(2, 3, *hw), samples)
    total = sum(v for k, v in losses.items() if "loss" in k)
    total.backward()
    assert torch.isfinite(total) and model.backbone.blocks[0].attn.qkv.weight.grad.abs().sum() > 0


def test_decay_groups_follow_the_shared_rule():
    from mmengine.optim import build_optim_wrapper

    from eva.backbone import get_lr_scale

    cfg, model = _tiny_segmentor()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    names = {id(p): n for n, p in model.named_parameters()}
    base, decay = cfg.optim_wrapper.optimizer.lr, cfg.optim_wrapper.paramwise_cfg.layer_decay
    for group in wrapper.optimizer.param_groups:
        for p in group["params"]:
            name = names[id(p)]
            want = get_lr_scale(name[len("backbone."):], 4, decay) if name.startswith("backbone.") else 1.0
            assert group["lr"] == pytest.approx(base * want), name


def test_recipe_numbers():
    cfg = Config.fromfile(CONFIGS / "upernet_eva02_base_ade20k_512.py")
    r = cfg.recipe
    assert (r.crop, r.batch_size, r.iters, r.lr, r.layer_decay, r.drop_path, r.head_channels) == \
        (512, 32, 60000, 6e-5, 0.85, 0.15, 768)
    assert cfg.model.backbone.out_indices == (3, 5, 7, 11) and cfg.model.backbone.drop_path_rate == 0.15
    assert cfg.train_dataloader.batch_size * cfg.num_gpus == 32 and cfg.train_cfg.max_iters == 60000
    assert cfg.model.test_cfg.mode == "slide"


def test_pretrained_weights_survive_mmengine_init(tmp_path):
    """mmengine calls ``init_weights()`` on every module before training: it must not overwrite the checkpoint."""
    from eva.backbone import create_model, save_checkpoint
    from eva.seg import EVASegBackbone

    src = create_model("eva02_tiny_patch14_224", depth=4, img_size=56, global_pool="", fc_norm=False)
    torch.nn.init.normal_(src.blocks[2].attn.qkv.weight, std=1.0)  # unlike any fresh initialisation
    save_checkpoint(src.state_dict(), tmp_path / "mim.safetensors")
    net = EVASegBackbone(**dict(TINY, pretrained=str(tmp_path / "mim.safetensors")))
    net.init_weights()
    assert "patch_embed.proj.weight" in {r[0] for r in net.load_report.resized}  # 14 -> 16 pixels
    torch.testing.assert_close(net.blocks[2].attn.qkv.weight, src.blocks[2].attn.qkv.weight)


def test_large_recipes():
    cfg = Config.fromfile(CONFIGS / "upernet_eva02_large_ade20k_512.py")
    assert cfg.model.backbone.variant == "eva02_large_patch14_224" and cfg.model.backbone.out_indices == (7, 11, 15, 23)
    assert (cfg.optim_wrapper.optimizer.lr, cfg.optim_wrapper.paramwise_cfg.layer_decay) == (4e-5, 0.9)
    assert cfg.model.backbone.drop_path_rate == 0.2 and cfg.model.decode_head.channels == 1024
    assert cfg.train_dataloader.batch_size * cfg.num_gpus == 16 and cfg.train_cfg.max_iters == 80000
    big = Config.fromfile(CONFIGS / "upernet_eva02_large_ade20k_640.py")
    assert big.model.backbone.img_size == 640 and big.model.test_cfg.crop_size == (640, 640)
    assert big.train_dataloader.dataset.pipeline[3].crop_size == (640, 640)


def test_demo_cli_writes_an_overlay(tmp_path):
    import numpy as np
    from PIL import Image

    from eva.backbone.cli import main

    cfg, model = _tiny_segmentor()
    torch.save({"state_dict": model.state_dict(),
                "meta": {"dataset_meta": {"classes": [f"c{i}" for i in range(5)],
                                          "palette": [[i * 40, 255 - i * 40, 90] for i in range(5)]}}},
               tmp_path / "seg.pth")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (72, 90, 3), dtype=np.uint8)).save(tmp_path / "x.png")
    options = ["model.backbone.variant=eva02_tiny_patch14_224", "model.backbone.img_size=64", "model.backbone.depth=4",
               "model.backbone.out_indices=[0,1,2,3]", "model.backbone.rope_ref_grid=4", "model.neck.embed_dim=192",
               "model.decode_head.in_channels=[192,192,192,192]", "model.decode_head.channels=32",
               "model.decode_head.num_classes=5", "model.decode_head.norm_cfg.type=BN",
               "model.auxiliary_head.in_channels=192", "model.auxiliary_head.channels=16",
               "model.auxiliary_head.num_classes=5", "model.auxiliary_head.norm_cfg.type=BN",
               "model.data_preprocessor.size=[64,64]", "model.test_cfg.mode=whole"]
    assert main(["seg", "demo", str(CONFIGS / "upernet_eva02_base_ade20k_512.py"), str(tmp_path / "seg.pth"),
                 str(tmp_path / "x.png"), str(tmp_path / "overlay.png"), "--cfg-options", *options]) == 0
    out = np.asarray(Image.open(tmp_path / "overlay.png"))
    assert out.shape == (72, 90, 3)


def test_config_with_only_custom_imports_trains_in_mmseg_runner(tmp_path):
    """mmseg's own flow: a config that names `eva.seg` in custom_imports builds and runs training steps and a
    validation with mmseg's IoUMetric through mmengine's Runner, on real composites."""
    from mmengine.runner import Runner

    from eva.seg.data import CLASSES, write_semantic_composites

    cfg, _ = _tiny_segmentor(num_classes=len(CLASSES))
    for split, n, seed in (("train", 8, 0), ("val", 4, 1)):
        write_semantic_composites(str(tmp_path / split), n, size=64, split="train" if split == "train" else "test",
                                  seed=seed)
    pipeline = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations"), dict(type="PackSegInputs")]

    def loader(split, shuffle):
        return dict(batch_size=2, num_workers=0, persistent_workers=False,
                    sampler=dict(type="DefaultSampler", shuffle=shuffle),
                    dataset=dict(_delete_=True, type="BaseSegDataset", data_root=str(tmp_path / split),
                                 data_prefix=dict(img_path="img", seg_map_path="ann"), img_suffix=".jpg",
                                 metainfo=dict(classes=CLASSES), pipeline=pipeline))

    cfg.merge_from_dict(dict(train_dataloader=loader("train", True), val_dataloader=loader("val", False),
                             test_dataloader=loader("val", False)))
    cfg.model.test_cfg = dict(mode="whole")
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=2, val_interval=2)
    cfg.param_scheduler = [dict(type="ConstantLR", factor=1.0, by_epoch=False)]
    cfg.work_dir = str(tmp_path / "work")
    cfg.default_hooks.checkpoint.interval = 2
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    assert "val/mIoU" in scalars and 0.0 <= scalars["val/mIoU"].current() <= 100.0
    assert (tmp_path / "work" / "iter_2.pth").exists()

    # `eva seg test`: the runner's checkpoint through the strict loader, single-scale and multi-scale + flip
    from eva.backbone.cli import main
    cfg.tta_pipeline = [
        dict(type="LoadImageFromFile"),
        dict(type="TestTimeAug", transforms=[
            [dict(type="Resize", scale_factor=r, keep_ratio=True) for r in (0.75, 1.25)],
            [dict(type="RandomFlip", prob=p, direction="horizontal") for p in (0.0, 1.0)],
            [dict(type="LoadAnnotations")], [dict(type="PackSegInputs")]])]
    cfg.dump(str(tmp_path / "cfg.py"))
    for extra in ([], ["--tta"]):
        assert main(["seg", "test", str(tmp_path / "cfg.py"), str(tmp_path / "work" / "iter_2.pth"),
                     "--work-dir", str(tmp_path / "test"), *extra]) == 0


@pytest.mark.parametrize("name, short_sides", [
    ("upernet_eva02_base_ade20k_512.py", [512, 512, 512, 640, 768, 896]),
    ("upernet_eva02_large_ade20k_512.py", [512, 512, 512, 640, 768, 896]),
    ("upernet_eva02_large_ade20k_640.py", [640, 640, 640, 800, 960, 1120]),
    ("mask2former_eva01_giant_ade20k_896.py", [512, 640, 768, 896, 1024, 1152, 1280]),
    ("mask2former_eva01_giant_cocostuff164k_896.py", [448, 672, 896, 1120, 1344, 1568]),
])
def test_multi_scale_test_sizes(name, short_sides):
    """``--tta`` views of a 512 x 683 image (ADE20K's typical size): the short sides the recipe names, whatever the
    original size (mmcv's ``scale_factor`` would scale the original), with ADE's labels shifted as in training."""
    import numpy as np
    from mmcv.transforms import Resize

    cfg = Config.fromfile(CONFIGS / name)
    resizes, _, (load_labels,), _ = cfg.tta_pipeline[1]["transforms"]
    got = [min(Resize(**{k: v for k, v in r.items() if k != "type"})(
        {"img": np.zeros((512, 683, 3), np.uint8)})["img"].shape[:2]) for r in resizes]
    assert got == short_sides
    assert load_labels.get("reduce_zero_label", False) == ("ade20k" in name)
