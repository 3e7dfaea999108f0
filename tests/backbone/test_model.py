"""Behaviour of the EVA ViT itself: attention paths, checkpointing, gradients, sizes, meta build, freezing."""
import pytest
import torch

from eva.backbone import EVAViT, create_model, load_checkpoint
from eva.backbone.layers import sincos_pos_embed

from .helpers import randomize_

SMALL = dict(embed_dim=64, depth=4, num_heads=4, mlp_hidden_dim=128)
CONFIGS = {
    "eva01": dict(SMALL, qkv_bias="qv", layer_scale=0.1),
    "eva02": dict(SMALL, mlp_type="swiglu", mlp_norm=True, rope=True, rope_ref_grid=16),
    "clip": dict(SMALL, mlp_type="swiglu", rope=True, attn_inner_norm=True, global_pool="token"),
    "post_norm": dict(SMALL, post_norm=True),
    "mae_sincos": dict(SMALL, qkv_bias="qkv", pos_embed="sincos"),
    "det_relpos": dict(SMALL, class_token=False, global_pool="", window_size=4, global_blocks=(1, 3),
                       rel_pos=True, qkv_bias="qkv"),
    "det_rope": dict(SMALL, class_token=False, global_pool="", window_size=4, global_blocks=(3,),
                     mlp_type="swiglu", rope=True, rope_ref_grid=16),
}


def build(name, **kw):
    return randomize_(EVAViT(**dict(dict(img_size=112, patch_size=14, num_classes=0), **CONFIGS[name], **kw))).eval()


@pytest.mark.parametrize("name", CONFIGS)
def test_sdpa_equals_math(name):
    model = build(name)
    x = torch.randn(2, 3, 112, 98)
    with torch.no_grad():
        fused = model.forward_features(x)
        model.set_attn_impl("math")
        plain = model.forward_features(x)
    torch.testing.assert_close(fused, plain, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", CONFIGS)
def test_backward_reaches_every_parameter_and_checkpointing_is_exact(name):
    model = build(name, num_classes=3).train()
    x = torch.randn(2, 3, 112, 112)
    model(x).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, f"no gradient reaches {missing}"
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    out = model(x)
    model.zero_grad()
    model.set_grad_checkpointing(True)
    out_ckpt = model(x)
    out_ckpt.sum().backward()
    torch.testing.assert_close(out_ckpt, out)
    for n, p in model.named_parameters():
        torch.testing.assert_close(p.grad, grads[n], atol=1e-5, rtol=1e-4, msg=n)


@pytest.mark.parametrize("name", ["eva02", "det_relpos", "det_rope", "mae_sincos"])
@pytest.mark.parametrize("hw", [(97, 131), (14, 14), (15, 200), (64, 57)])
def test_odd_input_sizes(name, hw):
    model = build(name)
    with torch.no_grad():
        feats = model.forward_intermediates(torch.randn(1, 3, *hw), indices=[-1], intermediates_only=True)
    assert feats[0].shape == (1, 64, -(-hw[0] // 14), -(-hw[1] // 14))
    assert torch.isfinite(feats[0]).all()


def test_intermediates_contract():
    model = build("eva02")
    x = torch.randn(2, 3, 112, 140)
    with torch.no_grad():
        final, feats = model.forward_intermediates(x, indices=[0, -1], norm=True)
        tokens = model.forward_intermediates(x, indices=2, output_fmt="NLC", intermediates_only=True)
        with_prefix = model.forward_intermediates(x, indices=[1], return_prefix_tokens=True,
                                                  intermediates_only=True)
        early = model.forward_intermediates(x, indices=[1], stop_early=True, intermediates_only=True)
    assert [f.shape for f in feats] == [(2, 64, 8, 10)] * 2
    torch.testing.assert_close(final, model.forward_features(x))
    assert [t.shape for t in tokens] == [(2, 80, 64)] * 2
    assert with_prefix[0][1].shape == (2, 1, 64)
    torch.testing.assert_close(early[0], with_prefix[0][0])
    with pytest.raises(ValueError, match="out of range"):
        model.forward_intermediates(x, indices=[4])
    with pytest.raises(ValueError, match="indices is empty"):
        model.forward_intermediates(x, indices=[])


def test_rope_and_positions_are_not_persisted():
    model = build("det_rope")
    assert set(model.state_dict()) == {n for n, _ in model.named_parameters()}
    assert not any("rope" in k for k in model.state_dict())
    before = model.pos_embed.detach().clone()
    with torch.no_grad():
        model(torch.randn(1, 3, 224, 182))
    assert model.pos_embed.shape == (1, 1 + 8 * 8, 64)  # stored at the pre-train grid, resized per call
    torch.testing.assert_close(model.pos_embed, before)


def test_meta_device_build_then_load():
    ref = build("eva02", num_classes=5)
    with torch.device("meta"):
        model = EVAViT(img_size=112, patch_size=14, num_classes=5, **CONFIGS["eva02"])
    assert all(p.is_meta for p in model.parameters())
    report = load_checkpoint(model, ref.state_dict())
    assert report.ok and not any(p.is_meta for p in model.parameters())
    x = torch.randn(1, 3, 112, 112)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), ref(x))


def test_freeze_patch_embed_and_first_blocks():
    model = build("eva02", num_classes=2).train()
    model.freeze(patch_embed=True, num_blocks=2)
    model(torch.randn(1, 3, 112, 112)).sum().backward()
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert "patch_embed.proj.weight" in frozen and "pos_embed" in frozen and "cls_token" in frozen
    assert all(p.grad is None for n, p in model.named_parameters() if n.startswith(("blocks.0.", "blocks.1.")))
    assert all(p.grad is not None for n, p in model.named_parameters() if n.startswith("blocks.2."))


def test_drop_path_is_stochastic_only_in_training():
    model = build("eva02", drop_path_rate=0.5)
    x = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x))
        model.train()
        assert not torch.allclose(model(x), model(x))


def test_fp32_layernorm_option_under_bf16():
    model = build("eva02", fp32_norm=True)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.LayerNorm)]
    assert norms and all(type(m).__name__ == "LayerNormFp32" for m in norms)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.randn(1, 3, 112, 112))
    assert torch.isfinite(out.float()).all()


def test_sincos_layout_matches_mae():
    table = sincos_pos_embed((3, 5), 16)[0]
    assert table.shape == (16, 16) and torch.all(table[0] == 0)
    grid = table[1:].reshape(3, 5, 16)
    # first half: a function of the column only; second half: of the row only
    torch.testing.assert_close(grid[0, :, :8], grid[2, :, :8])
    torch.testing.assert_close(grid[:, 0, 8:], grid[:, 4, 8:])
    torch.testing.assert_close(grid[0, 1, :4], torch.sin(torch.tensor(1.0) / 10000 ** (torch.arange(4) / 4.0)))


def test_constructor_errors_are_clear():
    with pytest.raises(ValueError, match="class_token=False"):
        EVAViT(embed_dim=64, depth=1, num_heads=4, window_size=4)
    with pytest.raises(ValueError, match="qkv_bias"):
        EVAViT(embed_dim=64, depth=1, num_heads=4, qkv_bias="kv")
    with pytest.raises(KeyError, match="Did you mean"):
        create_model("eva02_larg_patch14_224")


def test_paper_numbers_of_registered_variants():
    from eva.backbone import model_args
    g = model_args("eva_giant_patch14_224")
    assert (g["depth"], g["embed_dim"], g["num_heads"], g["mlp_hidden_dim"], g["qkv_bias"]) == (40, 1408, 16, 6144, "qv")
    large = model_args("eva02_large_patch14_224")
    assert (large["depth"], large["embed_dim"], large["mlp_hidden_dim"], large["mlp_type"], large["mlp_norm"],
            large["rope"]) == (24, 1024, 2730, "swiglu", True, True)
    assert model_args("eva02_tiny_patch14_224")["mlp_hidden_dim"] == int(192 * 4 * 2 / 3)
    assert not model_args("eva02_small_patch14_224").get("mlp_norm")
    assert model_args("eva_large_patch14_224").get("pos_embed", "learned") == "learned"  # fine-tuned tables load
    assert model_args("eva02_enormous_patch14_clip_224")["post_norm"] is True
    assert model_args("eva02_large_patch14_clip_224")["attn_inner_norm"] is True
