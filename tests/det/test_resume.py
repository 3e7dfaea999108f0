"""Exact resume for detection: the resumable loader forms detectron2's batches, continues its stream from any
iteration with any number of workers, a killed-and-resumed training run ends with the uninterrupted run's weights
(EMA included), and a crash while saving never damages the last good checkpoint."""
import random

import pytest
import torch

from eva.det.engine import do_train
from eva.det.loader import build_resumable_train_loader

from ..crash import Killed, assert_same_weights
from .conftest import CONFIGS


def _demo_cfg(root, name, overrides=()):
    from detectron2.config import LazyConfig

    cfg = LazyConfig.load(str(CONFIGS / "demo" / "eva02_tiny_composites.py"))
    return LazyConfig.apply_overrides(cfg, [
        "model.backbone.net.pretrained=null", "model.backbone.net.depth=2", "model.backbone.net.global_blocks=[1]",
        f"dataloader.train.dataset.names.root={root}", "dataloader.train.dataset.names.n=16",
        f"dataloader.train.dataset.names.name={name}", "dataloader.train.total_batch_size=2", *overrides])


def test_batches_are_detectron2s_aspect_ratio_groups():
    from detectron2.data import build_detection_train_loader
    from detectron2.data.samplers import TrainingSampler

    rng = random.Random(0)
    dicts = [dict(image_id=i, width=rng.choice([300, 500]), height=rng.choice([300, 400])) for i in range(40)]
    ours = build_resumable_train_loader(dicts, mapper=dict, total_batch_size=3, sampler=TrainingSampler(40, seed=5))
    peer = build_detection_train_loader(dicts, mapper=dict, total_batch_size=3, sampler=TrainingSampler(40, seed=5))
    ids = [[[d["image_id"] for d in batch] for batch, _ in zip(loader, range(12))] for loader in (ours, peer)]
    assert ids[0] == ids[1]
    landscape = {d["image_id"] for d in dicts if d["width"] > d["height"]}
    assert any(b[0] in landscape for b in ids[0]) and any(b[0] not in landscape for b in ids[0])
    with pytest.raises(ValueError, match="'width' and 'height'.*aspect_ratio_grouping=False"):
        build_resumable_train_loader([dict(image_id=0)], mapper=dict, total_batch_size=1)


@pytest.mark.parametrize("workers", [0, 2])
def test_loader_started_later_continues_the_stream(tmp_path, workers):
    from detectron2.config import instantiate

    cfg = _demo_cfg(tmp_path, f"eva_resume_loader_{workers}", [f"dataloader.train.num_workers={workers}"])
    batches = [b for b, _ in zip(instantiate(cfg.dataloader.train), range(6))]
    later = instantiate(cfg.dataloader.train)
    later.start_iter = 3
    resumed = [b for b, _ in zip(later, range(3))]
    for expected, actual in zip(batches[3:], resumed):
        assert [d["image_id"] for d in expected] == [d["image_id"] for d in actual]
        for e, a in zip(expected, actual):  # the same random flip, scale and crop
            assert torch.equal(e["image"], a["image"])
            assert torch.equal(e["instances"].gt_boxes.tensor, a["instances"].gt_boxes.tensor)
    ids = [d["image_id"] for b in batches for d in b]
    first = {i: d["image"] for b in batches for d in b for i in [d["image_id"]] if ids.count(i) > 1}
    repeats = [d for b in batches for d in b if d["image_id"] in first and d["image"] is not first[d["image_id"]]]
    assert all(d["image"].shape != first[d["image_id"]].shape or not torch.equal(d["image"], first[d["image_id"]])
               for d in repeats)  # a sample drawn twice is augmented twice, not replayed


def _train(cfg, crash_at=None):
    """``do_train`` on ``cfg``; with ``crash_at``, the job dies before that iteration's step."""
    from detectron2.engine import SimpleTrainer

    step = SimpleTrainer.run_step

    def run_step(self):
        if self.iter == crash_at:
            raise Killed(f"simulated kill before iteration {crash_at}")
        return step(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SimpleTrainer, "run_step", run_step)
        return do_train(cfg, resume=True)


def test_killed_training_resumes_exactly(tmp_path):
    common = ["train.max_iter=6", "train.checkpointer.period=3", "train.model_ema.enabled=True",
              "train.model_ema.decay=0.5", "model.backbone.net.drop_path_rate=0.2",
              "lr_multiplier.scheduler.milestones=[2,4]", "dataloader.train.num_workers=0"]

    def cfg(out):
        c = _demo_cfg(tmp_path, "eva_resume_train", [f"train.output_dir={tmp_path / out}", *common])
        del c.dataloader.evaluator  # weights are compared, not scores
        return c

    torch.manual_seed(0)  # the initial weights (the CLI's default_setup seeds from train.seed)
    _train(cfg("straight"))
    torch.manual_seed(0)
    with pytest.raises(Killed):
        _train(cfg("killed"), crash_at=4)  # iterations 3 and 4's work since the checkpoint at 2 is lost
    assert (tmp_path / "killed" / "last_checkpoint").read_text() == "model_0000002.pth"
    torch.manual_seed(123)  # the resumed process's generators start elsewhere
    _train(cfg("killed"))
    straight = torch.load(tmp_path / "straight" / "model_final.pth", weights_only=False)
    resumed = torch.load(tmp_path / "killed" / "model_final.pth", weights_only=False)
    assert straight["iteration"] == resumed["iteration"] == 5
    assert_same_weights(straight["model"], resumed["model"])
    assert_same_weights(straight["ema_state"], resumed["ema_state"])
    assert_same_weights(straight["trainer"]["optimizer"]["state"][0], resumed["trainer"]["optimizer"]["state"][0])


def test_crash_while_saving_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    import fvcore.common.checkpoint as fv

    from eva.det.checkpoint import AtomicDetectionCheckpointer

    model = torch.nn.Linear(3, 2)
    ckpt = AtomicDetectionCheckpointer(model, str(tmp_path))
    ckpt.save("model_0000009")
    good = (tmp_path / "model_0000009.pth").read_bytes()
    with torch.no_grad():
        model.weight.add_(1.0)

    def dies_half_way(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a zip")
        raise Killed("simulated kill while saving")

    monkeypatch.setattr(fv.torch, "save", dies_half_way)
    with pytest.raises(Killed):
        ckpt.save("model_0000009")  # the same name: e.g. a resumed run saving its first checkpoint again
    monkeypatch.undo()
    assert (tmp_path / "model_0000009.pth").read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last_checkpoint", "model_0000009.pth"]
    fresh = torch.nn.Linear(3, 2)
    AtomicDetectionCheckpointer(fresh, str(tmp_path)).resume_or_load("", resume=True)
    assert not torch.equal(fresh.weight, model.weight) and torch.equal(fresh.weight + 1.0, model.weight)


def test_recipes_seed_the_loader_and_lvis_sampler():
    from detectron2.config import LazyConfig
    from omegaconf import OmegaConf

    cfg = LazyConfig.load(str(CONFIGS / "LVIS" / "eva02_large_cascade_1024_bsl.py"))
    cfg.train.seed = 7
    assert cfg.dataloader.train._target_ is build_resumable_train_loader
    assert OmegaConf.select(cfg, "dataloader.train.seed") == 7
    assert OmegaConf.select(cfg, "dataloader.train.sampler.seed") == 7
