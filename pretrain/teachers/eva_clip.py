"""EVA-CLIP vision towers through ``eva.backbone``: EVA-02's teacher (EVA-01-CLIP-g/14, 1024-d)."""
from __future__ import annotations

from typing import Optional

import torch

from eva.backbone import create_model, load_checkpoint

from .base import Teacher, require_weights, tokens_to_map
from .open_clip_teacher import CLIP_MEAN, CLIP_STD


class EVACLIPTeacher(Teacher):
    """Patch tokens after the tower's final norm and projection head.

    Args:
        variant: an ``eva.backbone`` CLIP tower, e.g. ``"eva_giant_patch14_clip_224"``.
        embed_dim: CLIP embedding width (the projection's outputs).
        checkpoint: EVA-CLIP weights (BAAI release or converted).
        allow_random: permit running without weights (tests only).
        **overrides: constructor overrides (e.g. ``depth`` for small test towers).
    """

    def __init__(self, variant: str = "eva_giant_patch14_clip_224", embed_dim: int = 1024,
                 checkpoint: Optional[str] = None, allow_random: bool = False, **overrides):
        require_weights("eva_clip", checkpoint, allow_random)
        tower = create_model(variant, num_classes=embed_dim, **overrides)
        if checkpoint:
            load_checkpoint(tower, checkpoint, strict=True)
        super().__init__(embed_dim, tower.img_size, CLIP_MEAN, CLIP_STD)
        self.tower = tower
        self.freeze()

    def _compile(self, compile_kwargs: dict) -> None:
        self.tower.compile_blocks(**compile_kwargs)  # regional: one compiled graph shared by all 40 blocks

    def features(self, images: torch.Tensor) -> torch.Tensor:
        t = self.tower
        tokens = t.forward_features(images)  # final norm applied
        grid = t.feature_grid(tuple(images.shape[-2:]))
        return tokens_to_map(t.head(tokens), t.num_prefix_tokens, grid)
