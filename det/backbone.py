"""The EVA backbone as a detectron2 ``Backbone``, for detectron2's own ``SimpleFeaturePyramid``."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import torch
from detectron2.modeling import Backbone, ShapeSpec

from eva.backbone import EVAViT, load_pretrained, model_args

#: checkpoint parts a detection backbone does not use: classifier / pre-training heads and the final norm.
UNUSED_KEYS = ("norm.", "fc_norm.", "head.", "lm_head.", "mask_token")


class EVAViTDet(EVAViT, Backbone):
    """An :class:`~eva.backbone.EVAViT` that is also a detectron2 ``Backbone``: windowed attention with the
    paper's global blocks, no class token, no final norm, one output ``{"last_feat": [B, D, H/p, W/p]}``.

    It subclasses rather than wraps so that parameter names stay ``blocks.<i>``, ``pos_embed``,
    ``patch_embed`` under ``backbone.net.``: detectron2's ``get_vit_lr_decay_rate``, the shared layer-decay rule
    and BAAI's released detectron2 checkpoints all agree on them.

    Args:
        variant: an ``eva.backbone`` variant (``"eva02_large_patch14_224"``, ``"eva_giant_patch14_224"``...);
            its numbers are overridden for detection below.
        img_size: training crop (LSJ square); position tables are stored for this grid.
        patch_size: 16 for detection (14-pixel checkpoints are resampled when loaded).
        window_size: window of the non-global blocks.
        global_blocks: blocks with global attention.
        drop_path_rate: stochastic depth.
        grad_checkpointing: recompute blocks in the backward pass.
        freeze_patch_embed: keep the patch embedding fixed (EVA-01's detection recipe).
        pretrained: backbone checkpoint (pre-training output, BAAI / timm release) loaded at construction.
        out_feature: name of the output.
        **overrides: other ``EVAViT`` arguments (``rel_pos=True`` for EVA-01, ``fp32_norm``...).
    """

    def __init__(self, variant: str, img_size: int = 1024, patch_size: int = 16, window_size: int = 16,
                 global_blocks: Sequence[int] = (), drop_path_rate: float = 0.0, grad_checkpointing: bool = False,
                 freeze_patch_embed: bool = False, pretrained: Optional[str] = None, out_feature: str = "last_feat",
                 **overrides):
        args = model_args(variant, img_size=img_size, patch_size=patch_size, window_size=window_size,
                          global_blocks=tuple(global_blocks), drop_path_rate=drop_path_rate, class_token=False,
                          global_pool="", num_classes=0, fc_norm=False, final_norm=False,
                          pos_embed_antialias=False, **overrides)
        if args.get("rel_pos"):
            args.setdefault("rel_pos_grid", img_size // patch_size)
        super().__init__(**args)
        self.variant = variant
        self.set_grad_checkpointing(grad_checkpointing)
        self._out_features = [out_feature]
        self._out_feature_channels = {out_feature: self.embed_dim}
        self._out_feature_strides = {out_feature: patch_size}
        self.load_report = load_pretrained(self, pretrained, fresh=(), unused=UNUSED_KEYS) if pretrained else None
        if freeze_patch_embed:
            self.freeze(patch_embed=True)

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Images ``[B, 3, H, W]`` (any size; padded to the patch) -> ``{out_feature: [B, D, H/p, W/p]}``."""
        feat = self.forward_intermediates(x, indices=[self.depth - 1], norm=False, output_fmt="NCHW",
                                          intermediates_only=True)[0]
        return {self._out_features[0]: feat}

    def output_shape(self) -> Dict[str, ShapeSpec]:
        return {name: ShapeSpec(channels=self._out_feature_channels[name], stride=self._out_feature_strides[name])
                for name in self._out_features}
