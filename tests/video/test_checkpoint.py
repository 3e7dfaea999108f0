"""Recognizer checkpoints: the K722 -> K400 step (head rows remapped by `eva video remap-head`, 8 -> 16 frame
position table resampled on load), strict whole-model loading that names the fix, and BAAI's bare layout."""
import numpy as np
import pytest
import torch

pytest.importorskip("mmaction", reason="eva.video needs mmaction2 (make setup installs it)")

from eva.backbone import CheckpointError, read_checkpoint, save_checkpoint  # noqa: E402
from eva.backbone.layers import resize_pos_embed_3d  # noqa: E402
from eva.backbone.cli import main  # noqa: E402

from .test_configs import TINY, _load  # noqa: E402


def _recognizer(name, num_classes, init_from=None):
    from mmaction.registry import MODELS

    cfg = _load(name)
    cfg.model.backbone.update(TINY, pretrained=init_from)
    cfg.model.cls_head.update(in_channels=64, num_classes=num_classes)
    if init_from:
        cfg.model.cls_head.init_cfg.checkpoint = init_from
    else:
        cfg.model.cls_head.pop("init_cfg", None)
    if cfg.model.data_preprocessor.get("blending"):
        for aug in cfg.model.data_preprocessor.blending.augments:
            aug.num_classes = num_classes
    model = MODELS.build(cfg.model)
    model.init_weights()
    return cfg, model


def test_k722_head_remapped_and_16_frames_loaded_for_the_k400_stage(tmp_path):
    _, k722 = _recognizer("eva01_giant_k722_8x224.py", 10)
    with torch.no_grad():
        k722.backbone.pos_embed.normal_()
        k722.cls_head.fc_cls.bias.normal_()
    src = tmp_path / "k722.pth"
    save_checkpoint({"state_dict": k722.state_dict(), "meta": {"epoch": 40}}, src)
    index = np.array([7, 2, 5, 0])  # K400 class i is K722 class index[i]
    np.save(tmp_path / "k722_to_k4.npy", index)
    dst = tmp_path / "k722_k4head.pth"
    assert main(["video", "remap-head", str(src), str(dst), "--index", str(tmp_path / "k722_to_k4.npy")]) == 0
    head = read_checkpoint(dst)["state_dict"]
    assert torch.equal(head["cls_head.fc_cls.weight"], k722.cls_head.fc_cls.weight[index])
    # the K400 config's own mechanism: backbone.pretrained + the head's mmengine Pretrained init_cfg
    cfg = _load("eva01_giant_k400_16x224.py")
    assert cfg.init_from == cfg.model.backbone.pretrained
    _, k400 = _recognizer("eva01_giant_k400_16x224.py", 4, init_from=str(dst))
    assert torch.equal(k400.cls_head.fc_cls.bias, k722.cls_head.fc_cls.bias[index])
    assert k400.backbone.pos_embed.shape[1] == 1 + 16 * 16
    torch.testing.assert_close(k400.backbone.pos_embed.data,
                               resize_pos_embed_3d(k722.backbone.pos_embed.data, (8, 4, 4), (16, 4, 4)))
    assert torch.equal(k400.backbone.blocks[1].attn.qkv.weight, k722.backbone.blocks[1].attn.qkv.weight)
    # forgetting remap-head: the 10-class head does not load into the 4-class model, with the fix named
    with pytest.raises(CheckpointError, match="eva video remap-head"):
        _recognizer("eva01_giant_k400_16x224.py", 4, init_from=str(src))


def test_remap_by_label_names_and_bad_indices(tmp_path, capsys):
    _, model = _recognizer("eva01_giant_k722_8x224.py", 5)
    src = tmp_path / "m.pth"
    save_checkpoint({"state_dict": model.state_dict()}, src)
    (tmp_path / "src.csv").write_text("id,name\n0,abseiling\n1,bowling\n2,juggling\n3,surfing\n4,yoga\n")
    (tmp_path / "dst.txt").write_text("surfing\nabseiling\n")
    dst = tmp_path / "out.pth"
    assert main(["video", "remap-head", str(src), str(dst), "--source-labels", str(tmp_path / "src.csv"),
                 "--target-labels", str(tmp_path / "dst.txt")]) == 0
    w = read_checkpoint(dst)["state_dict"]["cls_head.fc_cls.weight"]
    assert torch.equal(w, model.cls_head.fc_cls.weight[[3, 0]])
    (tmp_path / "bad.txt").write_text("1\n9\n")
    assert main(["video", "remap-head", str(src), str(dst), "--index", str(tmp_path / "bad.txt")]) == 2
    assert "[0, 5)" in capsys.readouterr().err
    (tmp_path / "dst.txt").write_text("surfing\nparkour\n")
    assert main(["video", "remap-head", str(src), str(dst), "--source-labels", str(tmp_path / "src.csv"),
                 "--target-labels", str(tmp_path / "dst.txt")]) == 2
    assert "parkour" in capsys.readouterr().err


def test_strict_recognizer_load_names_the_fix_and_reads_the_bare_layout():
    from eva.video.checkpoint import load_recognizer

    _, trained = _recognizer("eva01_giant_k722_8x224.py", 6)
    _, fresh = _recognizer("eva01_giant_k722_8x224.py", 6)
    state = trained.state_dict()
    # BAAI's video release: a bare ViT with its classifier (blocks.*, head.*)
    bare = {("head." + k[len("cls_head.fc_cls."):] if k.startswith("cls_head.") else k[len("backbone."):]): v
            for k, v in state.items()}
    load_recognizer(fresh, {"model": bare})
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, state[k]), k
    _, other = _recognizer("eva01_giant_k722_8x224.py", 9)
    with pytest.raises(CheckpointError, match="predicts 6 classes, the config 9: set model.cls_head.num_classes"):
        load_recognizer(other, {"state_dict": state})
    broken = dict(state)
    broken.pop("backbone.blocks.1.mlp.fc2.weight")
    with pytest.raises(CheckpointError, match="blocks.1.mlp.fc2.weight"):
        load_recognizer(fresh, broken)
