"""Recognise the architecture a state dict belongs to, for error messages and `eva convert`."""
from __future__ import annotations

import re
from typing import Dict

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
