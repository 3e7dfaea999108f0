"""Recognise the architecture a state dict belongs to, for error messages and `eva convert`."""
from __future__ import annotations

import math
import re
from typing import Dict, Tuple

import torch


def describe_state_dict(sd: Dict[str, torch.Tensor]) -> dict:
    """Width, depth, MLP kind and the registered variants a native state dict could belong to."""
    from ..variants import VARIANTS

    blocks = {int(m.group(1)) for k in sd if (m := re.match(r"blocks\.(\d+)\.", k))}
    depth = max(blocks) + 1 if blocks else 0
    w = sd.get("patch_embed.proj.weight")
    width = int(w.shape[0]) if w is not None else 0
    patch = int(w.shape[-1]) if w is not None else 0
    fc1, fc2 = sd.get("blocks.0.mlp.fc1.weight"), sd.get("blocks.0.mlp.fc2.weight")
    swiglu = fc1 is not None and fc2 is not None and fc1.shape[0] == 2 * fc2.shape[1]
    sub_ln = "blocks.0.mlp.norm.weight" in sd
    candidates = [
        name for name, a in VARIANTS.items()
        if a["embed_dim"] == width and a["depth"] == depth and (a.get("mlp_type", "gelu") == "swiglu") == swiglu
        and bool(a.get("mlp_norm", False)) == sub_ln
    ]
    summary = f"width {width}, depth {depth}, patch {patch}, {'SwiGLU' if swiglu else 'GELU'} MLP"
    return dict(width=width, depth=depth, patch=patch, swiglu=swiglu, sub_ln=sub_ln,
                candidates=candidates, summary=summary)


def match_variant(sd: Dict[str, torch.Tensor]) -> Tuple[str, dict]:
    """The registered variant closest to a native state dict, and the overrides that make it that checkpoint's
    architecture exactly (depth, patch, image size, class token, windowed relative positions), so that
    ``eva convert`` changes the layout, never the model.

    Returns:
        ``(variant name, constructor overrides)``. Raises ``ValueError`` when no variant has the width / MLP kind.
    """
    from ..variants import VARIANTS as variants

    desc = describe_state_dict(sd)
    candidates = desc["candidates"] or [
        n for n, a in variants.items() if a["embed_dim"] == desc["width"]
        and (a.get("mlp_type", "gelu") == "swiglu") == desc["swiglu"] and bool(a.get("mlp_norm")) == desc["sub_ln"]]
    inner_norm = "blocks.0.attn.norm.weight" in sd  # EVA-CLIP towers' attention norm: architecture, not a size
    candidates = [n for n in candidates if bool(variants[n].get("attn_inner_norm")) == inner_norm]
    if not candidates:
        raise ValueError(f"no registered variant has this architecture ({desc['summary']}); pass --model")
    pos = sd.get("pos_embed")

    def score(name):
        a = variants[name]
        grid = a["img_size"] // a["patch_size"]
        s = 2 * (a["depth"] == desc["depth"]) + 2 * (a.get("patch_size") == desc["patch"])
        s += pos is not None and pos.shape[1] == grid * grid + 1
        s += (a.get("global_pool", "avg") == "token") == ("norm.weight" in sd and "fc_norm.weight" not in sd)
        return s
    name = max(candidates, key=score)
    a, overrides = variants[name], {}
    if a["depth"] != desc["depth"]:
        overrides["depth"] = desc["depth"]
    if desc["patch"] and a["patch_size"] != desc["patch"]:
        overrides["patch_size"] = desc["patch"]
    if "cls_token" not in sd and "patch_embed.proj.weight" in sd:
        overrides.update(class_token=False, global_pool="")
    video = sd["patch_embed.proj.weight"].ndim == 5 if "patch_embed.proj.weight" in sd else False
    if pos is not None and not video:  # a video table is frames x grid: --frames / --img-size say what it is
        # Our tables keep the class-token slot even without a class token; other layouts may not have it (but a
        # model with a class token always has it: 17 x 17 = 16 x 18 + 1 must not read as a square grid)
        n = pos.shape[1]
        counts = (n - 1,) if "cls_token" in sd else (n - 1, n)
        tokens = next((t for t in counts if math.isqrt(t) ** 2 == t), None)
        if tokens and math.isqrt(tokens) * desc["patch"] != a["img_size"]:
            overrides["img_size"] = math.isqrt(tokens) * desc["patch"]
    rel = {int(k.split(".")[1]): int(v.shape[0]) for k, v in sd.items() if k.endswith(".attn.rel_pos_h")}
    if rel:  # decomposed relative positions: 2 * side - 1 rows, windowed blocks smaller than global ones
        overrides.update(rel_pos=True, rel_pos_grid=(max(rel.values()) + 1) // 2)
        if min(rel.values()) != max(rel.values()):
            overrides.update(window_size=(min(rel.values()) + 1) // 2,
                             global_blocks=sorted(i for i, n in rel.items() if n == max(rel.values())))
    return name, overrides
