"""The EVA video backbone for mmaction2 configs: clips in, pooled features out for mmaction2's heads."""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.registry import MODELS

from eva.backbone import EVAVideoViT, load_pretrained, model_args, read_checkpoint

#: checkpoint parts a video backbone does not use (pre-training heads; a classifier starts fresh).
UNUSED_KEYS = ("norm.", "head.", "lm_head.", "mask_token")


@MODELS.register_module(force=True)  # mmengine's root registry: mmaction2 configs find it through custom_imports
class EVAVideoBackbone(EVAVideoViT):
    """An :class:`~eva.backbone.EVAVideoViT` returning ``fc_norm(mean of patch tokens)`` ``[B, D]``, what
    mmaction2's ``TimeSformerHead`` (a linear classifier) takes, as EVA pools for video.

    Parameter names stay ``backbone.blocks.<i>`` etc., so the shared layer-decay constructor applies
    (``LayerDecayOptimWrapperConstructor`` with ``backbone_prefix="backbone."``).

    Args:
        variant: an ``eva.backbone`` variant, e.g. ``"eva_giant_patch14_224"``.
        num_frames: frames the space-time position table is stored for (other counts are resampled).
        tubelet_size: frames per token (EVA: 1).
        img_size: frame size the position table is stored for.
        drop_path_rate: stochastic depth.
        pretrained: image or video checkpoint (ours, BAAI's, timm's), inflated to video when loaded; or a whole
            recognizer's checkpoint (its ``backbone.*`` part: the next stage of EVA's K722 -> K400 recipe, where
            the head comes through ``cls_head.init_cfg``).
        grad_checkpointing: recompute blocks in the backward pass (T x 256 tokens are memory-heavy).
        **overrides: other ``EVAViT`` arguments.
    """

    def __init__(self, variant: str, num_frames: int = 8, tubelet_size: int = 1, img_size: int = 224,
                 drop_path_rate: float = 0.0, pretrained: Optional[str] = None, grad_checkpointing: bool = False,
                 init_cfg=None, **overrides):
        args = model_args(variant, img_size=img_size, num_classes=0, global_pool="avg", fc_norm=True,
                          final_norm=False, drop_path_rate=drop_path_rate, **overrides)
        super().__init__(num_frames=num_frames, tubelet_size=tubelet_size, **args)
        self.variant = variant
        self.set_grad_checkpointing(grad_checkpointing)
        self.load_report = (load_pretrained(self, _backbone_part(read_checkpoint(pretrained)), fresh=("fc_norm.",),
                                            unused=UNUSED_KEYS) if pretrained else None)

    def init_weights(self, *args, **kwargs) -> None:
        """Constructor-time initialisation only: mmengine's later ``init_weights()`` call (no arguments) must not
        overwrite the ``pretrained`` weights."""
        if args or kwargs:
            super().init_weights(*args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips ``[B, C, T, H, W]`` (any frame count and size) -> features ``[B, D]``."""
        return self.forward_head(self.forward_features(x), pre_logits=True)


def _backbone_part(obj):
    """The ``backbone.*`` tensors of a recognizer checkpoint (prefix removed); any other checkpoint unchanged."""
    sd = obj.get("state_dict", obj) if isinstance(obj, dict) else obj
    if isinstance(sd, dict) and any(k.startswith("backbone.") for k in sd):
        return {k[len("backbone."):]: v for k, v in sd.items() if k.startswith("backbone.")}
    return obj
