"""The demo config end to end on real clips through mmaction2's runner: `eva video train` (one epoch), then
`eva video test` and `eva video demo` on the checkpoint it wrote."""
from pathlib import Path

import pytest

pytest.importorskip("mmaction", reason="eva.video needs mmaction2 (make setup installs it)")

from eva.backbone.cli import main  # noqa: E402
from eva.backbone.data import real_video_files  # noqa: E402
from eva.video.data import MOTION_CLASSES  # noqa: E402

DEMO = Path(__file__).resolve().parents[2] / "video" / "configs" / "demo" / "eva02_tiny_motion.py"


def test_train_test_and_demo_through_the_runner(tmp_path, capsys):
    src = {p.name: p for p in real_video_files()}.get("carphone_pristine.mp4") or real_video_files()[0]
    data = tmp_path / "clips"
    dataset = dict(data_root=str(data), sources=[str(src)], train_step=24, val_step=24)
    config = tmp_path / "tiny_motion.py"
    config.write_text(
        f"_base_ = [{str(DEMO)!r}]\n"
        f"recipe = dict(epochs=1, warmup_epochs=0)\n"
        f"model = dict(backbone=dict(depth=2, pretrained=None))\n"
        f"train_dataloader = dict(batch_size=4, dataset=dict(**{dataset!r}))\n"
        f"val_dataloader = dict(batch_size=4, dataset=dict(**{dataset!r}))\n"
        f"test_dataloader = val_dataloader\n"
        f"train_cfg = dict(max_epochs=1, val_begin=1, val_interval=1)\n"
        f"param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=1)]\n"
        f"default_hooks = dict(checkpoint=dict(interval=1))\n")
    work = tmp_path / "work"
    assert main(["video", "train", str(config), "--work-dir", str(work)]) == 0
    ckpt = work / "epoch_1.pth"
    assert ckpt.is_file()
    assert main(["video", "test", str(config), str(ckpt), "--work-dir", str(work)]) == 0
    out = capsys.readouterr().out
    assert "acc/top1" in out and "motion/speed_acc" in out and "motion/order_acc" in out
    clip = sorted((data / "clips").glob("*_2x_shuffled.mp4"))[0]
    assert main(["video", "demo", str(config), str(ckpt), str(clip), "--top-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "top-3" in out and sum(name in out for name in MOTION_CLASSES) == 3
    assert main(["video", "demo", str(config), str(ckpt), str(tmp_path / "missing.mp4")]) == 2


@pytest.mark.parametrize("workers", [1, 0])
def test_kill_and_resume_gives_the_uninterrupted_weights(tmp_path, workers):
    """The recipes' epoch loop: killed during epoch 2, resumed from epoch 1's checkpoint, it ends bit-for-bit where
    an uninterrupted run ends (the K722 recipe's fixed seed and per-clip seeds; drop path on), with or without
    data-loading workers."""
    from eva.video.cli import _register

    from ..crash import Killed, assert_same_weights, kill_after, train_part

    src = {p.name: p for p in real_video_files()}.get("carphone_pristine.mp4") or real_video_files()[0]
    dataset = dict(data_root=str(tmp_path / "clips"), sources=[str(src)], train_step=24, val_step=24)
    config = tmp_path / "tiny_motion.py"
    config.write_text(
        f"_base_ = [{str(DEMO)!r}]\n"
        f"recipe = dict(epochs=2, warmup_epochs=0)\n"
        f"model = dict(backbone=dict(depth=2, drop_path_rate=0.1, pretrained=None))\n"
        f"train_dataloader = dict(batch_size=4, num_workers={workers}, persistent_workers={workers > 0},\n"
        f"                        dataset=dict(**{dataset!r}))\n"
        f"val_dataloader = dict(batch_size=4, dataset=dict(**{dataset!r}))\n"
        f"train_cfg = dict(max_epochs=2, val_begin=100, val_interval=100)\n"
        f"param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2,\n"
        f"                        convert_to_iter_based=True)]\n"
        f"default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))\n")

    runner = train_part(config, tmp_path / "straight", ["eva.video"], _register)
    straight, per_epoch = runner.model.state_dict(), len(runner.train_dataloader)
    assert per_epoch >= 2
    with pytest.raises(Killed):
        train_part(config, tmp_path / "killed", ["eva.video"], _register, options=kill_after(per_epoch + 1))
    assert [p.name for p in (tmp_path / "killed").glob("epoch_*.pth")] == ["epoch_1.pth"]
    resumed = train_part(config, tmp_path / "killed", ["eva.video"], _register, resume=True).model.state_dict()
    assert_same_weights(straight, resumed)
