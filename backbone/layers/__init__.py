"""Building blocks of the EVA ViT, one concept per module."""
from .attention import Attention
from .block import Block, PostNormBlock
from .mlp import GeluMlp, SwiGLU, build_mlp, linear_gelu
from .patch_embed_3d import PatchEmbed3D, inflate_patch_embed
from .pos_embed import resize_pos_embed, resize_pos_embed_3d, sincos_pos_embed
from .rel_pos import decomposed_rel_pos_bias, resize_rel_pos
from .rope import RotaryEmbedding2D, apply_rope
from .window import window_partition, window_unpartition

__all__ = [
    "Attention", "Block", "PostNormBlock", "GeluMlp", "SwiGLU", "build_mlp", "linear_gelu", "PatchEmbed3D",
    "inflate_patch_embed", "resize_pos_embed", "resize_pos_embed_3d", "sincos_pos_embed",
    "decomposed_rel_pos_bias", "resize_rel_pos", "RotaryEmbedding2D", "apply_rope", "window_partition",
    "window_unpartition",
]
