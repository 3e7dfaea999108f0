"""The EVA backbone for mmsegmentation / mmdet configs: four feature maps from chosen blocks, at stride 16; the
pyramid (strides 4, 8, 16, 32: 2x deconv twice, deconv, identity, max-pool) is mmseg's own ``Feature2Pyramid``."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
from mmengine.registry import MODELS

from eva.backbone import EVAViT, load_pretrained, model_args

#: checkpoint parts a segmentation backbone does not use.
UNUSED_KEYS = ("norm.", "fc_norm.", "head.", "lm_head.", "mask_token")


@MODELS.register_module(force=True)  # mmengine's root registry: mmseg, mmdet and mmaction2 configs all find it
class EVASegBackbone(EVAViT):
    """An :class:`~eva.backbone.EVAViT` returning ``len(out_indices)`` maps ``[B, D, H/p, W/p]``.

    It subclasses the backbone so that parameter names stay ``backbone.blocks.<i>`` etc. for the shared
    layer-decay rule (``LayerDecayOptimWrapperConstructor`` with ``backbone_prefix="backbone."``).

    Args:
        variant: an ``eva.backbone`` variant, e.g. ``"eva02_base_patch14_224"``.
        img_size: crop size the position table is stored for (other sizes are resampled on the fly).
        patch_size: 16 as in the papers' segmentation recipes (14-pixel checkpoints are converted when loaded).
        out_indices: blocks whose outputs feed the pyramid (B: 3, 5, 7, 11; L: 7, 11, 15, 23).
        drop_path_rate: stochastic depth.
        pretrained: backbone checkpoint (ours, BAAI's, timm's) loaded at construction.
        grad_checkpointing: recompute blocks in the backward pass.
        **overrides: other ``EVAViT`` arguments.
    """

    def __init__(self, variant: str, img_size: int = 512, patch_size: int = 16,
                 out_indices: Sequence[int] = (3, 5, 7, 11), drop_path_rate: float = 0.0,
                 pretrained: Optional[str] = None, grad_checkpointing: bool = False, init_cfg=None, **overrides):
        args = model_args(variant, img_size=img_size, patch_size=patch_size, num_classes=0, global_pool="",
                          fc_norm=False, final_norm=False, drop_path_rate=drop_path_rate, **overrides)
        super().__init__(**args)
        depth = self.depth
        bad = [i for i in out_indices if not -depth <= i < depth]
        if bad:
            raise ValueError(f"out_indices {bad} out of range for a {depth}-block {variant}")
        self.variant, self.out_indices = variant, tuple(i % depth for i in out_indices)
        if list(self.out_indices) != sorted(set(self.out_indices)):  # the maps come out in block order
            raise ValueError(f"out_indices must increase (shallow to deep, as the neck expects), got "
                             f"{tuple(out_indices)}")
        self.set_grad_checkpointing(grad_checkpointing)
        self.load_report = self.load_backbone(pretrained)

    #: parameter prefixes a subclass adds on top of the ViT (initialised by it, absent from backbone checkpoints).
    FRESH: Tuple[str, ...] = ()

    def load_backbone(self, pretrained: Optional[str]):
        """Load a backbone checkpoint (ours, BAAI's, timm's; 14-pixel patches converted).

        Args:
            pretrained: checkpoint path; ``None`` loads nothing.

        Returns:
            The load report, or ``None``.
        """
        return load_pretrained(self, pretrained, fresh=self.FRESH, unused=UNUSED_KEYS) if pretrained else None

    def init_weights(self, *args, **kwargs) -> None:
        """Constructor-time initialisation only: mmengine's later ``init_weights()`` call (no arguments) must not
        overwrite the ``pretrained`` weights."""
        if args or kwargs:
            super().init_weights(*args, **kwargs)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Images ``[B, 3, H, W]`` (any size) -> tuple of ``[B, D, ceil(H/p), ceil(W/p)]``."""
        return tuple(self.forward_intermediates(x, indices=list(self.out_indices), norm=False, output_fmt="NCHW",
                                                intermediates_only=True))
