"""Training on real Fashion-MNIST images through mmengine's Runner: learning, exact resume, non-finite steps,
atomic checkpoints, and the exported backbone."""
import csv
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook

from eva.backbone import create_model, load_checkpoint
from eva.pretrain.cli import DEMO_CONFIG, build_runner

from ..crash import Killed


def small_options(max_iters, ckpt_every=1000, lr=1.5e-3, extra=None):
    """The demo config shrunk to a 2-block student at 64 px on 512 real images."""
    return {
        "model.backbone.img_size": 64, "model.backbone.patch_size": 8, "model.backbone.depth": 2,
        "model.backbone.rope_ref_grid": 8, "model.teacher.input_size": 128,
        "train_dataloader.batch_size": 8, "train_dataloader.num_workers": 0,
        "train_dataloader.persistent_workers": False, "train_dataloader.dataset.num_samples": 512,
        "train_dataloader.dataset.transform.img_size": 64, "train_dataloader.dataset.transform.patch_size": 8,
        "train_cfg.max_iters": max_iters, "optim_wrapper.optimizer.lr": lr,
        "param_scheduler": [
            dict(type="LinearLR", start_factor=1e-3, by_epoch=False, begin=0, end=2),
            dict(type="CosineAnnealingLR", by_epoch=False, begin=2, end=max_iters, eta_min=1e-5)],
        "default_hooks.checkpoint.interval": ckpt_every, "default_hooks.logger.interval": 5,
        "visualizer.vis_backends": [dict(type="LocalVisBackend")], **(extra or {}),
    }


def losses(work_dir):
    with open(Path(work_dir) / "loss.csv") as f:
        return [(int(r["iter"]), float(r["loss"]), int(r["skipped_steps"])) for r in csv.DictReader(f)]


@pytest.mark.slow
def test_a_few_steps_on_real_data_lower_the_loss(tmp_path):
    runner = build_runner(str(DEMO_CONFIG), str(tmp_path), cfg_options=small_options(40))
    runner.train()
    curve = [loss for _, loss, _ in losses(tmp_path)]
    first, last = sum(curve[:5]) / 5, sum(curve[-5:]) / 5
    assert last < first - 0.1, (first, last)
    assert (tmp_path / "loss_curve.png").stat().st_size > 1000
    model = create_model("eva02_tiny_patch14_224", img_size=64, patch_size=8, depth=2, rope_ref_grid=8)
    assert load_checkpoint(model, tmp_path / "backbone.safetensors", strict=True).ok


def test_kill_and_resume_gives_identical_losses(tmp_path):
    opts = small_options(10, ckpt_every=4, extra={"model.backbone.drop_path_rate": 0.1})
    build_runner(str(DEMO_CONFIG), str(tmp_path / "straight"), cfg_options=opts).train()
    reference = losses(tmp_path / "straight")

    crash = dict(opts, custom_hooks=[dict(type="ResumeStateHook"), dict(type="BackboneExportHook"),
                                     dict(type="LossCurveHook"), dict(type="CrashAfterIter", at=6)])
    with pytest.raises(Killed):
        build_runner(str(DEMO_CONFIG), str(tmp_path / "killed"), cfg_options=crash).train()
    assert (tmp_path / "killed" / "iter_4.pth").exists()
    from safetensors import safe_open
    with safe_open(str(tmp_path / "killed" / "backbone.safetensors"), "pt") as f:  # exported with iter_4.pth
        assert f.metadata()["iteration"] == "4"
    build_runner(str(DEMO_CONFIG), str(tmp_path / "killed"), resume=True, cfg_options=opts).train()
    resumed = losses(tmp_path / "killed")
    assert [r[0] for r in resumed] == list(range(1, 11))  # rows after the resumed iteration were replaced
    assert resumed[-6:] == reference[-6:]  # bit-identical losses after resuming from iteration 4


def test_nan_batch_is_skipped_without_touching_weights(tmp_path, monkeypatch):
    from eva.pretrain.objective import EVAMIM

    runner = build_runner(str(DEMO_CONFIG), str(tmp_path), cfg_options=small_options(6))
    original = EVAMIM.loss
    calls = {"n": 0}
    snapshots = {}

    def poisoned(self, images, mask):
        calls["n"] += 1
        if calls["n"] == 3:
            images = images.clone()
            images[0, 0, 0, 0] = float("nan")
            snapshots["before"] = {k: v.clone() for k, v in self.state_dict().items()}
        return original(self, images, mask)

    class Snapshot(Hook):
        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            if runner.iter + 1 == 3:
                snapshots["after"] = {k: v.clone() for k, v in runner.model.state_dict().items()}

    monkeypatch.setattr(EVAMIM, "loss", poisoned)
    runner.register_hook(Snapshot(), priority="LOWEST")
    runner.train()
    for k, v in snapshots["before"].items():
        torch.testing.assert_close(snapshots["after"][k], v, msg=k)
    rows = losses(tmp_path)
    assert rows[2][2] == 1 and rows[-1][2] == 1  # one skipped step, counted
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())


def test_consecutive_bad_steps_stop_with_a_clear_error(tmp_path):
    from eva.backbone.mm import NonFiniteError

    runner = build_runner(str(DEMO_CONFIG), str(tmp_path),
                          cfg_options=small_options(20, lr=1e30, extra={"optim_wrapper.max_bad_steps": 2,
                                                                        "optim_wrapper.clip_grad": None}))
    with pytest.raises(NonFiniteError, match="consecutive steps.*resume from the last checkpoint"):
        runner.train()


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    from mmengine.fileio import get_file_backend

    backend = get_file_backend(str(tmp_path / "x.pth"))
    target = tmp_path / "iter_1.pth"
    backend.put(b"good checkpoint", target)

    def crash(fd):  # the new bytes are written, then the machine "dies" before they are committed
        raise OSError("disk full")

    from eva.backbone.mm import checkpoint_io
    monkeypatch.setattr(checkpoint_io.os, "fsync", crash)
    with pytest.raises(OSError):
        backend.put(b"x" * 100, target)
    monkeypatch.undo()
    assert target.read_bytes() == b"good checkpoint"
    assert [p.name for p in tmp_path.iterdir()] == ["iter_1.pth"]
