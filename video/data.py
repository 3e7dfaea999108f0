"""A small labelled video set from real clips whose labels need temporal modelling: playback speed (1x, 2x,
4x) times frame order (forward, shuffled; or reversed, the arrow of time). Every window of a source clip is
written in every way, so the pixels alone cannot tell the classes apart: only the motion can, and a shuffled
clip holds the very frames of the forward one, so only their order tells those two apart. The result is
mmaction2's plain ``VideoDataset`` layout (``<split>.txt`` lines ``clips/<name>.mp4 <label>``), decoded by its
own pipeline.

The default orders are forward and shuffled, not forward and reversed: the arrow of time is not learnable from
these scenes (pedestrians walk both ways, static cameras: the set is nearly time-symmetric). Measured once with
a one-off probe, not shipped: a CNN on frames and frame differences stays at 50% forward / reversed even on the
training windows, while it tells shuffled from forward on held-out windows 98% of the time."""
from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

SPEEDS = (1, 2, 4)
ORDERS = ("forward", "reversed", "shuffled")
DEFAULT_ORDERS = ("forward", "shuffled")


def motion_classes(orders: Sequence[str] = DEFAULT_ORDERS) -> List[str]:
    """Class names; class index = order index * len(SPEEDS) + speed index."""
    unknown = [o for o in orders if o not in ORDERS]
    if unknown or len(set(orders)) != len(orders) or len(orders) < 2:
        raise ValueError(f"orders must be two or more distinct names from {ORDERS}, got {tuple(orders)}")
    return [f"{o} {s}x" for o in orders for s in SPEEDS]


#: the default classes
MOTION_CLASSES = motion_classes()


def frame_order(order: str, clip_len: int, key: str) -> np.ndarray:
    """Frame indices of a window played in ``order``; ``"shuffled"`` is a fixed permutation per ``key`` (the
    clip's name, so a rebuild writes the same set) that is neither forward nor reversed."""
    forward = np.arange(clip_len)
    if order == "forward":
        return forward
    if order == "reversed":
        return forward[::-1].copy()
    if order != "shuffled":
        raise ValueError(f"unknown frame order {order!r}; expected one of {ORDERS}")
    if clip_len < 3:
        raise ValueError(f"a shuffled order needs clip_len >= 3 (2 frames have only forward and reversed), "
                         f"got {clip_len}")
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    while True:
        perm = rng.permutation(clip_len)
        if not (np.array_equal(perm, forward) or np.array_equal(perm, forward[::-1])):
            return perm


def read_frames(path, short_side: int) -> np.ndarray:
    """Decode every frame of ``path`` with PyAV, resized to ``short_side`` (even sides): ``uint8 [T, H, W, 3]``."""
    import av
    import cv2

    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            img = frame.to_ndarray(format="rgb24")
            h, w = img.shape[:2]
            scale = short_side / min(h, w)
            size = (max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2))
            frames.append(cv2.resize(img, size, interpolation=cv2.INTER_AREA))
    if not frames:
        raise ValueError(f"no frames decoded from {path}")
    return np.stack(frames)


def write_clip(frames: np.ndarray, path: Path, fps: int = 25) -> None:
    """Write ``uint8 [T, H, W, 3]`` RGB frames as an H.264 mp4 (near-lossless: crf 12)."""
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "12", "preset": "veryfast"}
        for img in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_motion_clips(root, sources: Optional[Sequence] = None, clip_len: int = 8, short_side: int = 64,
                       val_fraction: float = 0.25, train_step: int = 3, val_step: int = 6,
                       orders: Sequence[str] = DEFAULT_ORDERS, overwrite: bool = False) -> Dict[str, int]:
    """Write the speed x frame-order set under ``root`` (idempotent unless ``overwrite``).

    Each source clip is cut in time: windows starting in its first ``1 - val_fraction`` go to ``train``, the
    rest to ``val`` (held-out moments of the same scenes; a clip too short for a 4x window in its held-out part
    only trains). A window of ``clip_len`` frames taken every ``speed`` source frames is written in every one of
    ``orders``, for every speed.

    Args:
        root: output folder; gets ``clips/``, ``train.txt``, ``val.txt``, ``classes.txt``, ``meta.json``.
        sources: video files (default: :func:`eva.backbone.data.real_video_files`).
        clip_len: frames per written clip.
        short_side: frames are resized to this short side.
        val_fraction: the held-out tail of each source clip.
        train_step, val_step: source frames between consecutive window starts.
        orders: frame orders, names from :data:`ORDERS` (see :func:`motion_classes`).
        overwrite: rebuild even if ``meta.json`` says the set exists with these settings.

    Returns:
        Clips written per split.
    """
    from eva.backbone.data import real_video_files

    classes = motion_classes(orders)
    root = Path(root)
    sources = [Path(s) for s in (sources or real_video_files())]
    settings = dict(sources=[s.name for s in sources], clip_len=clip_len, short_side=short_side,
                    val_fraction=val_fraction, train_step=train_step, val_step=val_step,
                    classes=classes)
    meta_file = root / "meta.json"
    if not overwrite and meta_file.is_file():
        meta = json.loads(meta_file.read_text())
        if meta.get("settings") == settings:
            return meta["counts"]
    (root / "clips").mkdir(parents=True, exist_ok=True)
    lines: Dict[str, List[str]] = {"train": [], "val": []}
    for src in sources:
        frames = read_frames(src, short_side)
        n = len(frames)
        cut = int(n * (1 - val_fraction))
        span = (clip_len - 1) * max(SPEEDS) + 1  # source frames a 4x window covers
        parts = {"train": (0, cut), "val": (cut, n)} if n - cut >= span else {"train": (0, n)}
        for split, (lo, hi) in parts.items():
            step = train_step if split == "train" else val_step
            for start in range(lo, hi - span + 1, step):
                for si, speed in enumerate(SPEEDS):
                    window = frames[start + speed * np.arange(clip_len)]
                    for oi, order in enumerate(orders):
                        name = f"clips/{src.stem}_{start:04d}_{speed}x_{order}.mp4"
                        write_clip(window[frame_order(order, clip_len, name)], root / name)
                        lines[split].append(f"{name} {oi * len(SPEEDS) + si}")
    if not lines["val"]:
        raise ValueError(f"no source clip is long enough for a held-out part ({[s.name for s in sources]}): each needs "
                         f"{(clip_len - 1) * max(SPEEDS) + 1} frames after its first {1 - val_fraction:.0%}")
    for split, rows in lines.items():
        (root / f"{split}.txt").write_text("\n".join(rows) + "\n")
    (root / "classes.txt").write_text("\n".join(classes) + "\n")
    listed = {row.split()[0] for rows in lines.values() for row in rows}
    for clip in (root / "clips").glob("*.mp4"):  # left by a set written with other settings (never a listed one)
        if f"clips/{clip.name}" not in listed:
            clip.unlink()
    counts = {k: len(v) for k, v in lines.items()}
    meta_file.write_text(json.dumps(dict(settings=settings, counts=counts), indent=1))
    return counts


def _register_dataset():
    from mmaction.datasets import VideoDataset
    from mmengine.registry import DATASETS

    @DATASETS.register_module(force=True)  # mmengine's root registry: mmaction2 configs find it by name
    class MotionClipsDataset(VideoDataset):
        """:func:`write_motion_clips` as mmaction2's ``VideoDataset``, written under ``data_root`` on first use
        (idempotent), so a config alone reproduces the data.

        Args:
            data_root: folder of the set (``clips/``, ``train.txt``, ``val.txt``).
            split: ``"train"`` or ``"val"``.
            clip_len, short_side, sources, train_step, val_step, orders: see :func:`write_motion_clips`.
            **kwargs: ``VideoDataset`` arguments (``pipeline``, ``test_mode``...).
        """

        METAINFO = dict(classes=tuple(MOTION_CLASSES))

        def __init__(self, data_root: str, split: str = "train", clip_len: int = 8, short_side: int = 64,
                     sources: Optional[Sequence[str]] = None, train_step: int = 3, val_step: int = 6,
                     orders: Sequence[str] = DEFAULT_ORDERS, **kwargs):
            if split not in ("train", "val"):
                raise ValueError(f"split must be 'train' or 'val', got {split!r}")
            write_motion_clips(data_root, sources=sources, clip_len=clip_len, short_side=short_side,
                               train_step=train_step, val_step=val_step, orders=orders)
            kwargs.setdefault("metainfo", dict(classes=tuple(motion_classes(orders))))
            kwargs.setdefault("data_prefix", dict(video=data_root))
            super().__init__(ann_file=str(Path(data_root) / f"{split}.txt"), **kwargs)

    return MotionClipsDataset


MotionClipsDataset = _register_dataset()
