"""The classifier: mmaction2's ``TimeSformerHead`` (dropout + linear on pooled features) that can start from the
previous stage's (remapped) classifier, strictly."""
from __future__ import annotations

from mmaction.models.heads import TimeSformerHead
from mmengine.registry import MODELS

from eva.backbone import CheckpointError


@MODELS.register_module(force=True)  # mmengine's root registry: mmaction2 configs find it through custom_imports
class EVAVideoHead(TimeSformerHead):
    """``TimeSformerHead`` that honours ``init_cfg=dict(type="Pretrained", checkpoint=..., prefix="cls_head.")``
    (``TimeSformerHead`` ignores ``init_cfg``): the K722 head that ``eva video remap-head`` cut to the K400 / K600
    / K700 classes. Unlike mmengine's ``Pretrained`` init it loads strictly: a head of another class count is an
    error naming the fix, not a warning followed by training from a random head.

    Args:
        num_classes: classes.
        in_channels: feature width (the backbone's ``embed_dim``).
        **kwargs: ``TimeSformerHead`` arguments (``init_std``, ``label_smooth_eps``, ``average_clips``...).
    """

    def init_weights(self) -> None:
        super().init_weights()
        cfg = self.init_cfg
        if not cfg:
            return
        if cfg.get("type") != "Pretrained" or not cfg.get("checkpoint"):
            raise ValueError(f"EVAVideoHead: init_cfg must be dict(type='Pretrained', checkpoint=..., prefix=...), "
                             f"got {cfg}")
        from mmengine.runner.checkpoint import _load_checkpoint_with_prefix

        prefix = cfg.get("prefix", "cls_head.")
        state = _load_checkpoint_with_prefix(prefix, cfg["checkpoint"], map_location="cpu")
        mine = self.state_dict()
        wrong = {k: (tuple(v.shape), tuple(mine[k].shape)) for k, v in state.items()
                 if k in mine and v.shape != mine[k].shape}
        missing, unexpected = sorted(set(mine) - set(state)), sorted(set(state) - set(mine))
        if wrong or missing or unexpected:
            raise CheckpointError(
                f"the classifier in {cfg['checkpoint']} (prefix {prefix!r}) does not fit this {self.num_classes}-class "
                f"head: shapes (checkpoint vs model) {wrong}, missing {missing}, unexpected {unexpected}. Cut a "
                f"superset head to these classes with `eva video remap-head`, or set model.cls_head.num_classes")
        self.load_state_dict(state, strict=True)
