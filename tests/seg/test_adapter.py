"""ViT-Adapter around the EVA ViT (EVA-01's Mask2Former recipe): maps at strides 4..32 for any crop, gradients
into every part, the stage-wise trunk equals the plain ViT while the injectors are at their zero start, the
deformable attention samples each level at the query's own image position, BAAI's parameter names and shapes
for EVA-01-g, and checkpoints (a backbone's, a whole segmentor's in BAAI's block layout) load."""
import math

import pytest
import torch

pytest.importorskip("mmseg", reason="eva.seg needs mmsegmentation (make setup installs it)")
pytest.importorskip("mmcv.ops", reason="ViT-Adapter needs mmcv's compiled ops (make setup builds them)")

from eva.seg.adapter import EVAAdapterBackbone, Injector, Levels  # noqa: E402

from ..backbone.helpers import randomize_, to_baai_layout  # noqa: E402

STAGES = [[0, 0], [1, 2], [3, 3], [4, 4]]


def _tiny(variant="eva02_tiny_patch14_224", **kw):
    args = dict(img_size=64, depth=5, interaction_indexes=STAGES, deform_num_heads=3, norm_cfg=dict(type="BN"),
                drop_path_rate=0.0, **({"rope_ref_grid": 4} if variant.startswith("eva02") else {}))
    args.update(kw)
    return EVAAdapterBackbone(variant, **args)


@pytest.mark.parametrize("hw", [(64, 64), (100, 84)])
def test_four_strides_for_any_crop_and_gradients_reach_every_part(hw):
    model = _tiny(grad_checkpointing=True)
    model.train()
    outs = model(torch.randn(2, 3, *hw))
    assert [tuple(o.shape) for o in outs] == [(2, 192, math.ceil(hw[0] / s), math.ceil(hw[1] / s))
                                              for s in (4, 8, 16, 32)]
    sum(o.square().mean() + o.mean() for o in outs).backward()
    model.eval()
    with torch.no_grad():  # inputs are padded to a multiple of 32 (every level covers the same area), then cropped
        x = torch.randn(1, 3, *hw)
        padded = torch.nn.functional.pad(x, (0, -hw[1] % 32, 0, -hw[0] % 32))
        for a, b in zip(model(x), model(padded)):
            torch.testing.assert_close(a, b[..., :a.shape[-2], :a.shape[-1]], rtol=0, atol=0)
    parts = {"stem": model.spm.stem[0].weight, "level_embed": model.level_embed, "patch_embed":
             model.patch_embed.proj.weight, "block": model.blocks[0].attn.qkv.weight,
             "gamma": model.interactions[0].injector.gamma, "extractor": model.interactions[0].extractor.attn
             .value_proj.weight, "extra": model.interactions[-1].extra_extractors[1].ffn.dwconv.dwconv.weight,
             "up": model.up.weight}
    for name, p in parts.items():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_trunk_equals_the_plain_vit_until_the_injectors_learn():
    model = _tiny(variant="eva_giant_patch14_224", embed_dim=64, num_heads=4, mlp_hidden_dim=128, img_size=64,
                  deform_num_heads=4).eval()  # EVA-01 style: class token, learned positions
    assert model.num_prefix_tokens == 1
    captured = []
    hooks = [model.blocks[last].register_forward_hook(lambda m, a, out: captured.append(out))
             for _, last in STAGES]
    x = torch.randn(2, 3, 64, 64)  # a multiple of 32: the adapter pads nothing
    with torch.no_grad():  # BAAI's adapter: the class token enters the blocks without its position
        torch.testing.assert_close(model.embed(x)[0][:, 0], model.cls_token[:, 0].expand(2, -1), rtol=0, atol=0)
        model.class_token_position = True
        assert not torch.allclose(model.embed(x)[0][:, 0], model.cls_token[:, 0].expand(2, -1))
        model.class_token_position = False
    with torch.no_grad():
        model(x)
        plain = model.forward_intermediates(x, [last for _, last in STAGES], output_fmt="NLC",
                                            return_prefix_tokens=True, intermediates_only=True)
        for got, (patches, prefix) in zip(captured, plain):
            torch.testing.assert_close(got, torch.cat([prefix, patches], 1), rtol=0, atol=0)
        for block in model.interactions:
            block.injector.gamma.fill_(0.5)
        captured.clear()
        model(x)
    assert not torch.allclose(captured[-1][:, 1:], plain[-1][0], atol=1e-3)
    for h in hooks:
        h.remove()


def test_deformable_attention_reads_each_level_at_the_querys_image_position():
    # identity projections, zero offsets: the injector returns, per query, the mean over levels of the values
    # bilinearly sampled at its reference point; values that are the image x / y of each token make that the
    # query's own position wherever it lies between the centres of every level (swapped x / y does not; the
    # expected positions come from the query grid, not from the reference points under test).
    torch.manual_seed(0)
    dim = 4
    inj = Injector(dim, num_heads=1, num_points=1, num_levels=3, init_value=1.0)
    attn = inj.attn
    with torch.no_grad():
        for lin in (attn.sampling_offsets, attn.attention_weights):
            lin.weight.zero_()
            lin.bias.zero_()
        for lin in (attn.value_proj, attn.output_proj):
            lin.weight.copy_(torch.eye(dim))
            lin.bias.zero_()
    inj.query_norm, inj.feat_norm = torch.nn.Identity(), torch.nn.Identity()
    query_grid, pyramid = (6, 10), Levels([(12, 20), (6, 10), (3, 5)])
    values = []
    for h, w in pyramid.shapes:
        y = ((torch.arange(h) + 0.5) / h)[:, None].expand(h, w)
        x = ((torch.arange(w) + 0.5) / w)[None, :].expand(h, w)
        values.append(torch.stack([x, y, torch.zeros_like(x), torch.ones_like(x)])[None])
    feat = Levels.flatten(values)
    queries = Levels([query_grid])
    ref = queries.reference_points()
    with torch.no_grad():
        out = inj(torch.zeros(1, 60, dim), ref, feat, pyramid)[0]
    rows, cols = torch.meshgrid(torch.arange(6), torch.arange(10), indexing="ij")  # row-major query tokens
    xy = torch.stack([(cols.flatten() + 0.5) / 10, (rows.flatten() + 0.5) / 6], -1)
    inside = ((xy[:, 0] >= 0.5 / 5) & (xy[:, 0] <= 1 - 0.5 / 5) & (xy[:, 1] >= 0.5 / 3) & (xy[:, 1] <= 1 - 0.5 / 3))
    assert inside.sum() >= 12
    torch.testing.assert_close(out[inside, :2], xy[inside], atol=1e-5, rtol=0)
    torch.testing.assert_close(out[inside, 3], torch.ones(int(inside.sum())), atol=1e-5, rtol=0)


def test_eva01_giant_adapter_has_baais_names_and_shapes():
    with torch.device("meta"):
        model = EVAAdapterBackbone("eva_giant_patch14_224", interaction_indexes=[[0, 9], [10, 19], [20, 29],
                                                                                  [30, 39]])
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    expected = {  # ViT-Adapter's layout (EVA-01/seg, BEiTAdapter), d = 1408, 16 heads, 4 points, value ratio 0.5
        "level_embed": (3, 1408), "spm.stem.0.weight": (64, 3, 3, 3), "spm.stem.1.running_mean": (64,),
        "spm.stem.6.weight": (64, 64, 3, 3), "spm.conv2.0.weight": (128, 64, 3, 3),
        "spm.conv4.1.weight": (256,), "spm.fc1.weight": (1408, 64, 1, 1), "spm.fc4.bias": (1408,),
        "interactions.0.injector.gamma": (1408,), "interactions.0.injector.query_norm.weight": (1408,),
        "interactions.0.injector.attn.sampling_offsets.weight": (16 * 3 * 4 * 2, 1408),
        "interactions.0.injector.attn.attention_weights.weight": (16 * 3 * 4, 1408),
        "interactions.0.injector.attn.value_proj.weight": (704, 1408),
        "interactions.0.injector.attn.output_proj.weight": (1408, 704),
        "interactions.1.extractor.attn.sampling_offsets.weight": (16 * 1 * 4 * 2, 1408),
        "interactions.1.extractor.ffn.fc1.weight": (352, 1408),
        "interactions.1.extractor.ffn.dwconv.dwconv.weight": (352, 1, 3, 3),
        "interactions.3.extra_extractors.1.ffn_norm.bias": (1408,),
        "up.weight": (1408, 1408, 2, 2), "norm4.running_var": (1408,),
    }
    assert {k: shapes.get(k) for k in expected} == expected
    assert not any(k.startswith("interactions.2.extra_extractors") for k in shapes)
    assert model.out_indices == (9, 19, 29, 39)


def test_stages_must_cover_every_block_in_order():
    for stages in ([[0, 1], [3, 3], [4, 4], [5, 4]], [[0, 1], [2, 2], [3, 4]]):
        with pytest.raises(ValueError, match=r"4 consecutive \[first, last\] stages"):
            _tiny(interaction_indexes=stages)


def test_backbone_checkpoint_loads_and_the_adapter_starts_fresh(tmp_path):
    from eva.backbone import EVAViT, model_args

    vit = EVAViT(**model_args("eva02_tiny_patch14_224", img_size=64, depth=5, rope_ref_grid=4, patch_size=16))
    randomize_(vit)
    torch.save({"model": vit.state_dict()}, tmp_path / "vit.pt")
    model = _tiny(pretrained=str(tmp_path / "vit.pt"))
    torch.testing.assert_close(model.blocks[3].mlp.fc2.weight, vit.blocks[3].mlp.fc2.weight)
    assert model.load_report.ok and not model.load_report.missing


def test_whole_segmentor_in_baai_block_layout_loads_and_predicts_the_same():
    from mmseg.registry import MODELS

    from eva.seg.checkpoint import load_segmentor

    from .test_mask2former import _tiny as tiny_mask2former

    cfg = tiny_mask2former()
    src = MODELS.build(cfg.model)
    randomize_(src)
    src.eval()
    sd = src.state_dict()
    bb = {k[len("backbone."):]: v for k, v in sd.items() if k.startswith("backbone.")}
    release = {f"backbone.{k}": v for k, v in to_baai_layout(bb, split_qkv=True, mlp="w12").items()}
    release.update({k: v for k, v in sd.items() if not k.startswith("backbone.")})
    assert "backbone.blocks.0.attn.q_proj.weight" in release and "backbone.spm.stem.1.running_var" in release
    dst = MODELS.build(cfg.model)
    assert load_segmentor(dst, {"state_dict": release}).ok
    dst.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(dst.encode_decode(x, [dict(img_shape=(64, 64))]),
                                   src.encode_decode(x, [dict(img_shape=(64, 64))]), atol=1e-5, rtol=1e-5)


def test_baai_eva01_segmentor_release_gives_backbone_and_adapter(tmp_path):
    # BAAI's EVA-01 Mask2Former release: {"state_dict": {"backbone.<BEiT-layout ViT + ViT-Adapter>", "decode_head.*
    # (mmdet 2.x names)"}}; ``pretrained=`` takes the backbone and adapter and reports the head as dropped.
    src = _tiny(variant="eva_giant_patch14_224", embed_dim=64, num_heads=4, mlp_hidden_dim=128, img_size=48,
                deform_num_heads=4)
    randomize_(src)
    src.eval()
    release = {f"backbone.{k}": v for k, v in to_baai_layout(src.state_dict(), split_qkv=False).items()}
    release["decode_head.transformer_decoder.layers.0.attentions.0.attn.in_proj_weight"] = torch.randn(96, 32)
    torch.save({"meta": {"iter": 60000}, "state_dict": release}, tmp_path / "eva01_seg.pth")
    dst = _tiny(variant="eva_giant_patch14_224", embed_dim=64, num_heads=4, mlp_hidden_dim=128, img_size=48,
                deform_num_heads=4, pretrained=str(tmp_path / "eva01_seg.pth")).eval()
    assert any(k.startswith("decode_head.") for k, _ in dst.load_report.dropped)
    x = torch.randn(1, 3, 48, 48)
    with torch.no_grad():
        for a, b in zip(dst(x), src(x)):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
