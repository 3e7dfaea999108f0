"""EVA-01-g + ViT-Adapter + Mask2Former: the recipe numbers, and a cut-down copy of the config that builds mmseg's
own Mask2FormerHead (mmdet's pixel decoder, Hungarian matcher, losses) and trains a step on the CPU."""
from pathlib import Path

import pytest
import torch

pytest.importorskip("mmseg", reason="eva.seg needs mmsegmentation (make setup installs it)")
pytest.importorskip("mmdet", reason="Mask2Former needs mmdet (make setup installs it)")

from mmengine.config import Config  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[2] / "seg" / "configs"
COCO = CONFIGS / "mask2former_eva01_giant_cocostuff164k_896.py"
ADE = CONFIGS / "mask2former_eva01_giant_ade20k_896.py"


def _short_sides(cfg):
    return [t["scale"][1] for t in cfg.tta_pipeline[1]["transforms"][0]]


def test_cocostuff_recipe_numbers():
    cfg = Config.fromfile(COCO)
    bb, head = cfg.model.backbone, cfg.model.decode_head
    assert (bb.type, bb.variant, bb.img_size, bb.patch_size, bb.drop_path_rate) == (
        "EVAAdapterBackbone", "eva_giant_patch14_224", 896, 16, 0.5)
    # BAAI's ViT-Adapter settings for EVA-01-g
    assert bb.interaction_indexes == [[0, 9], [10, 19], [20, 29], [30, 39]]
    assert (bb.conv_inplane, bb.deform_num_heads, bb.n_points, bb.deform_ratio, bb.cffn_ratio) == (64, 16, 4, 0.5, 0.25)
    assert "neck" not in cfg.model  # the adapter makes the pyramid
    assert (head.type, head.num_queries, head.transformer_decoder.num_layers, head.num_classes) == (
        "Mask2FormerHead", 200, 8, 171)
    assert head.in_channels == [1408] * 4 and head.feat_channels == head.out_channels == 1024
    enc, dec = head.pixel_decoder.encoder.layer_cfg, head.transformer_decoder.layer_cfg
    assert (enc.self_attn_cfg.embed_dims, enc.self_attn_cfg.num_heads, enc.ffn_cfg.feedforward_channels) == (
        1024, 32, 4096)
    for attn in (dec.self_attn_cfg, dec.cross_attn_cfg):
        assert (attn.embed_dims, attn.num_heads) == (1024, 32)
    assert dec.ffn_cfg.feedforward_channels == 4096 and head.positional_encoding.num_feats == 512
    assert cfg.train_dataloader.batch_size * cfg.num_gpus == 32 and cfg.train_cfg.max_iters == 60000
    opt = cfg.optim_wrapper
    assert (opt.optimizer.lr, opt.paramwise_cfg.layer_decay, opt.constructor) == (
        1.5e-5, 0.95, "LayerDecayOptimWrapperConstructor")
    assert cfg.train_dataloader.dataset.type == "COCOStuffDataset"
    assert cfg.model.test_cfg.mode == "slide" and tuple(cfg.model.test_cfg.crop_size) == (896, 896)
    assert _short_sides(cfg) == [int(896 * r) for r in (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)]
    assert "eva.seg" in cfg.custom_imports.imports and "mmdet.models" in cfg.custom_imports.imports


def test_ade20k_stage_starts_from_cocostuff():
    cfg = Config.fromfile(ADE)
    assert cfg.train_dataloader.batch_size * 8 == 64 and cfg.train_cfg.max_iters == 20000
    assert cfg.optim_wrapper.optimizer.lr == 2.5e-5 and cfg.optim_wrapper.paramwise_cfg.layer_decay == 0.95
    assert cfg.model.decode_head.num_classes == 150 and len(cfg.model.decode_head.loss_cls.class_weight) == 151
    assert cfg.load_from.endswith("mask2former_eva01_giant_cocostuff164k_896/iter_60000.pth")
    assert cfg.train_dataloader.dataset.type == "ADE20KDataset"
    assert _short_sides(cfg) == [512, 640, 768, 896, 1024, 1152, 1280]
    assert cfg.model.decode_head.num_queries == 200 and cfg.model.backbone.drop_path_rate == 0.5


def _tiny(num_classes=4):
    from mmengine.utils import import_modules_from_strings
    from mmseg.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(COCO)
    import_modules_from_strings(**cfg.custom_imports)
    cfg.model.backbone.update(variant="eva02_tiny_patch14_224", img_size=64, depth=4,
                              interaction_indexes=[[0, 0], [1, 1], [2, 2], [3, 3]], deform_num_heads=3,
                              norm_cfg=dict(type="BN", requires_grad=True), rope_ref_grid=4, pretrained=None,
                              drop_path_rate=0.1, grad_checkpointing=True)
    c = 32
    head = cfg.model.decode_head
    head.update(in_channels=[192] * 4, feat_channels=c, out_channels=c, num_classes=num_classes, num_queries=10,
                loss_cls=dict(class_weight=[1.0] * num_classes + [0.1]))
    enc = head.pixel_decoder.encoder
    enc.num_layers = 1
    enc.layer_cfg.self_attn_cfg.update(embed_dims=c, num_heads=2)
    enc.layer_cfg.ffn_cfg.update(embed_dims=c, feedforward_channels=64)
    head.pixel_decoder.positional_encoding.num_feats = c // 2
    head.positional_encoding.num_feats = c // 2
    dec = head.transformer_decoder
    dec.num_layers = 2
    dec.layer_cfg.self_attn_cfg.update(embed_dims=c, num_heads=2)
    dec.layer_cfg.cross_attn_cfg.update(embed_dims=c, num_heads=2)
    dec.layer_cfg.ffn_cfg.update(embed_dims=c, feedforward_channels=64)
    head.train_cfg.num_points = 256
    cfg.model.data_preprocessor.size = (64, 64)
    return cfg


def test_cut_down_mask2former_trains_a_step_with_layer_decay_groups():
    from mmengine.optim import build_optim_wrapper
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    cfg = _tiny()
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    samples = []
    for i in range(2):
        s = SegDataSample(metainfo=dict(img_shape=(64, 64), pad_shape=(64, 64), ori_shape=(64, 64)))
        seg = torch.zeros(1, 64, 64, dtype=torch.long)
        seg[:, 10 + i:40, 5:30] = 1 + i
        seg[:, 45:, 40:] = 3
        s.gt_sem_seg = PixelData(data=seg)
        samples.append(s)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    groups = wrapper.optimizer.param_groups
    query = model.decode_head.query_embed.weight
    assert all(g["weight_decay"] == 0.0 for g in groups if any(p is query for p in g["params"]))
    def lr_of(param):
        return [g for g in groups if any(p is param for p in g["params"])][0]["lr"]
    bb = model.backbone
    assert lr_of(bb.patch_embed.proj.weight) == pytest.approx(1.5e-5 * 0.95 ** 5)  # depth 4 + 1 layers of decay
    assert lr_of(bb.spm.stem[0].weight) == lr_of(bb.interactions[0].injector.gamma) == pytest.approx(1.5e-5)
    before = bb.blocks[0].attn.qkv.weight.detach().clone()
    gamma = bb.interactions[0].injector.gamma.detach().clone()
    losses = model.loss(torch.randn(2, 3, 64, 64), samples)
    assert {"decode.loss_cls", "decode.loss_mask", "decode.loss_dice", "decode.d1.loss_mask"} <= set(losses)
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    wrapper.update_params(loss)
    assert not torch.equal(before, bb.blocks[0].attn.qkv.weight)
    assert not torch.equal(gamma, bb.interactions[0].injector.gamma)  # the adapter learns from its zero start
    model.eval()
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, 64, 64), [SegDataSample(metainfo=dict(
            img_shape=(64, 64), pad_shape=(64, 64), ori_shape=(64, 64)))])
    assert out[0].pred_sem_seg.data.shape == (1, 64, 64)
