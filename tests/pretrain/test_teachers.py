"""Every teacher behind the one interface: [B, 3, H, W] in [0, 1] -> [B, grid_h * grid_w, out_dim]."""
import pytest
import torch

from eva.pretrain.teachers import (build_teacher, EfficientNetLite0Teacher, EVACLIPTeacher, OpenCLIPTeacher,
                                   PixelTeacher, TimmTeacher)


def test_efficientnet_lite0_real_weights_block10():
    t = EfficientNetLite0Teacher(block=10, input_size=224)
    assert t.out_dim == 112
    feats = t.features((torch.rand(1, 3, 224, 224) - t.mean) / t.std)
    assert feats.shape == (1, 112, 14, 14)
    out = t(torch.rand(2, 3, 112, 112), (14, 14))
    assert out.shape == (2, 196, 112) and not out.requires_grad
    resampled = t(torch.rand(2, 3, 112, 112), (8, 10))
    assert resampled.shape == (2, 80, 112)
    # real ImageNet weights: BatchNorm statistics were loaded, not defaults
    assert not torch.allclose(t.stem[1].running_var, torch.ones_like(t.stem[1].running_var))
    x = torch.rand(2, 3, 8, 8)  # TF-style input scaling, as the lite models were trained
    torch.testing.assert_close((x - t.mean) / t.std, (x * 255 - 127) / 128)


def test_pixel_teacher_normalises_each_patch():
    t = PixelTeacher(patch_size=4)
    out = t(torch.rand(2, 3, 32, 32), (8, 8))
    assert out.shape == (2, 64, 48)
    torch.testing.assert_close(out.mean(-1), torch.zeros(2, 64), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.var(-1), torch.ones(2, 64), atol=1e-3, rtol=0)
    images = torch.rand(2, 3, 32, 32)  # 32 = 8 x 4: no resampling, so patch (i, j) is the image's own block
    out = t(images, (8, 8))
    for b, i, j in ((0, 0, 0), (1, 2, 5), (0, 7, 3)):
        block = images[b, :, 4 * i:4 * i + 4, 4 * j:4 * j + 4].reshape(-1)  # channel-major, as F.unfold
        torch.testing.assert_close(out[b, i * 8 + j], (block - block.mean()) / (block.var() + 1e-6).sqrt())


def test_timm_teacher_patch_tokens():
    t = TimmTeacher("vit_tiny_patch16_224", input_size=64, allow_random=True)
    images = torch.rand(1, 3, 64, 64)
    out = t(images, (4, 4))
    assert out.shape == (1, 16, 192)
    m = t.model  # timm's own forward: the model's normalisation, final norm, class token dropped
    mean, std = (torch.tensor(m.pretrained_cfg[k]).view(1, 3, 1, 1) for k in ("mean", "std"))
    with torch.no_grad():
        torch.testing.assert_close(out, m.forward_features((images - mean) / std)[:, m.num_prefix_tokens:])


def test_eva_clip_teacher_projected_tokens():
    t = EVACLIPTeacher("eva02_base_patch16_clip_224", embed_dim=32, depth=1, img_size=64, rope_ref_grid=4,
                       allow_random=True)
    out = t(torch.rand(2, 3, 64, 64), (4, 4))
    assert out.shape == (2, 16, 32)


@pytest.mark.slow
def test_open_clip_teacher_projected_tokens():
    t = OpenCLIPTeacher("ViT-B-32", checkpoint=None, input_size=64, allow_random=True)
    out = t(torch.rand(1, 3, 64, 64), (2, 2))
    assert out.shape == (1, 4, 512)
    v = t.visual
    x = (torch.rand(2, 3, 224, 224) - t.mean) / t.std  # open_clip's own forward needs its native size
    with torch.no_grad():
        v.output_tokens = True  # open_clip's own path: (pooled, ln_post tokens)
        _, tokens = v(x)
        ours = t.features(x).flatten(2).transpose(1, 2)
    torch.testing.assert_close(ours, tokens @ v.proj, atol=1e-5, rtol=1e-5)


def test_eva_clip_teacher_targets_are_the_timm_clip_towers_projected_patch_tokens():
    """EVA-02's targets: timm's EVA-CLIP tower on OpenAI-CLIP-normalised images, after the final norm and the
    projection head, class token dropped."""
    import timm
    from timm.data import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD

    from eva.backbone import convert_state_dict

    from ..backbone.helpers import randomize_

    peer = randomize_(timm.create_model("eva02_base_patch16_clip_224", pretrained=False, depth=1,
                                        num_classes=32)).eval()
    t = EVACLIPTeacher("eva02_base_patch16_clip_224", embed_dim=32, depth=1, allow_random=True)
    sd, report = convert_state_dict(peer.state_dict(), t.tower)
    assert report.ok, report.summary()
    t.tower.load_state_dict(sd)
    images = torch.rand(2, 3, 224, 224)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (OPENAI_CLIP_MEAN, OPENAI_CLIP_STD))
    with torch.no_grad():
        expected = peer.head(peer.forward_features((images - mean) / std))[:, 1:]
    torch.testing.assert_close(t(images, (14, 14)), expected, atol=1e-4, rtol=0)


def test_teacher_without_weights_is_refused():
    with pytest.raises(ValueError, match="needs its weights: set checkpoint"):
        EVACLIPTeacher("eva02_base_patch16_clip_224", embed_dim=32, depth=1)


def test_teacher_in_bf16_and_compiled_gives_the_fp32_targets():
    torch.manual_seed(0)
    ref = EVACLIPTeacher("eva02_base_patch16_clip_224", embed_dim=32, depth=2, img_size=64, rope_ref_grid=4,
                         allow_random=True)
    fast = build_teacher(dict(type="eva_clip", variant="eva02_base_patch16_clip_224", embed_dim=32, depth=2,
                              img_size=64, rope_ref_grid=4, allow_random=True, dtype="bf16",
                              compile=dict(backend="aot_eager")))
    fast.tower.load_state_dict({k: v.to(torch.bfloat16) for k, v in ref.tower.state_dict().items()})
    assert next(fast.parameters()).dtype == torch.bfloat16 and not any(p.requires_grad for p in fast.parameters())
    images = torch.rand(2, 3, 64, 64)
    a, b = ref(images, (4, 4)), fast(images, (4, 4))
    assert b.dtype == torch.float32 and not b.requires_grad
    assert ((b - a).norm() / a.norm()).item() < 2e-2  # bf16 operands


@pytest.mark.parametrize("scaling", ["row", "tensor"])
def test_fp8_teacher_gives_the_fp32_targets_within_fp8_rounding(scaling):
    torch.manual_seed(0)
    kw = dict(type="eva_clip", variant="eva_giant_patch14_clip_224", embed_dim=32, depth=2, img_size=56,
              allow_random=True)
    ref = build_teacher(kw)
    for blk in ref.tower.blocks:  # learned q/v biases, so folding them into qkv.bias is exercised
        torch.nn.init.normal_(blk.attn.q_bias, std=0.5), torch.nn.init.normal_(blk.attn.v_bias, std=0.5)
    fp8 = build_teacher(dict(kw, dtype="bf16"))
    fp8.tower.load_state_dict(ref.tower.state_dict())
    fp8.optimize("fp8", compile=dict(backend="aot_eager", fullgraph=True), fp8_scaling=scaling)
    blk = fp8.tower.blocks[0]
    assert type(blk.mlp.fc1).__name__ == "Float8Linear" and blk.mlp.fc1.weight.dtype == torch.float8_e4m3fn
    assert type(blk.attn.qkv).__name__ == "Float8Linear" and blk.attn.q_bias is None
    if scaling == "row":
        assert type(blk.mlp.fc2) is torch.nn.Linear  # kept bf16: its GELU input is costly to quantise row-wise
    else:
        assert type(blk.mlp.fc2).__name__ == "Float8Linear" and not blk.mlp.fc2.calibrated
    images = torch.rand(2, 3, 56, 56)
    a, b = ref(images, (4, 4)), fp8(images, (4, 4))  # tensor-wise: this first batch sets the input scales
    if scaling == "tensor":
        assert blk.mlp.fc2.calibrated and blk.mlp.fc2.input_scale > 0
        other = torch.rand(2, 3, 56, 56)  # a later batch, on the static scales
        a, b = torch.cat([a, ref(other, (4, 4))]), torch.cat([b, fp8(other, (4, 4))])
    assert b.dtype == torch.float32
    rel = ((b - a).norm() / a.norm()).item()
    assert 1e-2 < rel < 0.1  # e4m3 keeps 3 mantissa bits: coarser than bf16 (~5e-3 here), far from a broken GEMM
    assert torch.nn.functional.cosine_similarity(a, b, dim=-1).min() > 0.99
    with pytest.raises(ValueError, match="already runs in FP8"):
        fp8.optimize("bf16")


def test_fp8_teacher_with_a_swiglu_tower():
    torch.manual_seed(0)
    kw = dict(type="eva_clip", variant="eva02_base_patch16_clip_224", embed_dim=32, depth=1, img_size=64,
              rope_ref_grid=4, allow_random=True)
    ref = build_teacher(kw)
    fp8 = build_teacher(kw)
    fp8.tower.load_state_dict(ref.tower.state_dict())
    fp8.optimize("fp8")
    assert type(fp8.tower.blocks[0].mlp.fc1).__name__ == "Float8Linear"
    images = torch.rand(2, 3, 64, 64)
    a, b = ref(images, (4, 4)), fp8(images, (4, 4))  # on the CPU, SwiGLU calls a swapped fc1 whole
    assert torch.nn.functional.cosine_similarity(a, b, dim=-1).min() > 0.99


def test_teacher_dtype_is_checked():
    with pytest.raises(ValueError, match="teacher dtype must be one of"):
        build_teacher(dict(type="pixel", dtype="int8"))
    with pytest.raises(ValueError, match="no linear layer FP8 can run"):
        build_teacher(dict(type="pixel", dtype="fp8"))
