"""Whole-segmentor loading: BAAI's EVA-02 UperNet release layout (mmseg 0.x, pyramid inside the backbone as
fpn1..fpn4, split q/k/v, w1/w2/w3 + ffn_ln, persisted RoPE tables) gives the same predictions as the model it
was written from; a checkpoint of another class count is refused with the fix."""
import re

import pytest
import torch

pytest.importorskip("mmseg", reason="eva.seg needs mmsegmentation (make setup installs it)")

from eva.backbone import CheckpointError  # noqa: E402

from ..backbone.helpers import randomize_, to_baai_layout  # noqa: E402
from .test_backbone import _tiny_segmentor  # noqa: E402


def _baai_release(model) -> dict:
    sd = model.state_dict()
    backbone = {k[len("backbone."):]: v for k, v in sd.items() if k.startswith("backbone.")}
    out = {f"backbone.{k}": v for k, v in to_baai_layout(backbone, split_qkv=True, mlp="w123").items()}
    for k, v in sd.items():
        if k.startswith("neck."):
            out[k.replace("neck.upsample_4x.", "backbone.fpn1.").replace("neck.upsample_2x.", "backbone.fpn2.")] = v
        elif not k.startswith("backbone."):
            out[k] = v
    grid = model.backbone.grid
    for i in range(len(model.backbone.blocks)):  # EVA2 shares its RoPE module into every block
        out[f"backbone.blocks.{i}.attn.rope.freqs_cos"] = torch.randn(grid[0] * grid[1], 16)
    out["backbone.rope.freqs_cos"] = torch.randn(grid[0] * grid[1], 16)
    return {"meta": {"iter": 60000, "CLASSES": ["a", "b", "c", "d", "e"]}, "state_dict": out}


def test_baai_release_layout_loads_and_predicts_the_same():
    from eva.seg.checkpoint import load_segmentor

    _, src = _tiny_segmentor()
    randomize_(src)
    src.eval()
    release = _baai_release(src)
    assert any(re.match(r"backbone\.blocks\.0\.attn\.q_proj\.weight", k) for k in release["state_dict"])
    assert "backbone.fpn1.1.running_mean" in release["state_dict"]
    _, dst = _tiny_segmentor()
    report = load_segmentor(dst, release)
    assert report.ok and any("freqs_cos" in k for k, _ in report.dropped)
    dst.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(dst.encode_decode(x, [dict(img_shape=(64, 64))]),
                                   src.encode_decode(x, [dict(img_shape=(64, 64))]), atol=1e-5, rtol=1e-5)


def test_other_class_count_is_refused_with_the_fix():
    from eva.seg.checkpoint import load_segmentor

    _, src = _tiny_segmentor(num_classes=7)
    _, dst = _tiny_segmentor(num_classes=5)
    fix = r"(?s)decode_head\.conv_seg\.weight.*predicts 7 classes.*model\.decode_head\.num_classes"
    with pytest.raises(CheckpointError, match=fix):
        load_segmentor(dst, {"state_dict": src.state_dict()})
