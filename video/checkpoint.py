"""Load whole recognizers, and remap a classifier to a label subset (Kinetics-722 -> K400 / K600 / K700)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence, Union

import numpy as np
import torch
from torch import nn

from eva.backbone import CheckpointError, LoadReport, read_checkpoint
from eva.backbone.pretrained import load_with_backbone

from .backbone import UNUSED_KEYS

HEAD = "cls_head.fc_cls."


def recognizer_state_dict(obj) -> Dict[str, torch.Tensor]:
    """Model tensors of a recognizer checkpoint: mmaction2/mmengine's ``{"state_dict": ...}`` (``backbone.*``,
    ``cls_head.*``), or a bare video ViT with its classifier (BAAI's EVA video release: ``blocks.*`` ...
    ``head.*``), whose keys are moved under ``backbone.`` and ``cls_head.fc_cls.``."""
    sd = obj
    for key in ("state_dict", "model", "module"):
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    if any(k.startswith("backbone.") for k in sd):
        return sd
    return {(HEAD + k[len("head."):] if k.startswith("head.") else "backbone." + k): v for k, v in sd.items()}


def load_recognizer(model: nn.Module, path_or_state) -> LoadReport:
    """Load a recognizer checkpoint strictly into a ``Recognizer3D`` with an ``EVAVideoBackbone``.

    The backbone goes through the converter (another frame count or size is resampled); the head must match.

    Args:
        model: the recognizer built from the config.
        path_or_state: a recognizer checkpoint file (ours, or BAAI's video release) or a loaded state dict; image
            backbones are loaded through the backbone's ``pretrained=`` instead.

    Returns:
        The backbone's load report; anything that does not fit raises ``CheckpointError`` listing the keys.
    """
    obj = read_checkpoint(path_or_state) if not isinstance(path_or_state, dict) else path_or_state

    def hint(report: LoadReport) -> str:
        head = [m for m in report.mismatched if m[0] == HEAD + "weight"]
        return (f"the checkpoint predicts {head[0][1][0]} classes, the config {head[0][2][0]}: set "
                f"model.cls_head.num_classes, or remap the head (eva video remap-head)" if head
                else "use the config the checkpoint was trained with")
    return load_with_backbone(model, recognizer_state_dict(obj), "backbone.", model.backbone, unused=UNUSED_KEYS,
                              hint=hint)


def read_label_index(path: Union[str, Path]) -> np.ndarray:
    """Row indices into the source classifier, one per target class in target-label order: a ``.npy`` 1-D int
    array (EVA's ``k722_to_k400_mapping.npy``) or a text file with one integer per line."""
    path = Path(path)
    index = np.load(path) if path.suffix == ".npy" else np.loadtxt(path, dtype=np.int64, ndmin=1)
    if index.ndim != 1 or not np.issubdtype(index.dtype, np.integer):
        raise ValueError(f"{path}: expected a 1-D list of integer class indices, got shape {index.shape} "
                         f"dtype {index.dtype}")
    return index.astype(np.int64)


def label_index_from_names(source: Sequence[str], target: Sequence[str]) -> np.ndarray:
    """Indices of ``target`` class names in ``source`` (e.g. the K722 and K400 label lists)."""
    where = {name.strip(): i for i, name in enumerate(source)}
    missing = [n for n in target if n.strip() not in where]
    if missing:
        raise ValueError(f"{len(missing)} target classes are not source classes, e.g. {missing[:5]}")
    return np.array([where[n.strip()] for n in target], dtype=np.int64)


def remap_head(state: Dict[str, torch.Tensor], index: Sequence[int], prefix: str = HEAD) -> Dict[str, torch.Tensor]:
    """Keep the classifier rows ``index`` (in that order): a head trained on a label superset becomes the head of
    a subset, as EVA turns its Kinetics-722 model into K400 / K600 / K700 models.

    Args:
        state: recognizer state dict.
        index: for each target class, its row in the source classifier.
        prefix: the classifier's key prefix.

    Returns:
        A new state dict; other tensors are shared, not copied.
    """
    keys = [prefix + "weight", prefix + "bias"]
    if keys[0] not in state:
        raise CheckpointError(f"no classifier {keys[0]} in the checkpoint (keys start {sorted(state)[:3]})")
    rows = torch.as_tensor(np.asarray(index), dtype=torch.long)
    n = state[keys[0]].shape[0]
    if rows.numel() == 0 or int(rows.min()) < 0 or int(rows.max()) >= n:
        raise ValueError(f"class indices must lie in [0, {n}) for this {n}-class head; got "
                         f"{int(rows.min()) if rows.numel() else 'none'}..{int(rows.max()) if rows.numel() else ''}")
    out = dict(state)
    for k in keys:
        if k in state:
            out[k] = state[k].index_select(0, rows).clone()
    return out


def read_labels(path: Union[str, Path]) -> List[str]:
    """Class names: one per line, or ``id,name`` CSV rows (EVA's ``kinetics*_labels.csv``; a header is skipped)."""
    rows = [r for r in Path(path).read_text().splitlines() if r.strip()]
    if rows and "," in rows[0]:
        rows = [r.split(",", 1)[1] for r in rows if r.split(",", 1)[0].strip().isdigit()]
    return [r.strip() for r in rows]
