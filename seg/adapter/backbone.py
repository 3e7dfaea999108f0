"""EVA + ViT-Adapter as an mmseg / mmdet backbone: four normalised maps at strides 4, 8, 16, 32."""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.registry import MODELS
from timm.layers import trunc_normal_
from torch import nn

from ..backbone import EVASegBackbone
from .interaction import InteractionBlock
from .levels import Levels
from .spatial_prior import SpatialPriorModule


def _check_stages(stages: Sequence[Sequence[int]], depth: int) -> Tuple[Tuple[int, int], ...]:
    stages = tuple((int(a), int(b)) for a, b in stages)
    expected, bad = 0, False
    for a, b in stages:
        bad |= a != expected or b < a
        expected = b + 1
    if bad or expected != depth or len(stages) != 4:
        example = [[i * depth // 4, (i + 1) * depth // 4 - 1] for i in range(4)]
        raise ValueError(f"interaction_indexes {[list(s) for s in stages]} must split blocks 0..{depth - 1} into "
                         f"4 consecutive [first, last] stages (one per output stride), e.g. {example}")
    return stages


@MODELS.register_module(force=True)
class EVAAdapterBackbone(EVASegBackbone):
    """An EVA ViT with ViT-Adapter (Chen et al., 2023), as in BAAI's EVA-01 Mask2Former recipe.

    The ViT runs in stages (``interaction_indexes``). Before each stage an injector lets the ViT's patch tokens
    read a convolutional pyramid (strides 8, 16, 32) through deformable attention; after it, extractors let the
    pyramid read the ViT tokens. Outputs: the pyramid (plus a stride-4 map from the stem and a 2x deconvolution),
    with each stage's ViT output resized onto it, batch-normalised: ``[B, D, H/4, W/4]`` ... ``[B, D, H/32, W/32]``.
    Parameter names follow ViT-Adapter's (``spm``, ``interactions``, ``level_embed``, ``up``, ``norm1``..``norm4``);
    the ViT's stay ``blocks.<i>`` etc. for the shared layer-decay rule, which gives the adapter the full lr.

    Args:
        variant: an ``eva.backbone`` variant (EVA-01-g: ``"eva_giant_patch14_224"``).
        img_size: crop size the position table is stored for (other sizes are resampled on the fly).
        patch_size: ViT patch size (16 in the recipe; 14-pixel checkpoints are converted when loaded).
        interaction_indexes: four consecutive ``[first, last]`` block ranges covering every block, one per
            output stride (EVA-01-g: ``[[0, 9], [10, 19], [20, 29], [30, 39]]``); default: four equal stages.
        conv_inplane: width of the spatial prior's stem.
        deform_num_heads: heads of the deformable attentions.
        n_points: sampling points per head and level.
        deform_ratio: value projection width as a fraction of ``D``.
        cffn_ratio: ConvFFN hidden width fraction in the extractors (0: none).
        injector_init_value: initial injector gain (0: the ViT's features are untouched at the start).
        extra_extractors: extractors added after the last stage.
        add_vit_feature: add each stage's ViT output (resized) to the pyramid level of the same index.
        drop_path_rate: stochastic depth of the ViT blocks and of the extractors' ConvFFN.
        norm_cfg: mmcv norm config of the stem and of the output norms.
        class_token_position: add the position table's class-token row to the class token. BAAI's adapter
            does not (its class token enters the blocks bare), so the default follows it and its released
            weights give its outputs.
        pretrained: backbone checkpoint loaded at construction (the adapter starts fresh).
        grad_checkpointing: recompute blocks and interactions in the backward pass.
        init_cfg: accepted for mmengine and ignored (initialisation happens at construction).
        **overrides: other ``EVAViT`` arguments.

    Inputs are zero-padded at the bottom and right to a multiple of 32 and of the patch size, so that every level
    covers the same image area, as BAAI's ``ResizeToMultiple(32)`` ensures; outputs are cropped back to
    ``ceil(H / s)``.
    """

    FRESH = ("level_embed", "spm.", "interactions.", "up.", "norm1.", "norm2.", "norm3.", "norm4.")

    def __init__(self, variant: str, img_size: int = 896, patch_size: int = 16,
                 interaction_indexes: Optional[Sequence[Sequence[int]]] = None, conv_inplane: int = 64,
                 deform_num_heads: int = 16, n_points: int = 4, deform_ratio: float = 0.5, cffn_ratio: float = 0.25,
                 injector_init_value: float = 0.0, extra_extractors: int = 2, add_vit_feature: bool = True,
                 drop_path_rate: float = 0.0, norm_cfg: dict = dict(type="SyncBN", requires_grad=True),
                 class_token_position: bool = False, pretrained: Optional[str] = None,
                 grad_checkpointing: bool = False, init_cfg=None, **overrides):
        super().__init__(variant, img_size=img_size, patch_size=patch_size, out_indices=(-1,),
                         drop_path_rate=drop_path_rate, pretrained=None, **overrides)
        depth, dim = self.depth, self.embed_dim
        if interaction_indexes is None:
            interaction_indexes = [[i * depth // 4, (i + 1) * depth // 4 - 1] for i in range(4)]
        self.interaction_indexes = _check_stages(interaction_indexes, depth)
        self.out_indices = tuple(b for _, b in self.interaction_indexes)
        self.add_vit_feature, self.class_token_position = add_vit_feature, class_token_position
        self.level_embed = nn.Parameter(torch.zeros(3, dim))
        self.spm = SpatialPriorModule(conv_inplane, dim, norm_cfg)
        last = len(self.interaction_indexes) - 1
        self.interactions = nn.Sequential(*[
            InteractionBlock(dim, deform_num_heads, n_points, deform_ratio, cffn_ratio, drop_path_rate,
                             injector_init_value, extra_extractors if i == last else 0)
            for i in range(len(self.interaction_indexes))])
        self.up = nn.ConvTranspose2d(dim, dim, 2, 2)
        self.norm1, self.norm2, self.norm3, self.norm4 = (build_norm_layer(norm_cfg, dim)[1] for _ in range(4))
        self._init_adapter()
        self.set_grad_checkpointing(grad_checkpointing)
        self.load_report = self.load_backbone(pretrained)

    def _init_adapter(self) -> None:
        for m in [self.spm, self.interactions, self.up]:
            for mod in m.modules():
                if isinstance(mod, nn.Linear):
                    trunc_normal_(mod.weight, std=0.02)
                    nn.init.zeros_(mod.bias)
                elif isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
                    fan_out = mod.kernel_size[0] * mod.kernel_size[1] * mod.out_channels // mod.groups
                    nn.init.normal_(mod.weight, 0.0, math.sqrt(2.0 / fan_out))
                    if mod.bias is not None:
                        nn.init.zeros_(mod.bias)
        for mod in self.interactions.modules():
            if hasattr(mod, "sampling_offsets"):  # mmcv's own start: offsets on a ring around each reference
                mod.init_weights()
        nn.init.normal_(self.level_embed)

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        super().set_grad_checkpointing(enable)
        for block in getattr(self, "interactions", []):
            block.grad_checkpointing = enable

    def embed(self, x: torch.Tensor, token_mask: Optional[torch.Tensor] = None,
              mask_token: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Tuple[int, int]]:
        """:meth:`EVAViT.embed`, with the class token left without its position unless ``class_token_position``."""
        tokens, grid = super().embed(x, token_mask, mask_token)
        if self.cls_token is not None and not self.class_token_position:
            tokens = torch.cat([self.cls_token.expand(tokens.shape[0], -1, -1).to(tokens.dtype), tokens[:, 1:]], 1)
        return tokens, grid

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Images ``[B, 3, H, W]`` (any size) -> ``[B, D, ceil(H / s), ceil(W / s)]`` for s = 4, 8, 16, 32."""
        h, w = x.shape[-2:]
        multiple = math.lcm(32, self.patch_size)
        x = F.pad(x, (0, -w % multiple, 0, -h % multiple))
        c1, c2, c3, c4 = self.spm(x)
        pyramid = Levels([m.shape[-2:] for m in (c2, c3, c4)], x.device)
        c = torch.cat([t + e for t, e in zip(Levels.flatten([c2, c3, c4]).split(pyramid.sizes, 1),
                                             self.level_embed)], 1)
        tokens, grid = self.embed(x)
        vit = Levels([grid], x.device)
        vit_reference, pyramid_reference = vit.reference_points(), pyramid.reference_points()
        npt = self.num_prefix_tokens
        stage_maps = []
        for block, (first, last) in zip(self.interactions, self.interaction_indexes):
            patches = block.inject(tokens[:, npt:], vit_reference, c, pyramid)
            tokens = torch.cat([tokens[:, :npt], patches], 1) if npt else patches
            for _, tokens in self._run_blocks(tokens, grid, last + 1, first):
                pass
            c = block.extract(c, pyramid, pyramid_reference, tokens[:, npt:], vit)
            stage_maps.append(vit.split_maps(tokens[:, npt:])[0])
        c2, c3, c4 = pyramid.split_maps(c)
        c1 = c1 + self.up(c2)[..., :c1.shape[-2], :c1.shape[-1]]
        outs = [c1, c2, c3, c4]
        if self.add_vit_feature:
            outs = [o + F.interpolate(m, size=o.shape[-2:], mode="bilinear", align_corners=False)
                    for o, m in zip(outs, stage_maps)]
        norms = (self.norm1, self.norm2, self.norm3, self.norm4)
        return tuple(norm(o)[..., :math.ceil(h / s), :math.ceil(w / s)]
                     for norm, o, s in zip(norms, outs, (4, 8, 16, 32)))
