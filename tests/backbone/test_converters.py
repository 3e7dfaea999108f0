"""Converters and checkpoint files: the released BAAI layouts, timm, ours, and every way a file can be wrong."""
import argparse
import os

import pytest
import torch

from eva.backbone import CheckpointError, create_model, load_checkpoint, read_checkpoint, save_checkpoint
from eva.backbone.layers import resize_pos_embed, resize_rel_pos

from .helpers import randomize_, to_baai_layout


def _ref(name, **kw):
    return randomize_(create_model(name, depth=2, **kw)).eval()


def _assert_loaded_equal(model, ref):
    mine, theirs = model.state_dict(), ref.state_dict()
    assert set(mine) == set(theirs)
    for k in mine:
        torch.testing.assert_close(mine[k], theirs[k], msg=k)


def test_eva02_base_mim_release(tmp_path):
    """EVA-02 B/L MIM files: split q/k/v, w1/w2/w3 + ffn_ln, persisted RoPE, mask token and lm head."""
    ref = _ref("eva02_base_patch14_224")
    sd = to_baai_layout(ref.state_dict(), split_qkv=True, mlp="w123", mim=True, rope_grid=16)
    path = tmp_path / "eva02_B_pt_in21k_p14.pt"
    torch.save({"model": sd, "args": argparse.Namespace(lr=1.5e-3), "epoch": 149}, path)
    model = create_model("eva02_base_patch14_224", depth=2)
    report = load_checkpoint(model, path)
    _assert_loaded_equal(model, ref)
    assert report.source == "baai" and report.unwrapped == ["model"]
    dropped = dict(report.dropped)
    assert {"mask_token", "lm_head.weight", "rope.freqs_cos"} <= set(dropped)
    assert ("norm.weight", "fc_norm.weight") in report.renamed
    assert ("blocks.0.attn.q_proj.weight", "blocks.0.attn.qkv.weight") in report.renamed


def test_eva02_tiny_deepspeed_module_wrapper():
    ref = _ref("eva02_tiny_patch14_224")
    sd = {f"module.{k}": v for k, v in to_baai_layout(ref.state_dict(), split_qkv=False, mlp="w12").items()}
    model = create_model("eva02_tiny_patch14_224", depth=2)
    report = load_checkpoint(model, {"module": sd})
    _assert_loaded_equal(model, ref)
    assert report.unwrapped == ["module", "module."]


def test_eva01_finetuned_ema_with_layer_scale():
    ref = _ref("eva_giant_patch14_224", layer_scale=0.1, num_classes=5)
    sd = to_baai_layout(ref.state_dict(), split_qkv=False)
    assert "blocks.0.gamma_1" in sd and "fc_norm.weight" in sd and "head.weight" in sd
    model = create_model("eva_giant_patch14_224", depth=2, layer_scale=0.1, num_classes=5)
    report = load_checkpoint(model, {"model": {}, "model_ema": sd})
    _assert_loaded_equal(model, ref)
    assert report.unwrapped == ["model_ema"]


def test_eva_clip_release_with_text_tower():
    ref = _ref("eva02_large_patch14_clip_224", num_classes=32)
    vision = to_baai_layout(ref.state_dict(), split_qkv=True, mlp="w123")
    vision.pop("head.bias")  # EVA-CLIP's projection has no bias
    ckpt = {f"visual.{k}": v for k, v in vision.items()}
    ckpt.update({"text.token_embedding.weight": torch.randn(10, 8), "logit_scale": torch.tensor(4.6)})
    model = create_model("eva02_large_patch14_clip_224", depth=2, num_classes=32)
    report = load_checkpoint(model, ckpt)
    with torch.no_grad():
        ref.head.bias.zero_()
    _assert_loaded_equal(model, ref)
    assert "text.token_embedding.weight" in dict(report.dropped)
    assert report.added == [("head.bias", report.added[0][1])]
    assert ("blocks.0.attn.inner_attn_ln.weight", "blocks.0.attn.norm.weight") in report.renamed


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_native_roundtrip_is_atomic_file(tmp_path, suffix):
    ref = _ref("eva02_small_patch14_224")
    path = tmp_path / f"ours{suffix}"
    save_checkpoint(ref.state_dict(), path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would make it, not mkstemp's owner-only
    model = create_model("eva02_small_patch14_224", depth=2)
    assert load_checkpoint(model, path).source == "eva"
    _assert_loaded_equal(model, ref)


def test_pos_embed_resampled_to_model_grid():
    ref = _ref("eva02_small_patch14_224")
    model = create_model("eva02_small_patch14_224", depth=2, img_size=336)
    report = load_checkpoint(model, ref.state_dict())
    assert ("pos_embed", (1, 257, 384), (1, 577, 384)) in report.resized
    torch.testing.assert_close(model.pos_embed, resize_pos_embed(ref.pos_embed, (16, 16), (24, 24)))


def test_patch_embed_14_to_16_preserves_token_embeddings():
    ref = _ref("eva02_small_patch14_224")
    model = create_model("eva02_small_patch14_224", depth=2, patch_size=16, img_size=256).eval()
    report = load_checkpoint(model, ref.state_dict())
    assert ("patch_embed.proj.weight", (384, 3, 14, 14), (384, 3, 16, 16)) in report.resized
    # FlexiViT: <resize(patch), resampled kernel> == <patch, original kernel>
    patches = torch.randn(6, 3, 14, 14)
    up = torch.nn.functional.interpolate(patches, size=(16, 16), mode="bicubic", antialias=True)
    old = torch.einsum("nchw,dchw->nd", patches, ref.patch_embed.proj.weight)
    new = torch.einsum("nchw,dchw->nd", up, model.patch_embed.proj.weight)
    torch.testing.assert_close(new, old, atol=1e-4, rtol=1e-3)


def test_rel_pos_tables_resampled_for_another_window():
    common = dict(depth=2, class_token=False, global_pool="", window_size=14, rel_pos=True, rel_pos_grid=32)
    ref = randomize_(create_model("eva_giant_patch14_224", **common))
    model = create_model("eva_giant_patch14_224", **dict(common, window_size=16))
    report = load_checkpoint(model, ref.state_dict())
    assert ("blocks.0.attn.rel_pos_h", (27, 88), (31, 88)) in report.resized
    for key in ("blocks.0.attn.rel_pos_h", "blocks.1.attn.rel_pos_w"):  # the values are the resampled tables
        torch.testing.assert_close(model.state_dict()[key], resize_rel_pos(ref.state_dict()[key], 31))


def test_class_token_dropped_for_detection_model():
    ref = _ref("eva02_small_patch14_224")
    model = create_model("eva02_small_patch14_224", depth=2, class_token=False, global_pool="",
                         window_size=4)
    report = load_checkpoint(model, ref.state_dict())
    assert "cls_token" in dict(report.dropped)
    torch.testing.assert_close(model.pos_embed, ref.pos_embed)


def test_eva_l_fine_tuned_position_table_is_kept():
    """EVA-L pre-trains with a fixed sin-cos table and fine-tunes it: a learned table must load, never be
    dropped as if it were the fixed one (timm's ``eva_large_patch14_196`` weights carry a learned table)."""
    from eva.backbone.layers import sincos_pos_embed

    ref = randomize_(create_model("eva_large_patch14_224", depth=2)).eval()
    model = create_model("eva_large_patch14_224", depth=2).eval()
    load_checkpoint(model, ref.state_dict())
    x = torch.randn(1, 3, 224, 224)
    torch.testing.assert_close(model(x), ref(x))
    with pytest.raises(CheckpointError, match="pos_embed='learned'"):  # the pre-training model would lose it
        load_checkpoint(create_model("eva_large_patch14_224", depth=2, pos_embed="sincos"), ref.state_dict())
    for dtype in (torch.float32, torch.float16):  # the MIM release: the fixed table, also stored in half precision
        mim = dict(ref.state_dict(), pos_embed=sincos_pos_embed((16, 16), 1024).to(dtype))
        report = load_checkpoint(create_model("eva_large_patch14_224", depth=2, pos_embed="sincos"), mim)
        assert "pos_embed" in dict(report.dropped)


def test_variant_hint_describes_the_checkpoint_as_saved():
    ckpt = create_model("eva02_tiny_patch14_224", depth=6, patch_size=8, img_size=80).state_dict()
    with pytest.raises(CheckpointError, match="width 192, depth 6, patch 8"):  # not the model's resampled 14
        load_checkpoint(create_model("eva02_tiny_patch14_224", depth=2), ckpt)


def test_other_variant_is_a_clear_error():
    ckpt = create_model("eva02_base_patch14_224").state_dict()
    model = create_model("eva02_large_patch14_224", depth=2)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(model, ckpt)
    msg = str(err.value)
    assert "different variant" in msg and "eva02_base_patch14_224" in msg and "width 768, depth 12" in msg
    assert "shape mismatch" in msg and "blocks.0.attn.qkv.weight" in msg


def test_missing_keys_are_listed():
    sd = _ref("eva02_small_patch14_224").state_dict()
    del sd["blocks.1.mlp.fc2.weight"]
    with pytest.raises(CheckpointError, match=r"missing in checkpoint \(1\):\n\s+blocks.1.mlp.fc2.weight"):
        load_checkpoint(create_model("eva02_small_patch14_224", depth=2), sd)
    report = load_checkpoint(create_model("eva02_small_patch14_224", depth=2), sd, strict=False)
    assert report.missing == ["blocks.1.mlp.fc2.weight"]


def test_wrong_class_count_names_the_fix():
    sd = _ref("eva02_small_patch14_224", num_classes=10).state_dict()
    with pytest.raises(CheckpointError, match="classifier size differs"):
        load_checkpoint(create_model("eva02_small_patch14_224", depth=2, num_classes=5), sd)
    report = load_checkpoint(create_model("eva02_small_patch14_224", depth=2), sd)  # no head: dropped
    assert "head.weight" in dict(report.dropped)


def test_unknown_keys_are_never_silently_dropped():
    sd = _ref("eva02_small_patch14_224").state_dict()
    sd["rel_pos_bias.relative_position_bias_table"] = torch.zeros(3, 3)
    with pytest.raises(CheckpointError, match="unexpected in checkpoint"):
        load_checkpoint(create_model("eva02_small_patch14_224", depth=2), sd)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_files(tmp_path, damage):
    path = tmp_path / "ckpt.pth"
    torch.save(_ref("eva02_tiny_patch14_224").state_dict(), path)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00not a checkpoint" * 50,
                      "empty": b""}[damage])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(create_model("eva02_tiny_patch14_224", depth=2), path)


def test_corrupt_safetensors(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(_ref("eva02_tiny_patch14_224").state_dict(), path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        read_checkpoint(path)


class _Payload:
    def __reduce__(self):
        return (print, ("this would run",))


def test_pickled_code_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"model": {}, "payload": _Payload()}, path)
    with pytest.raises(CheckpointError, match="could run code.*weights_only=False"):
        read_checkpoint(path)


def test_missing_file():
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint("/nonexistent/eva.pt")


def test_architecture_inference_never_reads_a_non_square_grid_as_square():
    from eva.backbone.convert import match_variant

    wide = create_model("eva02_tiny_patch14_224", depth=2, img_size=(224, 252))  # 16 x 18 + class token = 17 x 17
    assert wide.pos_embed.shape[1] == 289
    name, overrides = match_variant(wide.state_dict())
    assert name == "eva02_tiny_patch14_224" and "img_size" not in overrides  # not 238: nothing to resample to
    det = create_model("eva02_tiny_patch14_224", depth=2, img_size=112, class_token=False, global_pool="")
    assert match_variant(det.state_dict())[1]["img_size"] == 112  # 8 x 8 + the unused class slot
