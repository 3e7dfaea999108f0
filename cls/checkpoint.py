"""Load a trained classifier for evaluation: our runner checkpoints, or a released fine-tuned EVA (BAAI / timm
layout, backbone + head). Strict: a wrong class count or another variant is an error that says what to change."""
from __future__ import annotations

from eva.backbone import CheckpointError, load_checkpoint, read_checkpoint
from eva.backbone.convert import compare_keys


def load_classifier(model, path: str) -> str:
    """Load ``path`` into an :class:`~eva.cls.EVAClassifier`; returns which layout it was.

    Args:
        model: the classifier built from the config.
        path: an mmengine checkpoint of this classifier (``state_dict`` with ``backbone.*``; EMA weights are used
            when present), or a released fine-tuned model in any layout ``eva.backbone`` converts.
    """
    obj = read_checkpoint(path)
    ema = obj.get("ema_state_dict") if isinstance(obj, dict) else None
    state = obj.get("state_dict") if isinstance(obj, dict) else None
    if ema:  # mmengine's EMAHook: averaged weights under "module.<name>", plus "steps"
        state = {k[len("module."):]: v for k, v in ema.items() if k.startswith("module.")}
    if isinstance(state, dict) and any(k.startswith("backbone.") for k in state):
        report = compare_keys(state, model.state_dict())
        if not report.ok:
            head = [m for m in report.mismatched if m[0] in ("backbone.head.weight", "probe.1.weight")]
            hint = (f"the checkpoint's classifier has {head[0][1][0]} classes, the config {head[0][2][0]}: set "
                    f"model.num_classes={head[0][1][0]} (--cfg-options model.num_classes={head[0][1][0]})"
                    if head else "build the model with the config the checkpoint was trained with")
            report.hint = hint
            raise CheckpointError(f"{path} does not fit the classifier:\n{report.summary()}", report)
        model.load_state_dict(state)
        return "ema" if ema else "runner"
    if model.head_type != "finetune":
        raise CheckpointError(f"{path} is not a linear-probe checkpoint of this suite (no backbone.* / probe.* "
                              f"state_dict)")
    load_checkpoint(model.backbone, obj, strict=True)
    return "released"
