"""Mixup / cutmix (timm's) produce the documented convex combinations; the EMA hook keeps the documented
average (ema <- (1 - m) * ema + m * weights after every step) and evaluation loads those weights."""
import numpy as np
import pytest
import torch
from mmengine.hooks import Hook

from eva.cls import ClsDataPreprocessor, EVAClassifier
from eva.cls.checkpoint import load_classifier
from eva.cls.cli import build_runner

from .conftest import TINY_BACKBONE, write_tiny_config

C, SMOOTH = 5, 0.1


def _smooth(y):
    return torch.nn.functional.one_hot(y, C).float() * (1 - SMOOTH) + SMOOTH / C


def test_mixup_is_a_convex_combination_of_the_flipped_batch():
    torch.manual_seed(0)
    x, y = torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 3])
    pre = ClsDataPreprocessor(num_classes=C, mixup_alpha=0.8, label_smoothing=SMOOTH)
    out = pre({"inputs": x.clone(), "data_samples": y}, training=True)
    lam = float(((out["inputs"] - x.flip(0)) / (x - x.flip(0))).median())
    torch.testing.assert_close(out["inputs"], lam * x + (1 - lam) * x.flip(0))
    torch.testing.assert_close(out["data_samples"], lam * _smooth(y) + (1 - lam) * _smooth(y.flip(0)))
    plain = pre({"inputs": x.clone(), "data_samples": y}, training=False)  # evaluation batches stay untouched
    assert torch.equal(plain["inputs"], x) and torch.equal(plain["data_samples"], y)


def test_cutmix_target_weight_is_the_pasted_area():
    np.random.seed(0)  # timm's Mixup draws lam and the box with numpy
    torch.manual_seed(1)
    x, y = torch.rand(2, 3, 16, 16), torch.tensor([1, 4])
    pre = ClsDataPreprocessor(num_classes=C, cutmix_alpha=1.0, label_smoothing=0.0)
    out = pre({"inputs": x.clone(), "data_samples": y}, training=True)
    own = (out["inputs"] == x).all(1).float().mean((1, 2))  # fraction of each image's pixels kept
    assert torch.logical_or(out["inputs"] == x, out["inputs"] == x.flip(0)).all()
    t = out["data_samples"]  # row i: lam on its own label, 1 - lam on the partner's
    assert 0 < float(own[0]) < 1
    torch.testing.assert_close(torch.stack([t[0, 1], t[1, 4]]), own)
    torch.testing.assert_close(torch.stack([t[0, 4], t[1, 1]]), 1 - own)


def test_mixup_needs_an_even_batch():
    pre = ClsDataPreprocessor(num_classes=C, mixup_alpha=0.8)
    with pytest.raises(ValueError, match="even batch size"):
        pre({"inputs": torch.rand(3, 3, 8, 8), "data_samples": torch.tensor([0, 1, 2])}, training=True)


class _Record(Hook):
    priority = "LOWEST"

    def __init__(self):
        self.seen = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        model = runner.model.module if hasattr(runner.model, "module") else runner.model
        self.seen.append(model.backbone.blocks[0].attn.qkv.weight.detach().clone())


def test_ema_weights_follow_the_documented_average(tmp_path):
    m = 0.5
    cfg = write_tiny_config(tmp_path, max_iters=3, train_samples=256, test_samples=100, extra=f"""
custom_hooks = [dict(type="ResumeStateHook"),
                dict(type="EMAHook", ema_type="ExponentialMovingAverage", momentum={m}, update_buffers=True)]
""")
    runner = build_runner(str(cfg), str(tmp_path / "work"), False, [])
    rec = _Record()
    runner.register_hook(rec)
    runner.train()
    p1, p2, p3 = rec.seen
    expected = m * p3 + (1 - m) * (m * p2 + (1 - m) * p1)  # the first step copies, later steps average
    model = EVAClassifier(TINY_BACKBONE, num_classes=10)
    assert load_classifier(model, str(tmp_path / "work" / "iter_3.pth")) == "ema"
    torch.testing.assert_close(model.backbone.blocks[0].attn.qkv.weight, expected)
    assert not torch.allclose(expected, p3)
