"""EVA-CLIP zero-shot: a checkpoint laid out as BAAI releases it (their EVA vision keys; text tower as text.* or
OpenAI-CLIP top-level keys) loads into eva.backbone + open_clip's text tower, and the prompt-ensemble classifier
equals the one computed by hand from a reference open_clip text tower."""
import functools
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

open_clip = pytest.importorskip("open_clip", reason="zero-shot needs open_clip_torch")

from eva.backbone import CheckpointError, create_model  # noqa: E402
from eva.cls import zeroshot  # noqa: E402
from eva.cls.zeroshot import EVACLIP, build_classifier, load_eva_clip, zero_shot_logits  # noqa: E402

from ..backbone.helpers import randomize_, to_baai_layout  # noqa: E402

NAME, VISION, TEXT = "EVA02-B-16", dict(depth=1), dict(layers=1)
TEMPLATES = (lambda c: f"a photo of a {c}.", lambda c: f"a drawing of the {c}.")
CLASSES = ["cat", "dog", "sports car"]


def _release(path, openai_text: bool):
    """Random towers written the way BAAI's EVA-CLIP files are; returns the reference towers."""
    from open_clip.model import _build_text_tower

    cfg = open_clip.get_model_config(NAME)
    vision = randomize_(create_model("eva02_base_patch16_clip_224", num_classes=cfg["embed_dim"], **VISION))
    text = randomize_(_build_text_tower(cfg["embed_dim"], dict(cfg["text_cfg"], **TEXT)))
    v = to_baai_layout(vision.state_dict(), split_qkv=True, mlp="w123")
    v.pop("head.bias")  # EVA-CLIP's projection has no bias
    with torch.no_grad():
        vision.head.bias.zero_()
    ckpt = {f"visual.{k}": t for k, t in v.items()}
    ckpt.update({(k if openai_text else f"text.{k}"): t for k, t in text.state_dict().items()})
    ckpt["logit_scale"] = torch.tensor(4.0)
    torch.save(ckpt, path)
    return vision.eval(), text.eval()


@pytest.mark.parametrize("openai_text", [False, True], ids=["text-prefixed", "openai-top-level"])
def test_release_layout_loads_and_classifier_matches_hand_computation(tmp_path, openai_text):
    ref_vision, ref_text = _release(tmp_path / "eva_clip.pt", openai_text)
    model = EVACLIP(NAME, vision_overrides=VISION, text_overrides=TEXT).eval()
    load_eva_clip(model, str(tmp_path / "eva_clip.pt"))
    assert float(model.logit_scale) == 4.0

    classifier = build_classifier(model, CLASSES, TEMPLATES)
    tok = open_clip.get_tokenizer(NAME)
    with torch.no_grad():
        expected = torch.stack([F.normalize(F.normalize(ref_text(tok([t(c) for t in TEMPLATES])), dim=-1).mean(0),
                                            dim=0) for c in CLASSES], dim=1)
        images = torch.randn(2, 3, 224, 224)
        img = F.normalize(ref_vision(images), dim=-1)
    torch.testing.assert_close(classifier, expected, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(zero_shot_logits(model, images, classifier), np.exp(4.0) * img @ expected,
                               atol=1e-3, rtol=1e-4)


def test_text_tower_of_another_config_is_a_clear_error(tmp_path):
    _release(tmp_path / "eva_clip.pt", openai_text=False)
    model = EVACLIP(NAME, vision_overrides=VISION, text_overrides=dict(layers=2))
    with pytest.raises(CheckpointError, match="text tower"):
        load_eva_clip(model, str(tmp_path / "eva_clip.pt"))
    with pytest.raises(ValueError, match="unknown EVA-CLIP model"):
        EVACLIP("ViT-B-32")


def test_zeroshot_cli_on_an_image_folder(tmp_path, monkeypatch, capsys):
    from PIL import Image

    from eva.backbone.cli import main

    from open_clip.zero_shot_metadata import SIMPLE_IMAGENET_TEMPLATES

    from eva.cls.data import ImageFolderClsDataset

    ref_vision, ref_text = _release(tmp_path / "eva_clip.pt", openai_text=False)
    rng = np.random.default_rng(0)
    folders = ("golden_retriever", "tabby_cat", "tree_frog")
    for cls in folders:
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "data" / cls / f"{i}.png")
    monkeypatch.setattr(zeroshot, "EVACLIP", functools.partial(EVACLIP, vision_overrides=VISION, text_overrides=TEXT))
    prompted = []  # the class names the classifier is built from, in column order
    monkeypatch.setattr(zeroshot, "build_classifier", lambda model, names, *a, **kw: prompted.append(list(names))
                        or build_classifier(model, names, *a, **kw))
    out = tmp_path / "zs.json"
    assert main(["cls", "zeroshot", "--model", NAME, "--checkpoint", str(tmp_path / "eva_clip.pt"),
                 "--data", str(tmp_path / "data"), "--templates", "simple", "--out", str(out), "--workers", "0"]) == 0
    metrics = json.loads(out.read_text())
    assert "zeroshot/top1" in capsys.readouterr().out
    assert prompted == [["golden retriever", "tabby cat", "tree frog"]]  # column k is the folder of label k

    # the same images through the reference towers, prompts from the folder names with spaces
    tok = open_clip.get_tokenizer(NAME)
    data = ImageFolderClsDataset(dict(img_size=224, training=False, crop_pct=1.0), str(tmp_path / "data"))
    names = [c.replace("_", " ") for c in folders]
    with torch.no_grad():
        text = torch.stack([F.normalize(F.normalize(ref_text(tok([t(c) for t in SIMPLE_IMAGENET_TEMPLATES])),
                                                    dim=-1).mean(0), dim=0) for c in names], dim=1)
        images = torch.stack([data[i]["inputs"] for i in range(len(data))])
        pred = (F.normalize(ref_vision(images), dim=-1) @ text).argmax(1)
    labels = torch.tensor([data[i]["data_samples"] for i in range(len(data))])
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    expected = float((pred == labels).float().mean() * 100)
    assert set(metrics) == {"zeroshot/top1"} and metrics["zeroshot/top1"] == pytest.approx(expected, abs=1e-4)


def test_imagenet_synset_folders_get_readable_class_names():
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES
    from timm.data import ImageNetInfo

    synsets = ImageNetInfo().label_names()
    names = zeroshot.classnames_from(sorted(synsets))
    assert names[0] == "tench" and names == list(IMAGENET_CLASSNAMES) and len(names) == 1000
    assert zeroshot.classnames_from(["sports_car", "n0123"]) == ["sports car", "n0123"]
