"""OpenAI CLIP / OpenCLIP image towers through ``open_clip``: EVA-01's teacher (CLIP ViT-L/14 at 224)."""
from __future__ import annotations

from typing import Optional

import torch

from .base import Teacher, require_weights, tokens_to_map

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class OpenCLIPTeacher(Teacher):
    """Projected patch tokens of a CLIP vision transformer: ``ln_post(tokens) @ proj``.

    Args:
        model_name: ``open_clip`` architecture, e.g. ``"ViT-L-14"``.
        checkpoint: local weights file (OpenAI or OpenCLIP); nothing is downloaded.
        input_size: teacher resolution (default the tower's).
        allow_random: permit running without weights (tests only).
    """

    def __init__(self, model_name: str = "ViT-L-14", checkpoint: Optional[str] = None,
                 input_size: Optional[int] = None, allow_random: bool = False):
        import open_clip

        require_weights("open_clip", checkpoint, allow_random)
        model = open_clip.create_model(model_name, pretrained=checkpoint, device="cpu")
        visual = model.visual
        size = input_size or visual.image_size[0]
        super().__init__(visual.output_dim, (size, size), CLIP_MEAN, CLIP_STD)
        self.visual = visual
        self.freeze()

    def features(self, images: torch.Tensor) -> torch.Tensor:
        v = self.visual
        x = v.conv1(images)
        grid = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)
        cls = v.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)
        pos = v.positional_embedding.to(x.dtype)
        if pos.shape[0] != x.shape[1]:
            from eva.backbone.layers import resize_pos_embed
            old = int((pos.shape[0] - 1) ** 0.5)
            pos = resize_pos_embed(pos[None], (old, old), tuple(grid))[0]
        x = v.ln_pre(x + pos)
        x = v.transformer(x)
        x = v.ln_post(x) @ v.proj
        return tokens_to_map(x, 1, tuple(grid))
