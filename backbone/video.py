"""EVA inflated to video: the image model with a space-time patch embedding and position table, and joint
space-time attention over all ``t x h x w`` tokens (EVA's video recipe)."""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
from torch import nn

from .layers import PatchEmbed3D, resize_pos_embed_3d
from .model import EVAViT
from .variants import model_args


class EVAVideoViT(EVAViT):
    """An :class:`~eva.backbone.EVAViT` for clips ``[B, C, T, H, W]``.

    Everything but the embedding is the image model: the same blocks (SDPA, RoPE per frame, SwiGLU, drop path,
    activation checkpointing, ``compile_blocks``), names and layer-decay rule, so an image checkpoint loads by
    inflation (:func:`eva.backbone.convert_state_dict` does it): the patch embedding is spread over the tubelet
    and the position table is replicated for every frame, after which it is a learned space-time table. Tokens
    are time-major (frame by frame); the class token, if any, comes first.

    Args:
        num_frames: frames the position table is stored for (other counts are resampled on the fly).
        tubelet_size: frames per token.
        inflation: how an image checkpoint's patch kernel is spread over a tubelet, ``"average"`` or
            ``"central"`` (see :func:`eva.backbone.layers.inflate_patch_embed`); no effect for tubelet 1.
        **kwargs: :class:`~eva.backbone.EVAViT` arguments. Window attention and relative positions are image
            (detection) features and are refused; the position table must be ``"learned"`` or ``"none"``.
    """

    map_fmt = "NCTHW"

    def __init__(self, num_frames: int = 8, tubelet_size: int = 1, inflation: str = "average", **kwargs):
        if kwargs.get("window_size") or kwargs.get("rel_pos"):
            raise ValueError("the video model attends jointly over space and time: build it without window_size "
                             "and rel_pos")
        if kwargs.get("pos_embed", "learned") == "sincos":
            raise ValueError("the video model learns a space-time position table: use pos_embed='learned' "
                             "(or 'none')")
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        super().__init__(**kwargs)
        self.config.update(num_frames=num_frames, tubelet_size=tubelet_size, inflation=inflation)
        self.num_frames, self.tubelet_size = num_frames, tubelet_size
        self.patch_embed = PatchEmbed3D(self.patch_size, tubelet_size, kwargs.get("in_chans", 3), self.embed_dim,
                                        inflation)
        #: (t, h, w) token grid the position table is stored for.
        self.pos_grid = (math.ceil(num_frames / tubelet_size), *self.grid)
        if self.pos_embed is not None:
            with torch.no_grad():  # the image table of the initialisation, replicated per frame
                table = resize_pos_embed_3d(self.pos_embed.data, (1, *self.grid), self.pos_grid)
            self.pos_embed = nn.Parameter(table)

    def patchify(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple[int, int, int]]:
        """Clips ``[B, C, T, H, W]`` -> tokens ``[B, t * h * w, D]`` (time-major) and their grid (t, h, w)."""
        x = self.patch_embed(x)
        b, t, h, w, d = x.shape
        return x.reshape(b, t * h * w, d), (t, h, w)

    def position_embedding(self, grid: Tuple[int, int, int], device=None) -> Optional[torch.Tensor]:
        """Space-time table ``[1, 1 + t * h * w, D]`` for ``grid`` (class-token slot first)."""
        if self.pos_embed is None:
            return None
        return resize_pos_embed_3d(self.pos_embed, self.pos_grid, grid, num_prefix_tokens=1,
                                   antialias=self.pos_embed_antialias)

    def feature_grid(self, clip_thw: Tuple[int, int, int]) -> Tuple[int, int, int]:
        """Token grid (t, h, w) produced for a clip of (frames, height, width)."""
        return self.patch_embed.grid(clip_thw)


def create_video_model(name: str, num_frames: int = 8, tubelet_size: int = 1, checkpoint: Optional[str] = None,
                       **overrides) -> EVAVideoViT:
    """Build variant ``name`` inflated to video.

    Args:
        name: an image variant from :func:`eva.backbone.list_models`.
        num_frames: frames per clip the position table is stored for.
        tubelet_size: frames per token.
        checkpoint: optional image or video checkpoint (any supported layout), inflated / resampled and loaded
            strictly (head and ``fc_norm`` included: use :func:`eva.backbone.load_pretrained` to start a task).
        **overrides: :class:`~eva.backbone.EVAViT` arguments.
    """
    model = EVAVideoViT(num_frames=num_frames, tubelet_size=tubelet_size, **model_args(name, **overrides))
    model.variant = name
    if checkpoint is not None:
        from .checkpoint import load_checkpoint
        load_checkpoint(model, checkpoint, strict=True)
    return model
