"""Start a task model from a backbone checkpoint (ours from pre-training, BAAI's releases, timm's): the parts
the new task owns may be missing or of another shape; everything else must fit."""
from __future__ import annotations

from typing import Callable, Dict, Iterable, Optional

import torch
from torch import nn

from .checkpoint import read_checkpoint
from .convert import CheckpointError, LoadReport, convert_state_dict

#: Parameters a pre-trained backbone may lack or bring in another size: a classification head starts fresh.
FRESH = ("head.", "fc_norm.")


def load_pretrained(model: nn.Module, path_or_state, fresh: Iterable[str] = FRESH, unused: Iterable[str] = (),
                    weights_only: bool = True) -> LoadReport:
    """Load a backbone checkpoint into ``model`` for a new task, keeping the parts in ``fresh`` as initialised.

    A tensor under a ``fresh`` prefix that is missing or of another shape (a classifier of another class count)
    is left as initialised; a checkpoint tensor under an ``unused`` prefix that the model does not have (e.g. the
    final norm of a detection backbone) is dropped. Both are recorded in the report. Every other missing,
    unexpected or mis-shaped key is an error listing them (e.g. a checkpoint of another variant).

    Args:
        model: an :class:`~eva.backbone.EVAViT` built for the new task.
        path_or_state: checkpoint file (or loaded dict) of any layout ``eva.backbone`` converts.
        fresh: key prefixes the task initialises itself.
        unused: key prefixes of the checkpoint the task does not use.

    Returns:
        The load report (resized / renamed / dropped keys).
    """
    fresh, unused = tuple(fresh), tuple(unused)
    obj = path_or_state if isinstance(path_or_state, dict) else read_checkpoint(path_or_state, weights_only)
    sd, report = convert_state_dict(obj, model)
    _keep_initialised(report, sd, fresh, unused, log=report)
    if not report.ok:
        where = path_or_state if not isinstance(path_or_state, dict) else "state dict"
        raise CheckpointError(f"pre-trained checkpoint {where} does not fit the model:\n{report.summary()}", report)
    on_meta = any(p.is_meta for p in model.parameters())
    model.load_state_dict(sd, strict=False, assign=on_meta)
    return report


def _keep_initialised(found: LoadReport, state: Dict[str, torch.Tensor], fresh: tuple, unused: tuple,
                      log: LoadReport, note_missing: bool = False) -> None:
    """Take the keys the task may own out of ``found``'s errors (and out of ``state``), noting them in ``log``:
    mis-shaped under ``fresh`` are re-initialised, unexpected under ``unused`` dropped, missing under ``fresh``
    kept as initialised."""
    for key, got, want in [m for m in found.mismatched if m[0].startswith(fresh)]:
        log.dropped.append((key, f"shape {got} -> {want}: re-initialised for the new task"))
        found.mismatched.remove((key, got, want))
        state.pop(key)
    for key in [k for k in found.unexpected if k.startswith(unused)]:
        log.dropped.append((key, "not used by this task's model"))
        found.unexpected.remove(key)
        state.pop(key)
    if note_missing:
        log.added += [(k, "not in the checkpoint: kept as initialised") for k in found.missing if k.startswith(fresh)]
    found.missing = [k for k in found.missing if not k.startswith(fresh)]


def load_with_backbone(model: nn.Module, state: Dict[str, torch.Tensor], prefix: str, backbone: nn.Module,
                       unused: Iterable[str] = (), hint: Optional[Callable[[LoadReport], str]] = None,
                       fresh: Iterable[str] = ()) -> LoadReport:
    """Load a whole task model (detector, segmentor...) whose backbone sits under ``prefix``, strictly, except
    for the heads named in ``fresh`` (a transfer to another label set).

    The backbone's tensors go through the converter (any layout ``eva.backbone`` reads: BAAI's split q/k/v and
    ``w1 w2 w3``, persisted RoPE tables, 14 -> 16 patch, resampled position tables); every other tensor must
    match the model's key for key and shape for shape.

    Args:
        model: the task model.
        state: its checkpoint's state dict.
        prefix: where the backbone's parameters sit (``"backbone."``, ``"backbone.net."``).
        backbone: the backbone module (``model.get_submodule(prefix[:-1])``).
        unused: backbone-checkpoint prefixes this task drops (final norm, classifier).
        hint: builds a fix to print when the non-backbone part does not fit (e.g. "set num_classes").
        fresh: prefixes of non-backbone parts the new task may own (e.g. ``"roi_heads."`` when an Objects365
            detector starts a COCO one): their tensors load where name and shape fit; the rest stay as initialised
            (missing, or a classifier of another class count) or are dropped (unexpected), and the report lists
            them under ``added`` / ``dropped``.

    Returns:
        The backbone's load report (with the transferred heads' re-initialised and dropped keys). Raises
        :class:`CheckpointError` listing missing / unexpected / mis-shaped keys.
    """
    from .convert import compare_keys

    part = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    rest = {k: v for k, v in state.items() if not k.startswith(prefix)}
    if not part:
        raise CheckpointError(f"no {prefix}* keys: not a checkpoint of this model's layout (found "
                              f"{sorted(state)[:4]}...); to start from a backbone checkpoint set the backbone's "
                              f"pretrained= instead")
    report = load_pretrained(backbone, part, fresh=(), unused=unused)
    target = {k: v for k, v in model.state_dict().items() if not k.startswith(prefix)}
    others = compare_keys(rest, target)
    _keep_initialised(others, rest, tuple(fresh), tuple(fresh), log=report, note_missing=True)
    if not others.ok:
        others.hint = hint(others) if hint else "use the config the checkpoint was trained with"
        raise CheckpointError(f"checkpoint does not fit the model:\n{others.summary()}", others)
    model.load_state_dict(rest, strict=False)
    return report
