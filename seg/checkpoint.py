"""Load whole segmentors: our mmseg 1.x checkpoints and BAAI's released EVA-02 UperNet checkpoints (mmseg 0.x,
their ``EVA2`` backbone owning the pyramid as ``fpn1``..``fpn4``), into a model built from ``seg/configs``."""
from __future__ import annotations

from typing import Dict

import torch
from torch import nn

from eva.backbone import LoadReport, read_checkpoint
from eva.backbone.pretrained import load_with_backbone

from .backbone import UNUSED_KEYS

#: BAAI's pyramid branches -> mmseg 1.x ``Feature2Pyramid`` (same layers in the same order: deconv, norm, GELU,
#: deconv / deconv; their ``fpn3`` identity and ``fpn4`` max-pool have no parameters).
PYRAMID_RENAMES = {"backbone.fpn1.": "neck.upsample_4x.", "backbone.fpn2.": "neck.upsample_2x."}


def segmentor_state_dict(obj) -> Dict[str, torch.Tensor]:
    """The model tensors of an mmseg checkpoint (``{"meta", "state_dict", ...}``), with BAAI's pyramid keys
    renamed to mmseg 1.x's ``Feature2Pyramid``; a bare state dict is accepted."""
    sd = obj["state_dict"] if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict) else obj
    out = {}
    for k, v in sd.items():
        k = k[len("module."):] if k.startswith("module.") else k
        for old, new in PYRAMID_RENAMES.items():
            if k.startswith(old):
                k = new + k[len(old):]
        out[k] = v
    return out


def load_segmentor(model: nn.Module, path_or_state) -> LoadReport:
    """Load a segmentor checkpoint strictly into an ``EncoderDecoder`` with an ``EVASegBackbone``.

    Args:
        model: the segmentor (``MODELS.build(cfg.model)``).
        path_or_state: checkpoint file or loaded dict (ours, or BAAI's EVA-02 UperNet release).

    Returns:
        The backbone's load report; anything that does not fit raises ``CheckpointError`` listing the keys.
    """
    obj = read_checkpoint(path_or_state) if not isinstance(path_or_state, dict) else path_or_state

    def hint(report: LoadReport) -> str:
        seg = [m for m in report.mismatched if m[0].endswith("conv_seg.weight")]
        return (f"the checkpoint predicts {seg[0][1][0]} classes, the config {seg[0][2][0]}: set "
                f"model.decode_head.num_classes" if seg else "use the config the checkpoint was trained with")
    return load_with_backbone(model, segmentor_state_dict(obj), "backbone.", model.backbone, unused=UNUSED_KEYS,
                              hint=hint)
