"""ViT-Adapter's interaction between the ViT tokens and the spatial-prior pyramid: an injector (pyramid -> ViT)
before each stage of blocks, extractors (ViT -> pyramid) after it; both are mmcv's multi-scale deformable
attention. Module and parameter names follow ViT-Adapter's, so BAAI's EVA-01 checkpoints load by name."""
from __future__ import annotations

import warnings

import torch
from mmcv.ops import MultiScaleDeformableAttention
from timm.layers import DropPath
from torch import nn
from torch.utils.checkpoint import checkpoint

from .levels import Levels


def deformable_attention(dim: int, num_heads: int, num_levels: int, num_points: int,
                         value_ratio: float) -> MultiScaleDeformableAttention:
    """mmcv's deformable attention over ``[B, N, dim]`` tokens (``batch_first``, no dropout).

    Args:
        dim: token width.
        num_heads: attention heads.
        num_levels: levels of the value sequence.
        num_points: sampling points per head and level.
        value_ratio: the values are projected to ``dim * value_ratio`` channels.
    """
    with warnings.catch_warnings():
        # mmcv advises power-of-2 head widths for its CUDA kernel; the published recipes use 1408 / 16 heads.
        warnings.filterwarnings("ignore", message=".*power of 2.*")
        return MultiScaleDeformableAttention(embed_dims=dim, num_heads=num_heads, num_levels=num_levels,
                                             num_points=num_points, dropout=0.0, batch_first=True,
                                             value_proj_ratio=value_ratio)


class MultiLevelDWConv(nn.Module):
    """One 3x3 depthwise conv applied to each level of a multi-level sequence ``[B, N, C]``.

    Args:
        dim: channels ``C``.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x: torch.Tensor, levels: Levels) -> torch.Tensor:
        return Levels.flatten([self.dwconv(m) for m in levels.split_maps(x)])


class ConvFFN(nn.Module):
    """Linear -> depthwise conv per level -> GELU -> linear, over a multi-level sequence ``[B, N, dim]``.

    Args:
        dim: token width.
        hidden: hidden width.
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = MultiLevelDWConv(hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, levels: Levels) -> torch.Tensor:
        return self.fc2(self.act(self.dwconv(self.fc1(x), levels)))


class _NormedDeformableAttention(nn.Module):
    """LayerNorm the queries and the values, then deformable attention from one to the other."""

    def __init__(self, dim: int, num_heads: int, num_levels: int, num_points: int, value_ratio: float, eps: float):
        super().__init__()
        self.query_norm = nn.LayerNorm(dim, eps=eps)
        self.feat_norm = nn.LayerNorm(dim, eps=eps)
        self.attn = deformable_attention(dim, num_heads, num_levels, num_points, value_ratio)

    def attend(self, query: torch.Tensor, reference: torch.Tensor, feat: torch.Tensor,
               feat_levels: Levels) -> torch.Tensor:
        # mmcv adds its own residual ``identity`` (default: the query); the callers add theirs, so pass a zero
        return self.attn(self.query_norm(query), value=self.feat_norm(feat), identity=query.new_zeros(()),
                         reference_points=reference, spatial_shapes=feat_levels.spatial_shapes,
                         level_start_index=feat_levels.start_index)


class Injector(_NormedDeformableAttention):
    """ViT tokens ``+= gamma * attn(ViT tokens -> pyramid)``; ``gamma`` starts at ``init_value`` (0: a no-op, so
    the pre-trained ViT's features are untouched at the start of fine-tuning).

    Args:
        dim: ViT width.
        num_heads, num_points, value_ratio: deformable attention settings.
        num_levels: pyramid levels the tokens read (3: strides 8, 16, 32).
        init_value: initial ``gamma``.
        eps: LayerNorm epsilon.
    """

    def __init__(self, dim: int, num_heads: int, num_points: int, num_levels: int = 3, value_ratio: float = 1.0,
                 init_value: float = 0.0, eps: float = 1e-6):
        super().__init__(dim, num_heads, num_levels, num_points, value_ratio, eps)
        self.gamma = nn.Parameter(torch.full((dim,), float(init_value)))

    def forward(self, query: torch.Tensor, reference: torch.Tensor, feat: torch.Tensor,
                feat_levels: Levels) -> torch.Tensor:
        """``query`` ``[B, h * w, D]`` ViT patch tokens, ``reference`` ``[1, h * w, 1, 2]``, ``feat``
        ``[B, N, D]`` pyramid tokens laid out as ``feat_levels`` -> updated ``query``."""
        return query + self.gamma * self.attend(query, reference, feat, feat_levels)


class Extractor(_NormedDeformableAttention):
    """Pyramid tokens ``+= attn(pyramid -> ViT tokens)``, then ``+= ConvFFN`` (with stochastic depth).

    Args:
        dim: ViT width.
        num_heads, num_points, value_ratio: deformable attention settings.
        ffn_ratio: ConvFFN hidden width as a fraction of ``dim``; 0 disables the ConvFFN.
        drop_path: stochastic depth of the ConvFFN branch.
        eps: LayerNorm epsilon.
    """

    def __init__(self, dim: int, num_heads: int, num_points: int, value_ratio: float = 1.0, ffn_ratio: float = 0.25,
                 drop_path: float = 0.0, eps: float = 1e-6):
        super().__init__(dim, num_heads, 1, num_points, value_ratio, eps)
        self.with_cffn = ffn_ratio > 0
        if self.with_cffn:
            self.ffn = ConvFFN(dim, int(dim * ffn_ratio))
            self.ffn_norm = nn.LayerNorm(dim, eps=eps)
            self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, query: torch.Tensor, query_levels: Levels, reference: torch.Tensor, feat: torch.Tensor,
                feat_levels: Levels) -> torch.Tensor:
        """``query`` ``[B, N, D]`` pyramid tokens (``query_levels``), ``reference`` ``[1, N, 1, 2]``, ``feat``
        ``[B, h * w, D]`` ViT patch tokens (one level) -> updated ``query``."""
        query = query + self.attend(query, reference, feat, feat_levels)
        if self.with_cffn:
            query = query + self.drop_path(self.ffn(self.ffn_norm(query), query_levels))
        return query


class InteractionBlock(nn.Module):
    """The adapter's part of one stage: an injector before the stage's ViT blocks, an extractor after them
    (the last stage adds ``extra_extractors`` more).

    Args:
        dim: ViT width.
        num_heads, num_points, value_ratio: deformable attention settings.
        ffn_ratio: ConvFFN width fraction in the extractors.
        drop_path: stochastic depth of the extractors' ConvFFN.
        init_value: the injector's initial ``gamma``.
        extra_extractors: additional extractors after the first.
    """

    def __init__(self, dim: int, num_heads: int, num_points: int = 4, value_ratio: float = 1.0,
                 ffn_ratio: float = 0.25, drop_path: float = 0.0, init_value: float = 0.0, extra_extractors: int = 0):
        super().__init__()
        self.injector = Injector(dim, num_heads, num_points, 3, value_ratio, init_value)
        self.extractor = Extractor(dim, num_heads, num_points, value_ratio, ffn_ratio, drop_path)
        self.extra_extractors = nn.Sequential(*[
            Extractor(dim, num_heads, num_points, value_ratio, ffn_ratio, drop_path)
            for _ in range(extra_extractors)]) if extra_extractors else None
        self.grad_checkpointing = False

    def _maybe_checkpoint(self, fn, *args):
        if self.grad_checkpointing and torch.is_grad_enabled():
            return checkpoint(fn, *args, use_reentrant=False)
        return fn(*args)

    def inject(self, x: torch.Tensor, x_reference: torch.Tensor, c: torch.Tensor, c_levels: Levels) -> torch.Tensor:
        """The ViT patch tokens read the pyramid.

        Args:
            x: ViT patch tokens ``[B, h * w, D]``.
            x_reference: their reference points ``[1, h * w, 1, 2]``.
            c: pyramid tokens ``[B, N, D]``.
            c_levels: the pyramid's layout.

        Returns:
            Updated ``x``.
        """
        return self._maybe_checkpoint(self.injector, x, x_reference, c, c_levels)

    def extract(self, c: torch.Tensor, c_levels: Levels, c_reference: torch.Tensor, x: torch.Tensor,
                x_levels: Levels) -> torch.Tensor:
        """The pyramid reads the ViT patch tokens (through every extractor of this block).

        Args:
            c: pyramid tokens ``[B, N, D]``.
            c_levels: the pyramid's layout.
            c_reference: its reference points ``[1, N, 1, 2]``.
            x: ViT patch tokens ``[B, h * w, D]``.
            x_levels: their layout (one level).

        Returns:
            Updated ``c``.
        """
        for extractor in [self.extractor, *(self.extra_extractors or [])]:
            c = self._maybe_checkpoint(extractor, c, c_levels, c_reference, x, x_levels)
        return c


__all__ = ["ConvFFN", "Extractor", "Injector", "InteractionBlock", "MultiLevelDWConv", "deformable_attention"]
