"""The classifier: mmaction2's ``TimeSformerHead`` (dropout + linear on pooled features), made to honour an
``init_cfg`` so that a stage can start from the previous stage's (remapped) classifier."""
from __future__ import annotations

from mmaction.models.heads import TimeSformerHead
from mmengine.model.weight_init import initialize
from mmengine.registry import MODELS


@MODELS.register_module(force=True)  # mmengine's root registry: mmaction2 configs find it through custom_imports
class EVAVideoHead(TimeSformerHead):
    """``TimeSformerHead`` whose ``init_cfg`` is applied after its own initialisation (``TimeSformerHead`` ignores
    it): ``init_cfg=dict(type="Pretrained", checkpoint=..., prefix="cls_head.")`` loads the K722 head that
    ``eva video remap-head`` cut to the K400 / K600 / K700 classes.

    Args:
        num_classes: classes.
        in_channels: feature width (the backbone's ``embed_dim``).
        **kwargs: ``TimeSformerHead`` arguments (``init_std``, ``label_smooth_eps``, ``average_clips``...).
    """

    def init_weights(self) -> None:
        super().init_weights()
        if self.init_cfg:
            initialize(self, self.init_cfg)
