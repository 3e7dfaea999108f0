"""Start a classifier from a backbone checkpoint (ours from pre-training, BAAI's releases, timm's)."""
from __future__ import annotations

from typing import Iterable

from torch import nn

from eva.backbone import CheckpointError, LoadReport, read_checkpoint
from eva.backbone.convert import convert_state_dict

#: Parameters a pre-trained backbone may lack or bring in another size: the fine-tuning head starts fresh.
FRESH = ("head.", "fc_norm.")


def load_pretrained(model: nn.Module, path: str, fresh: Iterable[str] = FRESH) -> LoadReport:
    """Load a backbone checkpoint into ``model``, keeping the parts in ``fresh`` as initialised.

    A classifier of another class count in the checkpoint is dropped (a new task); every other missing,
    unexpected or mis-shaped key is an error that lists them (e.g. a checkpoint of another variant).

    Args:
        model: an :class:`~eva.backbone.EVAViT` built for the new task.
        path: checkpoint file of any layout ``eva.backbone`` converts.
        fresh: key prefixes allowed to be missing or different.

    Returns:
        The load report (resized / renamed / dropped keys).
    """
    fresh = tuple(fresh)
    sd, report = convert_state_dict(read_checkpoint(path), model)
    for key, got, want in list(report.mismatched):
        if key.startswith(fresh):
            report.dropped.append((key, f"shape {got} -> {want}: re-initialised for the new task"))
            report.mismatched.remove((key, got, want))
            sd.pop(key)
    report.missing = [k for k in report.missing if not k.startswith(fresh)]
    if not report.ok:
        raise CheckpointError(f"pre-trained checkpoint {path} does not fit the model:\n{report.summary()}", report)
    model.load_state_dict(sd, strict=False)
    return report
