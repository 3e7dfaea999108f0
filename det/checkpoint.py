"""Load whole detectors: our training checkpoints and BAAI's released EVA-01 / EVA-02 detectron2 checkpoints
(their forks' key layout), so users can evaluate and submit without retraining."""
from __future__ import annotations

from typing import Dict

import torch
from detectron2.checkpoint import DetectionCheckpointer
from torch import nn

from eva.backbone import CheckpointError, LoadReport, read_checkpoint
from eva.backbone.checkpoint import atomic_path
from eva.backbone.pretrained import load_with_backbone

from .backbone import UNUSED_KEYS

BACKBONE_PREFIX = "backbone.net."


def detector_state_dict(obj, use_ema: bool = False) -> Dict[str, torch.Tensor]:
    """The model state dict inside a detectron2 checkpoint (``{"model": ..., "iteration": ...}``, optionally
    with EMA weights under ``"ema_state"``) or a bare state dict."""
    if use_ema:
        ema = obj.get("ema_state") if isinstance(obj, dict) else None
        if not ema:
            raise CheckpointError("the checkpoint holds no EMA weights ('ema_state'); evaluate without use_ema")
        if all(k.startswith("module.") for k in ema):  # timm's ModelEmaV3 keeps the copy as `.module`
            ema = {k[len("module."):]: v for k, v in ema.items()}
        return ema
    return obj["model"] if isinstance(obj, dict) and isinstance(obj.get("model"), dict) else obj


#: what a detector started from another data set's detector (Objects365 -> COCO / LVIS) may re-initialise
TRANSFER_HEADS = ("roi_heads.",)


def load_detector(model: nn.Module, path_or_state, use_ema: bool = False, transfer: bool = False) -> LoadReport:
    """Load a detector checkpoint strictly into a Cascade Mask R-CNN built from ``det/configs``.

    The backbone part (``backbone.net.*``) goes through ``eva.backbone``'s converter (BAAI's ``q_proj`` /
    ``w1 w2 w3`` / ``ffn_ln`` names, persisted RoPE tables, 14 -> 16 patch, position tables resampled to the
    config's size); the pyramid and heads must match detectron2's modules key for key and shape for shape.

    Args:
        model: the detector (``instantiate(cfg.model)``).
        path_or_state: checkpoint file or loaded dict.
        use_ema: load the EMA weights stored next to the model weights.
        transfer: start a detector for another label set (training's ``--init-checkpoint``): the ROI heads load
            where names and shapes fit; classifiers of another class count and heads the checkpoint lacks (the
            mask head after a box-only Objects365 stage) stay as initialised and are listed in the report's
            ``dropped`` / ``added``. The backbone, pyramid and RPN must still fit.

    Returns:
        The backbone's load report; anything that does not fit raises :class:`CheckpointError` listing the keys.
    """
    obj = read_checkpoint(path_or_state) if not isinstance(path_or_state, dict) else path_or_state

    def hint(report: LoadReport) -> str:
        cls = [m for m in report.mismatched if m[0].endswith("cls_score.weight")]
        return (f"the checkpoint's classifier has {cls[0][1][0] - 1} classes, the config {cls[0][2][0] - 1}: set "
                f"model.roi_heads.num_classes" if cls else "use the config the checkpoint was trained with")
    return load_with_backbone(model, detector_state_dict(obj, use_ema), BACKBONE_PREFIX, model.backbone.net,
                              unused=UNUSED_KEYS, hint=hint, fresh=TRANSFER_HEADS if transfer else ())


class _AtomicFile:
    """A file opened for writing under a temporary name; closing it without error renames it to its target."""

    def __init__(self, path: str, mode: str, **kwargs):
        self._target = atomic_path(path)
        self._file = open(self._target.__enter__(), mode, **kwargs)

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        self._file.close()
        return bool(self._target.__exit__(*exc))  # renames, or on an error removes the temporary file

    def close(self) -> None:
        self.__exit__(None, None, None)


class _AtomicPathManager:
    """detectron2's ``PathManager`` with local files opened for writing made atomic (:class:`_AtomicFile`)."""

    def __init__(self, base):
        self._base = base

    def __getattr__(self, name):
        return getattr(self._base, name)

    def open(self, path, mode: str = "r", **kwargs):
        if "w" in mode and "://" not in str(path):  # (append and exclusive modes keep their own semantics)
            return _AtomicFile(str(path), mode, **kwargs)
        return self._base.open(path, mode, **kwargs)


class AtomicDetectionCheckpointer(DetectionCheckpointer):
    """detectron2's checkpointer whose checkpoints and ``last_checkpoint`` tag are written to a temporary file and
    renamed: a crash while saving leaves the previous checkpoint, and the tag naming it, intact."""

    def __init__(self, model: nn.Module, save_dir: str = "", **kwargs):
        super().__init__(model, save_dir, **kwargs)
        self.path_manager = _AtomicPathManager(self.path_manager)
