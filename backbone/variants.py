"""Named EVA variants: numbers only. ``create_model(name, **overrides)`` builds one."""
from __future__ import annotations

from typing import Dict, List

from .model import EVAViT

_EVA01_G = dict(patch_size=14, embed_dim=1408, depth=40, num_heads=16, mlp_hidden_dim=6144, qkv_bias="qv")
# EVA-L: MAE-style; pre-trained with a fixed sin-cos table, which its fine-tuned releases learn. "learned" loads both
# (the MIM checkpoint's table as its values); pos_embed="sincos" rebuilds the pre-training model.
_EVA01_L = dict(patch_size=14, embed_dim=1024, depth=24, num_heads=16, mlp_hidden_dim=4096, qkv_bias="qkv")
_EVA02 = dict(patch_size=14, mlp_type="swiglu", qkv_bias="qv", rope=True, rope_ref_grid=16)
_EVA02_TI = dict(_EVA02, embed_dim=192, depth=12, num_heads=3, mlp_hidden_dim=512)
_EVA02_S = dict(_EVA02, embed_dim=384, depth=12, num_heads=6, mlp_hidden_dim=1024)
_EVA02_B = dict(_EVA02, embed_dim=768, depth=12, num_heads=12, mlp_hidden_dim=2048, mlp_norm=True)
_EVA02_L = dict(_EVA02, embed_dim=1024, depth=24, num_heads=16, mlp_hidden_dim=2730, mlp_norm=True)
_EVA02_E = dict(patch_size=14, embed_dim=1792, depth=64, num_heads=16, mlp_hidden_dim=15360, qkv_bias="qv",
                post_norm=True)
_CLIP = dict(global_pool="token", attn_inner_norm=True)

#: name -> constructor arguments. ``timm`` marks names that timm registers with the same architecture.
VARIANTS: Dict[str, dict] = {
    # EVA-01
    "eva_giant_patch14_224": dict(_EVA01_G, img_size=224),
    "eva_giant_patch14_336": dict(_EVA01_G, img_size=336),
    "eva_giant_patch14_560": dict(_EVA01_G, img_size=560),
    "eva_giant_patch14_clip_224": dict(_EVA01_G, img_size=224, global_pool="token"),
    "eva_large_patch14_224": dict(_EVA01_L, img_size=224),
    # EVA-02
    "eva02_tiny_patch14_224": dict(_EVA02_TI, img_size=224),
    "eva02_tiny_patch14_336": dict(_EVA02_TI, img_size=336),
    "eva02_small_patch14_224": dict(_EVA02_S, img_size=224),
    "eva02_small_patch14_336": dict(_EVA02_S, img_size=336),
    "eva02_base_patch14_224": dict(_EVA02_B, img_size=224),
    "eva02_base_patch14_448": dict(_EVA02_B, img_size=448),
    "eva02_large_patch14_224": dict(_EVA02_L, img_size=224),
    "eva02_large_patch14_448": dict(_EVA02_L, img_size=448),
    # EVA-CLIP vision towers
    "eva02_base_patch16_clip_224": dict(_EVA02_B, **_CLIP, patch_size=16, img_size=224),
    "eva02_large_patch14_clip_224": dict(_EVA02_L, **_CLIP, img_size=224),
    "eva02_large_patch14_clip_336": dict(_EVA02_L, **_CLIP, img_size=336),
    "eva02_enormous_patch14_clip_224": dict(_EVA02_E, img_size=224, global_pool="token"),
}

#: Variants without a timm counterpart.
NOT_IN_TIMM_NAMES = frozenset({"eva_large_patch14_224"})


def list_models(pattern: str = "*") -> List[str]:
    """Registered variant names, sorted.

    Args:
        pattern: shell-style filter, e.g. ``"eva02_*"``.
    """
    from fnmatch import fnmatch
    return sorted(n for n in VARIANTS if fnmatch(n, pattern))


def model_args(name: str, **overrides) -> dict:
    """Constructor arguments of variant ``name`` with ``overrides`` applied."""
    if name not in VARIANTS:
        import difflib
        close = difflib.get_close_matches(name, VARIANTS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown EVA variant {name!r}.{hint} See eva.backbone.list_models().")
    return dict(VARIANTS[name], **overrides)


def create_model(name: str, checkpoint: str | None = None, **overrides) -> EVAViT:
    """Build variant ``name`` (e.g. ``"eva02_large_patch14_224"``) with constructor ``overrides``.

    Args:
        name: a name from :func:`list_models`.
        checkpoint: optional file (any supported layout) loaded strictly after construction.
        **overrides: constructor arguments of :class:`EVAViT` (``depth``, ``img_size``, ``window_size``...).
    """
    model = EVAViT(**model_args(name, **overrides))
    model.variant = name
    if checkpoint is not None:
        from .checkpoint import load_checkpoint
        load_checkpoint(model, checkpoint, strict=True)
    return model
