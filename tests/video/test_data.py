"""The speed x frame-order set: real frames, decoded by mmaction2's own pipeline, whose labels are exactly the
sampling stride and frame order applied to the source clip."""
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mmaction", reason="eva.video needs mmaction2 (make setup installs it)")

from eva.backbone.data import real_video_files  # noqa: E402
from eva.video.data import MOTION_CLASSES, frame_order, motion_classes, read_frames, write_motion_clips  # noqa: E402,E501


def _source():
    files = {p.name: p for p in real_video_files()}
    return files.get("carphone_pristine.mp4") or next(iter(files.values()))


def _decode(path):
    from mmaction.datasets.transforms import DecordDecode, DecordInit, SampleFrames

    r = dict(filename=str(path), start_index=0, modality="RGB")
    for t in (DecordInit(), SampleFrames(clip_len=8, frame_interval=1, num_clips=1, test_mode=True), DecordDecode()):
        r = t(r)
    return np.stack(r["imgs"]).astype(np.float32)


def test_clips_are_the_source_frames_at_each_speed_and_order(tmp_path):
    src = _source()
    orders = ("forward", "reversed", "shuffled")
    counts = write_motion_clips(tmp_path, sources=[src], short_side=32, train_step=20, val_step=20, orders=orders)
    assert counts["train"] > 0 and counts["train"] % 9 == 0
    assert (tmp_path / "classes.txt").read_text().split("\n")[:9] == motion_classes(orders)
    rows = [line.split() for line in (tmp_path / "train.txt").read_text().splitlines()]
    assert sorted({int(label) for _, label in rows}) == list(range(9))
    frames = read_frames(src, 32).astype(np.float32)
    start = 0
    for si, speed in enumerate((1, 2, 4)):
        want = frames[start + speed * np.arange(8)]
        for oi, order in enumerate(orders):
            name = f"clips/{src.stem}_{start:04d}_{speed}x_{order}.mp4"
            perm = {"forward": np.arange(8), "reversed": np.arange(8)[::-1]}.get(order, frame_order(order, 8, name))
            assert np.abs(_decode(tmp_path / name) - want[perm]).mean() < 4  # near-lossless H.264 (crf 12)
            assert [name, str(oi * 3 + si)] in rows
    # the same window at other speeds differs: the labels are in the motion
    assert np.abs(_decode(tmp_path / f"clips/{src.stem}_0000_1x_forward.mp4") -
                  _decode(tmp_path / f"clips/{src.stem}_0000_4x_forward.mp4")).mean() > 1


def test_shuffled_order_is_a_fixed_permutation_that_is_neither_forward_nor_reversed():
    perms = [frame_order("shuffled", 8, f"clip_{i}") for i in range(200)]
    assert all(sorted(p) == list(range(8)) for p in perms)
    assert not any(list(p) in (list(range(8)), list(range(8))[::-1]) for p in perms)
    assert len({tuple(p) for p in perms}) > 150  # a different order per clip...
    assert np.array_equal(frame_order("shuffled", 8, "clip_0"), perms[0])  # ...the same on a rebuild
    assert list(frame_order("shuffled", 3, "x")) in ([0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1])
    with pytest.raises(ValueError, match="clip_len >= 3"):
        frame_order("shuffled", 2, "x")
    with pytest.raises(ValueError, match="orders must be two or more distinct"):
        motion_classes(("forward", "sideways"))
    assert MOTION_CLASSES == motion_classes(("forward", "shuffled"))


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


def test_motion_factors_metric_scores_speed_and_order_separately():
    from mmaction.structures import ActionDataSample

    import torch

    from eva.video.metrics import MotionFactorsMetric

    metric = MotionFactorsMetric()
    # (true, predicted): right speed wrong order, both right (twice), both wrong; the two scores differ, so
    # swapping the factors fails
    for gt, pred in ((0, 3), (4, 4), (2, 2), (5, 0)):
        sample = ActionDataSample().set_gt_labels(torch.tensor([gt])).set_pred_score(torch.eye(6)[pred])
        metric.process(None, [sample.to_dict()])
    assert metric.evaluate(4) == {"motion/speed_acc": 0.75, "motion/order_acc": 0.5}


def test_a_rebuild_with_other_settings_leaves_only_its_own_clips(tmp_path):
    src = _source()
    write_motion_clips(tmp_path, sources=[src], short_side=32, train_step=60, val_step=60,
                       orders=("forward", "reversed"))
    write_motion_clips(tmp_path, sources=[src], short_side=32, train_step=60, val_step=60)
    listed = {line.split()[0] for split in ("train", "val")
              for line in (tmp_path / f"{split}.txt").read_text().splitlines()}
    assert {f"clips/{p.name}" for p in (tmp_path / "clips").iterdir()} == listed
    assert not any("reversed" in name for name in listed)
