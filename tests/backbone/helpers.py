"""Test helpers: randomised peers and files in the layouts BAAI released."""
from __future__ import annotations

import re

import torch


def randomize_(model: torch.nn.Module, scale: float = 0.02) -> torch.nn.Module:
    """Perturb every parameter (incl. biases, norms, layer scale) so parity tests exercise all of them."""
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            p.add_(torch.randn(p.shape, generator=g) * scale)
    return model


def to_baai_layout(native: dict, split_qkv: bool, mlp: str = "gelu", mim: bool = False,
                   rope_grid: int | None = None) -> dict:
    """Write a native state dict the way the original EVA / EVA-02 code names its tensors.

    Args:
        split_qkv: EVA-02 B/L style ``q_proj``/``k_proj``/``v_proj`` (+ ``q_bias``/``v_bias``).
        mlp: ``"gelu"`` (fc1/fc2), ``"w12"`` (packed SwiGLU, Ti/S) or ``"w123"`` (w1/w2/w3 + ffn_ln, B/L).
        mim: add the pre-training ``mask_token`` and ``lm_head``, and store ``fc_norm`` as the final ``norm``.
        rope_grid: add persisted RoPE buffers like EVA-02 releases do.
    """
    out = {}
    for k, v in native.items():
        if m := re.match(r"(blocks\.\d+)\.ls([12])\.gamma$", k):
            out[f"{m.group(1)}.gamma_{m.group(2)}"] = v
            continue
        if split_qkv and k.endswith("attn.qkv.weight"):
            base = k[: -len("qkv.weight")]
            q, kk, vv = v.chunk(3)
            out[base + "q_proj.weight"], out[base + "k_proj.weight"], out[base + "v_proj.weight"] = q, kk, vv
            continue
        if m := re.match(r"(blocks\.\d+\.mlp)\.(fc1|fc2|norm)\.(weight|bias)$", k):
            base, layer, kind = m.groups()
            if mlp == "w12":
                layer = {"fc1": "w12", "fc2": "w3", "norm": "ffn_ln"}[layer]
            elif mlp == "w123":
                if layer == "fc1":
                    g, x = v.chunk(2)
                    out[f"{base}.w1.{kind}"], out[f"{base}.w2.{kind}"] = g, x
                    continue
                layer = {"fc2": "w3", "norm": "ffn_ln"}[layer]
            out[f"{base}.{layer}.{kind}"] = v
            continue
        k = k.replace("attn.norm.", "attn.inner_attn_ln.")
        if mim and k.startswith("fc_norm."):
            k = k.replace("fc_norm.", "norm.")
        out[k] = v
    if mim:
        dim = native["patch_embed.proj.weight"].shape[0]
        out["mask_token"] = torch.zeros(1, 1, dim)
        out["lm_head.weight"] = torch.randn(1024, dim)
        out["lm_head.bias"] = torch.zeros(1024)
    if rope_grid:
        out["rope.freqs_cos"] = torch.randn(rope_grid * rope_grid, 64)
        out["rope.freqs_sin"] = torch.randn(rope_grid * rope_grid, 64)
    return out
