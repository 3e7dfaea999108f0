"""Teachers for masked image modeling, all behind :class:`Teacher`; ``build_teacher(cfg)`` from a config dict."""
from __future__ import annotations

from .base import Teacher
from .efficientnet import EfficientNetLite0Teacher
from .eva_clip import EVACLIPTeacher
from .open_clip_teacher import OpenCLIPTeacher
from .pixel import PixelTeacher
from .timm_teacher import TimmTeacher

TEACHERS = {
    "efficientnet_lite0": EfficientNetLite0Teacher,
    "eva_clip": EVACLIPTeacher,
    "open_clip": OpenCLIPTeacher,
    "pixel": PixelTeacher,
    "timm": TimmTeacher,
}


def build_teacher(cfg: dict) -> Teacher:
    """``dict(type="eva_clip", ..., dtype="bf16", compile=True)`` -> a frozen teacher.

    ``dtype``, ``compile`` and ``fp8_scaling`` go to :meth:`Teacher.optimize`; the other keys to the teacher's
    constructor.
    """
    cfg = dict(cfg)
    kind = cfg.pop("type")
    if kind not in TEACHERS:
        raise KeyError(f"unknown teacher {kind!r}; choose from {sorted(TEACHERS)}")
    dtype, compile_, scaling = cfg.pop("dtype", None), cfg.pop("compile", False), cfg.pop("fp8_scaling", "row")
    return TEACHERS[kind](**cfg).optimize(dtype, compile_, scaling)


__all__ = ["Teacher", "build_teacher", "TEACHERS", *[c.__name__ for c in TEACHERS.values()]]
