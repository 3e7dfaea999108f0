"""A short real-data fine-tune through mmengine's Runner beats chance by a wide margin; `eva cls eval` on its
checkpoint reproduces the validation numbers and writes the per-class accuracy and confusion matrix."""
import csv
import json

import pytest

from eva.cls.cli import build_runner

from .conftest import write_tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cls_train")
    cfg = write_tiny_config(root, max_iters=200, extra='custom_hooks = [dict(type="ResumeStateHook"), '
                                                        'dict(type="LossCurveHook", plot_interval=100)]')
    runner = build_runner(str(cfg), str(root / "work"), False, [])
    runner.train()
    return cfg, root / "work"


def test_fine_tune_beats_chance_and_loss_goes_down(trained):
    _, work = trained
    metrics = json.loads((work / "eval" / "metrics.json").read_text())
    assert metrics["num_samples"] == 1000
    assert metrics["top1"] > 30.0, metrics  # 10 classes: chance is 10%
    assert metrics["top5"] > metrics["top1"]
    with open(work / "loss.csv") as f:
        losses = [float(r["loss"]) for r in csv.DictReader(f)]
    first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
    assert last < first - 0.3, (first, last)
    assert (work / "eval" / "confusion_matrix.png").stat().st_size > 10_000
    per_class = json.loads((work / "eval" / "per_class_accuracy.json").read_text())
    assert len(per_class) == 10 and all(0 <= v <= 100 for v in per_class.values())


def test_eval_cli_reproduces_validation(trained, tmp_path):
    from eva.backbone.cli import main

    cfg, work = trained
    val = json.loads((work / "eval" / "metrics.json").read_text())
    assert main(["cls", "eval", str(cfg), "--checkpoint", str(work / "iter_200.pth"),
                 "--work-dir", str(tmp_path)]) == 0
    again = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert again["top1"] == pytest.approx(val["top1"]) and again["top5"] == pytest.approx(val["top5"])


def test_eval_with_another_class_count_is_a_clear_error(trained, tmp_path):
    from eva.backbone import CheckpointError
    from eva.backbone.cli import main

    cfg, work = trained
    with pytest.raises(CheckpointError, match="model.num_classes=10"):
        main(["cls", "eval", str(cfg), "--checkpoint", str(work / "iter_200.pth"), "--work-dir", str(tmp_path),
              "--cfg-options", "model.num_classes=7"])
