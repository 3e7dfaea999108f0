"""The one EVA vision transformer (EVA-01, EVA-02, EVA-CLIP towers, ViTDet-style windowed variants)."""
from __future__ import annotations

import math
from functools import partial
from typing import List, Optional, Sequence, Set, Tuple, Union

import torch
from timm.layers import DropPath, LayerNorm, LayerNormFp32, LayerScale, PatchEmbed, trunc_normal_
from torch import nn
from torch.utils.checkpoint import checkpoint

from .layers import Attention, Block, PostNormBlock, RotaryEmbedding2D, build_mlp, resize_pos_embed, sincos_pos_embed

IntOrPair = Union[int, Tuple[int, int]]


def _pair(v: IntOrPair) -> Tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


class EVAViT(nn.Module):
    """Plain ViT of the EVA family, built from :mod:`eva.backbone.layers`.

    Any input size works: the image is zero-padded to a multiple of the patch size, the learned position
    embedding (stored at ``img_size // patch_size``) is resampled to the actual grid, RoPE tables are built
    for the actual grid, and windows are padded.

    Args:
        img_size: pre-training image size; fixes the grid the position embedding is stored at.
        patch_size: patch size.
        in_chans: image channels.
        num_classes: classifier outputs; 0 for no head.
        global_pool: ``"avg"`` (mean of patch tokens), ``"token"`` (class token) or ``""`` (no pooling).
        embed_dim: token width.
        depth: number of blocks.
        num_heads: attention heads.
        mlp_hidden_dim: MLP hidden width (per half for SwiGLU).
        mlp_type: ``"gelu"`` or ``"swiglu"``.
        mlp_norm: sub-LN inside the MLP (EVA-02 B/L).
        qkv_bias: ``"qv"``, ``"qkv"`` or ``"none"`` (see :class:`~eva.backbone.layers.Attention`).
        attn_inner_norm: LayerNorm on the attention output before its projection (EVA-CLIP).
        pos_embed: ``"learned"``, ``"sincos"`` (fixed, MAE-style) or ``"none"``.
        pos_embed_antialias: resample the learned table with anti-aliased bicubic (timm's choice, default);
            False gives plain bicubic (detectron2's ViTDet and EVA's detection code).
        rope: 2D rotary embedding in every block (EVA-02).
        rope_ref_grid: grid positions are rescaled to for RoPE (pre-training grid; default the stored grid).
        post_norm: residual post-norm blocks (EVA-02-E).
        class_token: prepend a class token. Must be False with window attention.
        fc_norm: norm after pooling; default True for ``"avg"`` pooling.
        final_norm: norm after the last block; default: when there is no ``fc_norm``. Detection backbones that
            only use intermediate maps can drop it.
        layer_scale: initial LayerScale value; ``None`` disables layer scale.
        norm_eps: LayerNorm epsilon.
        fp32_norm: compute every LayerNorm in float32 (fp16 training of the giant models).
        drop_rate: dropout before the head.
        attn_drop_rate: attention-probability dropout.
        proj_drop_rate: dropout after projections and in the MLP.
        drop_path_rate: stochastic depth, linearly increasing over blocks up to this value.
        window_size: > 0 turns every block not in ``global_blocks`` into windowed attention.
        global_blocks: indices of blocks keeping global attention when ``window_size > 0``.
        rel_pos: decomposed relative position tables in every block (EVA-01 / ViTDet detection).
        rel_pos_grid: grid the global blocks' relative tables are sized for (default the stored grid).
        head_init_scale: scale of the classifier's initial weights (EVA uses 1e-3).
    """

    #: layout of the feature maps :meth:`forward_intermediates` returns (``"NCTHW"`` for video).
    map_fmt = "NCHW"

    def __init__(
            self,
            img_size: IntOrPair = 224,
            patch_size: int = 14,
            in_chans: int = 3,
            num_classes: int = 0,
            global_pool: str = "avg",
            embed_dim: int = 768,
            depth: int = 12,
            num_heads: int = 12,
            mlp_hidden_dim: Optional[int] = None,
            mlp_type: str = "gelu",
            mlp_norm: bool = False,
            qkv_bias: str = "qv",
            attn_inner_norm: bool = False,
            pos_embed: str = "learned",
            pos_embed_antialias: bool = True,
            rope: bool = False,
            rope_ref_grid: Optional[IntOrPair] = None,
            post_norm: bool = False,
            class_token: bool = True,
            fc_norm: Optional[bool] = None,
            final_norm: Optional[bool] = None,
            layer_scale: Optional[float] = None,
            norm_eps: float = 1e-6,
            fp32_norm: bool = False,
            drop_rate: float = 0.0,
            attn_drop_rate: float = 0.0,
            proj_drop_rate: float = 0.0,
            drop_path_rate: float = 0.0,
            window_size: int = 0,
            global_blocks: Sequence[int] = (),
            rel_pos: bool = False,
            rel_pos_grid: Optional[IntOrPair] = None,
            head_init_scale: float = 1e-3,
    ):
        super().__init__()
        #: constructor arguments, so converters and adapters can rebuild or describe the model.
        self.config = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        if global_pool not in ("avg", "token", ""):
            raise ValueError(f"global_pool must be 'avg', 'token' or '', got {global_pool!r}")
        if global_pool == "token" and not class_token:
            raise ValueError("global_pool='token' needs class_token=True")
        if window_size and class_token:
            raise ValueError("window attention works on the patch raster only: build with class_token=False")
        bad_blocks = [i for i in global_blocks if not 0 <= i < depth]
        if bad_blocks:
            raise ValueError(f"global_blocks {bad_blocks} out of range for depth {depth}")
        if rel_pos and class_token:
            raise ValueError("relative positions work on the patch raster only: build with class_token=False")
        if pos_embed not in ("learned", "sincos", "none"):
            raise ValueError(f"pos_embed must be 'learned', 'sincos' or 'none', got {pos_embed!r}")
        self.img_size = _pair(img_size)
        self.patch_size = patch_size
        self.embed_dim = self.num_features = embed_dim
        self.depth = depth
        self.num_heads = num_heads
        self.num_classes = num_classes
        self.global_pool = global_pool
        self.num_prefix_tokens = 1 if class_token else 0
        self.grid = (self.img_size[0] // patch_size, self.img_size[1] // patch_size)
        self.pos_embed_type = pos_embed
        self.pos_embed_antialias = pos_embed_antialias
        self.grad_checkpointing = False
        norm_layer = partial(LayerNormFp32 if fp32_norm else LayerNorm, eps=norm_eps)
        use_fc_norm = global_pool == "avg" if fc_norm is None else fc_norm

        self.patch_embed = PatchEmbed(self.img_size, patch_size, in_chans, embed_dim, output_fmt="NHWC",
                                      strict_img_size=False, dynamic_img_pad=True)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if class_token else None
        # The stored table keeps a class-token slot even for class-token-free (detection) models, so
        # pre-trained tables load unchanged; the slot is then unused.
        if pos_embed == "learned":
            self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.grid[0] * self.grid[1], embed_dim))
        else:
            self.pos_embed = None
        self.rope = (RotaryEmbedding2D(embed_dim // num_heads, _pair(rope_ref_grid or self.grid))
                     if rope else None)
        self.window_size = window_size

        hidden = mlp_hidden_dim or 4 * embed_dim
        block_cls = PostNormBlock if post_norm else Block
        dpr = [drop_path_rate * i / (depth - 1) for i in range(depth)] if depth > 1 else [drop_path_rate] * depth
        global_set = set(global_blocks)
        blocks = []
        for i in range(depth):
            windowed = window_size > 0 and i not in global_set
            rp_grid = None
            if rel_pos:
                rp_grid = (window_size, window_size) if windowed else _pair(rel_pos_grid or self.grid)
            blocks.append(block_cls(
                norm1=norm_layer(embed_dim),
                attn=Attention(embed_dim, num_heads, qkv_bias=qkv_bias,
                               inner_norm=norm_layer(embed_dim) if attn_inner_norm else None,
                               rel_pos_grid=rp_grid, attn_drop=attn_drop_rate, proj_drop=proj_drop_rate),
                norm2=norm_layer(embed_dim),
                mlp=build_mlp(embed_dim, hidden, mlp_type, norm_layer if mlp_norm else None, proj_drop_rate),
                ls1=LayerScale(embed_dim, layer_scale) if layer_scale is not None else None,
                ls2=LayerScale(embed_dim, layer_scale) if layer_scale is not None else None,
                drop_path=DropPath(dpr[i]) if dpr[i] > 0 else None,
                window_size=window_size if windowed else 0,
            ))
        self.blocks = nn.ModuleList(blocks)
        use_final_norm = not use_fc_norm if final_norm is None else final_norm
        self.norm = norm_layer(embed_dim) if use_final_norm else nn.Identity()
        self.fc_norm = norm_layer(embed_dim) if use_fc_norm else nn.Identity()
        self.head_drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        self.init_weights(head_init_scale)

    # ------------------------------------------------------------------ init / utilities
    def init_weights(self, head_init_scale: float = 1e-3) -> None:
        """EVA/BEiT init: truncated normal (0.02), residual projections divided by sqrt(2 * layer)."""
        if self.patch_embed.proj.weight.is_meta:
            return
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        for p in (self.pos_embed, self.cls_token):
            if p is not None:
                trunc_normal_(p, std=0.02)
        with torch.no_grad():
            for i, blk in enumerate(self.blocks):
                blk.attn.proj.weight.div_(math.sqrt(2.0 * (i + 1)))
                blk.mlp.fc2.weight.div_(math.sqrt(2.0 * (i + 1)))
            if isinstance(self.head, nn.Linear):
                self.head.weight.mul_(head_init_scale)
        for m in self.modules():
            if hasattr(m, "zero_padding_"):
                m.zero_padding_()

    @torch.jit.ignore
    def no_weight_decay(self) -> Set[str]:
        """Names excluded from weight decay besides biases and norm weights (all 1-D tensors)."""
        return {n for n in ("pos_embed", "cls_token") if getattr(self, n) is not None}

    @torch.jit.ignore
    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute each block in the backward pass instead of storing its activations.

        Args:
            enable: turn activation checkpointing on (``False`` turns it off).
        """
        self.grad_checkpointing = enable

    def compile_blocks(self, **compile_kwargs) -> "EVAViT":
        """Compile each block with ``torch.compile`` (regional compilation), the fast path we ship.

        Blocks of one shape share one compiled graph, so compiling takes seconds where compiling the whole
        model takes minutes, and RoPE, SwiGLU, the norms and casts fuse into a few kernels per block. Works with
        activation checkpointing and window attention; outputs equal the eager model's. Returns ``self``.

        Args:
            **compile_kwargs: passed to ``torch.compile`` (``mode``, ``backend``, ``dynamic``...).
        """
        import torch._dynamo
        # Block.forward is one code object for every block of every model: each distinct block shape, dtype,
        # grad mode or drop-path rate adds a cache entry, so allow far more than dynamo's default of 8
        cfg = torch._dynamo.config
        name = "recompile_limit" if hasattr(cfg, "recompile_limit") else "cache_size_limit"
        setattr(cfg, name, max(getattr(cfg, name), len(self.blocks) + 64))
        for blk in self.blocks:
            blk.compile(**compile_kwargs)
        return self

    def set_attn_impl(self, impl: str) -> None:
        """Choose how every block computes attention.

        Args:
            impl: ``"sdpa"`` (``F.scaled_dot_product_attention``, default) or ``"math"`` (explicit softmax).
        """
        if impl not in ("sdpa", "math"):
            raise ValueError(f"attention implementation must be 'sdpa' or 'math', got {impl!r}")
        for blk in self.blocks:
            blk.attn.fused_attn = impl == "sdpa"

    def set_gelu_epilogue(self, enable: bool = True) -> "EVAViT":
        """Inference on CUDA: run each GELU MLP's fc1 and GELU as one GEMM (tanh GELU, within bf16 of exact).

        For GELU models (EVA-01, EVA-CLIP, EVA-02-E); SwiGLU models have nothing to fuse. Returns ``self``.

        Args:
            enable: turn the fused path on (off restores exact GELU everywhere).
        """
        from .layers.mlp import GeluMlp
        for m in self.modules():
            if isinstance(m, GeluMlp):
                m.gelu_epilogue = enable
        return self

    def freeze(self, patch_embed: bool = False, num_blocks: int = 0) -> None:
        """Stop gradients to the embeddings and the first blocks.

        Args:
            patch_embed: freeze the patch embedding, the position table and the class token.
            num_blocks: freeze blocks ``0 .. num_blocks - 1``.
        """
        if patch_embed:
            for p in [*self.patch_embed.parameters(), self.pos_embed, self.cls_token]:
                if p is not None:
                    p.requires_grad_(False)
        for blk in self.blocks[:num_blocks]:
            blk.requires_grad_(False)

    def get_classifier(self) -> nn.Module:
        return self.head

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the head with a fresh ``num_classes``-way linear layer (0 removes it)."""
        self.num_classes = num_classes
        self.head = nn.Linear(self.embed_dim, num_classes) if num_classes > 0 else nn.Identity()
        if num_classes > 0:
            trunc_normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)
            with torch.no_grad():
                self.head.weight.mul_(self.config["head_init_scale"])

    # ------------------------------------------------------------------ forward
    def feature_grid(self, img_hw: Tuple[int, int]) -> Tuple[int, int]:
        """Patch grid produced for an image of size ``img_hw`` (after padding to the patch size)."""
        return (math.ceil(img_hw[0] / self.patch_size), math.ceil(img_hw[1] / self.patch_size))

    def embed(self, x: torch.Tensor, token_mask: Optional[torch.Tensor] = None,
              mask_token: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Tuple[int, int]]:
        """Patchify and add positions: ``[B, C, H, W]`` -> tokens ``[B, prefix + h * w, D]`` and grid (h, w).

        Args:
            x: images (clips ``[B, C, T, H, W]`` for :class:`~eva.backbone.video.EVAVideoViT`).
            token_mask: optional ``[B, N]`` bool (``N`` patch tokens); True patches are replaced by ``mask_token``
                ``[1, 1, D]`` before positions are added (BEiT-style masked image modeling).
        """
        x, grid = self.patchify(x)
        b, n, _ = x.shape
        if token_mask is not None:
            if mask_token is None or token_mask.shape != (b, n):
                raise ValueError(f"token_mask must be [B, N] = [{b}, {n}] for this {'x'.join(map(str, grid))} patch "
                                 f"grid and needs a mask_token; got {tuple(token_mask.shape)}")
            x = torch.where(token_mask.unsqueeze(-1), mask_token.to(x.dtype), x)
        pos = self.position_embedding(grid, x.device)
        if pos is not None:
            x = x + pos[:, 1:].to(x.dtype)
        if self.cls_token is not None:
            cls = self.cls_token.expand(b, -1, -1)
            if pos is not None:
                cls = cls + pos[:, :1].to(x.dtype)
            x = torch.cat((cls, x), dim=1)
        return x, grid

    def patchify(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple[int, ...]]:
        """Images ``[B, C, H, W]`` -> patch tokens ``[B, h * w, D]`` (row-major) and their grid (h, w)."""
        x = self.patch_embed(x)
        b, h, w, d = x.shape
        return x.reshape(b, h * w, d), (h, w)

    def position_embedding(self, grid: Tuple[int, int], device=None) -> Optional[torch.Tensor]:
        """Absolute position table ``[1, 1 + h * w, D]`` for ``grid`` (class-token slot first)."""
        if self.pos_embed_type == "learned":
            return resize_pos_embed(self.pos_embed, self.grid, grid, num_prefix_tokens=1,
                                    antialias=self.pos_embed_antialias)
        if self.pos_embed_type == "sincos":
            return sincos_pos_embed(grid, self.embed_dim, device=device)
        return None

    def _rope_tables(self, grid: Tuple[int, int], device):
        if self.rope is None:
            return None, None
        window = (self.rope((self.window_size, self.window_size), device) if self.window_size else None)
        return self.rope(grid, device, self.num_prefix_tokens), window

    def _run_blocks(self, x: torch.Tensor, grid: Tuple[int, int], stop: Optional[int] = None, start: int = 0):
        """Yield ``(index, tokens)`` after each of blocks ``start .. stop - 1`` (adapters run the trunk in stages)."""
        rope_global, rope_window = self._rope_tables(grid, x.device)
        for i, blk in enumerate(self.blocks[start:stop], start):
            rope = rope_window if blk.window_size else rope_global
            if self.grad_checkpointing and torch.is_grad_enabled():
                x = checkpoint(blk, x, grid, rope, use_reentrant=False)
            else:
                x = blk(x, grid, rope)
            yield i, x

    def forward_features(self, x: torch.Tensor, token_mask: Optional[torch.Tensor] = None,
                         mask_token: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Images ``[B, C, H, W]`` -> normed tokens ``[B, prefix + h * w, D]`` (see :meth:`embed` for masking)."""
        x, grid = self.embed(x, token_mask, mask_token)
        for _, x in self._run_blocks(x, grid):
            pass
        return self.norm(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Tokens ``[B, N, D]`` -> logits ``[B, num_classes]`` (or pooled features if ``pre_logits``)."""
        if self.global_pool == "avg":
            x = x[:, self.num_prefix_tokens:].mean(dim=1)
        elif self.global_pool == "token":
            x = x[:, 0]
        x = self.head_drop(self.fc_norm(x))
        return x if pre_logits else self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features, then the head.

        Args:
            x: images ``[B, C, H, W]`` (any size: padded to the patch, positions resampled); clips
                ``[B, C, T, H, W]`` for :class:`~eva.backbone.video.EVAVideoViT`.

        Returns:
            ``[B, num_classes]`` logits; pooled features ``[B, D]`` with ``num_classes=0``; all tokens ``[B, N, D]``
            with ``num_classes=0, global_pool=""`` (the detection / segmentation backbones).
        """
        return self.forward_head(self.forward_features(x))

    def forward_intermediates(
            self,
            x: torch.Tensor,
            indices: Optional[Union[int, Sequence[int]]] = None,
            norm: bool = False,
            output_fmt: Optional[str] = None,
            return_prefix_tokens: bool = False,
            stop_early: bool = False,
            intermediates_only: bool = False,
    ):
        """Features after chosen blocks: the contract every framework adapter uses.

        Args:
            x: images ``[B, C, H, W]`` (clips ``[B, C, T, H, W]`` for the video model).
            indices: block indices (negative counts from the end), or an int ``n`` for the last ``n`` blocks;
                ``None`` takes every block.
            norm: apply the final ``norm`` to each intermediate.
            output_fmt: ``"NCHW"`` -> ``[B, D, h, w]`` maps (video: ``"NCTHW"`` -> ``[B, D, t, h, w]``); ``"NLC"`` ->
                ``[B, N, D]`` tokens; ``None``: the model's maps (:attr:`map_fmt`).
            return_prefix_tokens: pair each map with its prefix tokens ``[B, prefix, D]``.
            stop_early: skip blocks after the last requested one.
            intermediates_only: return only the list.

        Returns:
            ``list`` of features, or ``(final normed tokens, list)``.
        """
        output_fmt = output_fmt or self.map_fmt
        if output_fmt not in (self.map_fmt, "NLC"):
            raise ValueError(f"output_fmt must be {self.map_fmt!r} or 'NLC', got {output_fmt!r}")
        take = self._resolve_indices(indices)
        stop = max(take) + 1 if (stop_early or intermediates_only) else None
        x, grid = self.embed(x)
        feats = []
        for i, x in self._run_blocks(x, grid, stop):
            if i in take:
                feats.append(self.norm(x) if norm else x)
        npt = self.num_prefix_tokens
        prefixes = [f[:, :npt] for f in feats]
        feats = [f[:, npt:] for f in feats]
        if output_fmt == self.map_fmt:
            feats = [f.reshape(f.shape[0], *grid, -1).movedim(-1, 1).contiguous() for f in feats]
        if return_prefix_tokens:
            feats = list(zip(feats, prefixes))
        if intermediates_only:
            return feats
        return self.norm(x), feats

    def _resolve_indices(self, indices) -> List[int]:
        if indices is None:
            return list(range(self.depth))
        if isinstance(indices, int):
            if not 0 < indices <= self.depth:
                raise ValueError(f"cannot take the last {indices} of {self.depth} blocks")
            return list(range(self.depth - indices, self.depth))
        if len(indices) == 0:
            raise ValueError("indices is empty: name at least one block (or None for all, an int n for the last n)")
        out = [i + self.depth if i < 0 else i for i in indices]
        bad = [i for i in indices if not -self.depth <= i < self.depth]
        if bad:
            raise ValueError(f"block indices {bad} out of range for depth {self.depth}")
        return out
