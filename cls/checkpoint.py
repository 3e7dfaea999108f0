"""Load a trained classifier for evaluation: our runner checkpoints, or a released fine-tuned EVA (BAAI / timm
layout, backbone + head). Strict: a wrong class count or another variant is an error that says what to change."""
from __future__ import annotations

from eva.backbone import CheckpointError, load_checkpoint, read_checkpoint


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
        target = model.state_dict()
        missing = sorted(set(target) - set(state))
        unexpected = sorted(set(state) - set(target))
        mismatched = [(k, tuple(state[k].shape), tuple(target[k].shape)) for k in state
                      if k in target and state[k].shape != target[k].shape]
        if missing or unexpected or mismatched:
            head = [m for m in mismatched if m[0] in ("backbone.head.weight", "probe.1.weight")]
            hint = (f"the checkpoint's classifier has {head[0][1][0]} classes, the config {head[0][2][0]}: set "
                    f"model.num_classes={head[0][1][0]} (--cfg-options model.num_classes={head[0][1][0]})"
                    if head else "build the model with the config the checkpoint was trained with")
            raise CheckpointError(f"{path} does not fit the classifier: missing {missing[:8]}, unexpected "
                                  f"{unexpected[:8]}, mis-shaped {mismatched[:8]}. Fix: {hint}")
        model.load_state_dict(state)
        return "ema" if ema else "runner"
    if model.head_type != "finetune":
        raise CheckpointError(f"{path} is not a linear-probe checkpoint of this suite (no backbone.* / probe.* "
                              f"state_dict)")
    load_checkpoint(model.backbone, obj, strict=True)
    return "released"
