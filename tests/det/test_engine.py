"""detectron2's trainer and evaluators around the EVA detector on real composites (Fashion-MNIST items on real
photos): EMA weights kept and evaluated, checkpoints reloadable, submission JSON accepted by pycocotools,
predictions drawn by `eva det demo`."""
import json
import zipfile

import pytest
import torch

from eva.det.checkpoint import load_detector
from eva.det.engine import build_model, do_train
from eva.det.engine import do_test as engine_do_test

from .conftest import CONFIGS


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from detectron2.config import LazyConfig

    root = tmp_path_factory.mktemp("det_run")
    cfg = LazyConfig.load(str(CONFIGS / "demo" / "eva02_tiny_composites.py"))
    overrides = [f"train.output_dir={root / 'out'}", "train.max_iter=4", "train.eval_period=4",
                 "train.checkpointer.period=4", "train.model_ema.enabled=True", "train.model_ema.decay=0.5",
                 "lr_multiplier.scheduler.milestones=[2,3]", "dataloader.train.total_batch_size=2",
                 "dataloader.train.num_workers=0", "dataloader.test.num_workers=0",
                 "model.backbone.net.pretrained=null", "model.backbone.net.depth=2",
                 "model.backbone.net.global_blocks=[1]",
                 f"dataloader.train.dataset.names.root={root}", "dataloader.train.dataset.names.n=16",
                 "dataloader.train.dataset.names.name=eva_test_train",
                 f"dataloader.test.dataset.names.root={root}", "dataloader.test.dataset.names.n=6",
                 "dataloader.test.dataset.names.name=eva_test_val",
                 f"dataloader.evaluator.dataset_name.root={root}", "dataloader.evaluator.dataset_name.n=6",
                 "dataloader.evaluator.dataset_name.name=eva_test_val"]
    cfg = LazyConfig.apply_overrides(cfg, overrides)
    for p in cfg.model.roi_heads.box_predictors:
        p.test_score_thresh = 0.0  # an untrained model: keep its low scores so the evaluators see detections
    torch.manual_seed(0)
    import eva.det.engine as engine

    evaluated = []
    with pytest.MonkeyPatch.context() as mp:  # record which weights the periodic evaluation sees
        mp.setattr(engine, "do_test", lambda c, model: evaluated.append(
            {k: v.clone() for k, v in model.state_dict().items()}) or engine_do_test(c, model))
        results = do_train(cfg)
    return cfg, root / "out", results, evaluated


def test_training_evaluates_with_coco_evaluator_and_keeps_ema(run):
    cfg, out, results, evaluated = run
    assert {"bbox", "segm"} <= set(results)
    ckpt = torch.load(out / "model_final.pth", weights_only=False)
    assert "ema_state" in ckpt and ckpt["iteration"] == 3
    raw, ema = build_model(cfg), build_model(cfg)
    load_detector(raw, str(out / "model_final.pth"))
    load_detector(ema, str(out / "model_final.pth"), use_ema=True)
    name = "backbone.net.blocks.1.attn.qkv.weight"
    assert not torch.equal(raw.state_dict()[name], ema.state_dict()[name])  # a real average, not a copy
    assert len(evaluated) == 1  # the evaluation ran on the EMA weights
    torch.testing.assert_close(evaluated[0][name], ema.state_dict()[name])


def test_submission_zip_loads_in_pycocotools(run, tmp_path):
    from pycocotools.coco import COCO

    from eva.det.cli import write_submission

    cfg, out, _, _ = run
    results = out / "coco_instances_results.json"
    assert results.exists()  # written by COCOEvaluator during training's evaluation
    zipped = write_submission(out, str(tmp_path / "sub.zip"), "coco_2017_test-dev")
    with zipfile.ZipFile(zipped) as zf:
        (name,) = zf.namelist()
        dets = json.loads(zf.read(name))
    assert name == "detections_test-dev2017_eva_results.json" and len(dets) > 0
    with zipfile.ZipFile(write_submission(out, str(tmp_path / "val.zip"), "coco_2017_val", "x")) as zf:
        assert zf.namelist() == ["detections_val2017_x_results.json"]  # named after the split predicted
    lvis_dir = tmp_path / "lvis"  # LVISEvaluator's file, zipped under the name LVIS's server takes
    lvis_dir.mkdir()
    (lvis_dir / "lvis_instances_results.json").write_text(json.dumps(dets))
    with zipfile.ZipFile(write_submission(lvis_dir, str(tmp_path / "lvis.zip"), "lvis_v1_test_dev")) as zf:
        assert zf.namelist() == ["lvis_instances_results.json"]
    with pytest.raises(FileNotFoundError, match="no coco_instances_results.json"):
        write_submission(tmp_path / "empty", str(tmp_path / "none.zip"), "coco_2017_test-dev")
    gt = COCO(str(next(out.parent.glob("eva_test_val/annotations.json"))))
    res = gt.loadRes(dets)
    assert len(res.getAnnIds()) == len(dets) and {"bbox", "segmentation", "score"} <= set(dets[0])


def test_demo_draws_predictions(run, tmp_path):
    from eva.backbone.cli import main

    cfg, out, _, _ = run
    image = next(out.parent.glob("eva_test_val/images/*.jpg"))
    overrides = [f"train.output_dir={tmp_path / 'demo'}",  # detectron2's set-up writes its config there
                 f"dataloader.test.dataset.names.root={out.parent}", "dataloader.test.dataset.names.n=6",
                 "dataloader.test.dataset.names.name=eva_test_val", "model.backbone.net.pretrained=null",
                 "model.backbone.net.depth=2", "model.backbone.net.global_blocks=[1]"]
    assert main(["det", "demo", "--config-file", str(CONFIGS / "demo" / "eva02_tiny_composites.py"),
                 "--checkpoint", str(out / "model_final.pth"), "--input", str(image), "--output",
                 str(tmp_path / "pred.png"), "--score", "0.0", *overrides]) == 0
    assert (tmp_path / "pred.png").stat().st_size > 10_000


def test_eval_and_submit_cli(run, tmp_path):
    from eva.backbone.cli import main

    _, out, _, _ = run
    common = ["--config-file", str(CONFIGS / "demo" / "eva02_tiny_composites.py"), "--checkpoint",
              str(out / "model_final.pth"), "--ema"]
    data = [f"dataloader.test.dataset.names.root={out.parent}", "dataloader.test.dataset.names.n=6",
            "dataloader.test.dataset.names.name=eva_test_val", "model.backbone.net.pretrained=null",
            "model.backbone.net.depth=2", "model.backbone.net.global_blocks=[1]",
            f"dataloader.evaluator.dataset_name.root={out.parent}", "dataloader.evaluator.dataset_name.n=6",
            "dataloader.evaluator.dataset_name.name=eva_test_val"]
    for p in range(3):
        data.append(f"model.roi_heads.box_predictors.{p}.test_score_thresh=0.0")
    assert main(["det", "eval", *common, f"train.output_dir={tmp_path / 'eval'}", *data]) == 0
    assert main(["det", "submit", *common, "--output", str(tmp_path / "sub.zip"),
                 f"train.output_dir={tmp_path / 'sub'}", *data]) == 0
    def scored(path_or_zip):
        if str(path_or_zip).endswith(".zip"):
            with zipfile.ZipFile(path_or_zip) as zf:
                dets = json.loads(zf.read(zf.namelist()[0]))
        else:
            dets = json.loads(path_or_zip.read_text())
        return torch.tensor(sorted(d["score"] for d in dets))

    ours = scored(out / "coco_instances_results.json")  # training's evaluation, on the EMA weights
    torch.testing.assert_close(scored(tmp_path / "sub.zip"), ours)  # --ema: the EMA weights' detections
    raw = [c for c in common if c != "--ema"]
    assert main(["det", "submit", *raw, "--output", str(tmp_path / "raw.zip"),
                 f"train.output_dir={tmp_path / 'raw'}", *data]) == 0
    raw_scores = scored(tmp_path / "raw.zip")  # the raw weights predict otherwise
    assert raw_scores.shape != ours.shape or not torch.allclose(raw_scores, ours)
