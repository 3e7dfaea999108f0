"""The speed x arrow-of-time set: real frames, decoded by mmaction2's own pipeline, whose labels are exactly the
sampling stride and direction applied to the source clip."""
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mmaction", reason="eva.video needs mmaction2 (make setup installs it)")

from eva.backbone.data import real_video_files  # noqa: E402
from eva.video.data import MOTION_CLASSES, read_frames, write_motion_clips  # noqa: E402


def _source():
    files = {p.name: p for p in real_video_files()}
    return files.get("carphone_pristine.mp4") or next(iter(files.values()))


def _decode(path):
    from mmaction.datasets.transforms import DecordDecode, DecordInit, SampleFrames

    r = dict(filename=str(path), start_index=0, modality="RGB")
    for t in (DecordInit(), SampleFrames(clip_len=8, frame_interval=1, num_clips=1, test_mode=True), DecordDecode()):
        r = t(r)
    return np.stack(r["imgs"]).astype(np.float32)


def test_clips_are_the_source_frames_at_each_speed_and_direction(tmp_path):
    src = _source()
    counts = write_motion_clips(tmp_path, sources=[src], short_side=32, train_step=20, val_step=20)
    assert counts["train"] > 0 and counts["train"] % len(MOTION_CLASSES) == 0
    rows = [line.split() for line in (tmp_path / "train.txt").read_text().splitlines()]
    assert sorted({int(label) for _, label in rows}) == list(range(6))
    frames = read_frames(src, 32).astype(np.float32)
    start = 0
    for speed, cls in ((1, 0), (2, 1), (4, 2)):
        fwd = _decode(tmp_path / f"clips/{src.stem}_{start:04d}_{speed}x_forward.mp4")
        rev = _decode(tmp_path / f"clips/{src.stem}_{start:04d}_{speed}x_reversed.mp4")
        want = frames[start + speed * np.arange(8)]
        assert np.abs(fwd - want).mean() < 4  # near-lossless H.264 (crf 12)
        assert np.abs(rev - want[::-1]).mean() < 4
        assert [f"clips/{src.stem}_{start:04d}_{speed}x_forward.mp4", str(cls)] in rows
        assert [f"clips/{src.stem}_{start:04d}_{speed}x_reversed.mp4", str(cls + 3)] in rows
    # the same window at other speeds differs: the labels are in the motion
    assert np.abs(_decode(tmp_path / f"clips/{src.stem}_0000_1x_forward.mp4") -
                  _decode(tmp_path / f"clips/{src.stem}_0000_4x_forward.mp4")).mean() > 1


def test_train_and_val_windows_do_not_overlap_in_time(tmp_path):
    src = _source()
    write_motion_clips(tmp_path, sources=[src], short_side=32, train_step=10, val_step=10)
    starts = {split: [int(Path(p).stem.split("_")[-3]) for p, _ in
                      (line.split() for line in (tmp_path / f"{split}.txt").read_text().splitlines())]
              for split in ("train", "val")}
    span = 7 * 4 + 1
    assert starts["val"], "a held-out part"
    assert max(starts["train"]) + span <= min(starts["val"])  # the longest (4x) training window ends before
    assert write_motion_clips(tmp_path, sources=[src], short_side=32, train_step=10, val_step=10) == {
        "train": len(starts["train"]), "val": len(starts["val"])}  # idempotent: the existing set is reused


def test_motion_factors_metric_scores_speed_and_direction_separately():
    from mmaction.structures import ActionDataSample

    import torch

    from eva.video.metrics import MotionFactorsMetric

    metric = MotionFactorsMetric()
    # (true, predicted): right speed wrong direction, both right, wrong speed right direction, both wrong
    for gt, pred in ((0, 3), (4, 4), (2, 1), (5, 0)):
        sample = ActionDataSample().set_gt_labels(torch.tensor([gt])).set_pred_score(torch.eye(6)[pred])
        metric.process(None, [sample.to_dict()])
    assert metric.evaluate(4) == {"motion/speed_acc": 0.5, "motion/direction_acc": 0.5}
