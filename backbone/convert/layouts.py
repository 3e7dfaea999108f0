"""Source layouts: unwrap containers, recognise who wrote a state dict, rename it to the native layout.

Native (``eva``) names: ``patch_embed.proj``, ``cls_token``, ``pos_embed``, ``blocks.<i>.{norm1, norm2}``,
``blocks.<i>.attn.{qkv, q_bias, v_bias, norm, proj, rel_pos_h, rel_pos_w}``, ``blocks.<i>.{ls1, ls2}.gamma``,
``blocks.<i>.mlp.{fc1, norm, fc2}`` (SwiGLU: ``fc1`` packs [gate; value]), ``norm``, ``fc_norm``, ``head``.
"""
from __future__ import annotations

import re
from typing import Dict, Tuple

import torch

from .report import LoadReport

StateDict = Dict[str, torch.Tensor]

CONTAINER_KEYS = ("model_ema", "state_dict_ema", "model", "module", "state_dict")
PREFIXES = ("module.", "backbone.net.", "backbone.", "student.", "visual.trunk.", "visual.")

# Keys that only make sense in pre-training or are recomputed: dropped with a reason.
_DROP_RULES = [
    (re.compile(r"^mask_token$"), "MIM mask token (pre-training only)"),
    (re.compile(r"^lm_head\."), "MIM prediction head (pre-training only)"),
    (re.compile(r"(^|\.)rope(_win|_glb)?\.(freqs_cos|freqs_sin|freqs|periods)$"),
     "RoPE tables are recomputed from the grid"),
    (re.compile(r"\.attn\.k_bias$"), "k bias is fixed at zero"),
]


def unwrap(obj, report: LoadReport) -> StateDict:
    """Strip training containers (``model_ema``, ``model``, ``module``...) and common prefixes."""
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ValueError(f"expected a state dict or a checkpoint dict, got {type(obj).__name__}")
    while isinstance(obj, dict) and not _is_state_dict(obj):
        for key in CONTAINER_KEYS:
            if key in obj and isinstance(obj[key], dict):
                report.unwrapped.append(key)
                obj = obj[key]
                break
        else:
            raise ValueError("no state dict found: expected tensors or one of the container keys "
                             f"{CONTAINER_KEYS}, got keys {sorted(obj)[:10]}")
    sd = dict(obj)
    for prefix in PREFIXES:
        if any(k.startswith(prefix + "blocks.") or k.startswith(prefix + "patch_embed.") for k in sd):
            for k in sd:
                if not k.startswith(prefix):  # e.g. a CLIP text tower or detection heads
                    report.dropped.append((k, f"outside the backbone ('{prefix}*')"))
            sd = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
            report.unwrapped.append(prefix)
    return sd


def _is_state_dict(obj: dict) -> bool:
    return any(isinstance(v, torch.Tensor) for v in obj.values())


def detect_source(sd: StateDict) -> str:
    """Name the writer of ``sd``: ``baai`` (original EVA/EVA-02/EVA-CLIP code), ``timm``, or ``eva``."""
    keys = set(sd)
    if any(re.search(r"mlp\.(w12|w1|w3|ffn_ln)\.|inner_attn_ln|^mask_token$|^lm_head\.|rope\.freqs", k)
           for k in keys) or any(k.endswith("attn.q_proj.weight") for k in keys) and \
            any(k.endswith("attn.q_bias") for k in keys):
        return "baai"
    if any(re.search(r"mlp\.fc1_[gx]\.|\.gamma_1$|attn\.q_proj\.bias", k) for k in keys):
        return "timm"
    return "eva"


def to_native(sd: StateDict, report: LoadReport) -> StateDict:
    """Rename/fuse any supported layout into native names (pure function of ``sd``)."""
    out: StateDict = {}
    fuse: Dict[str, Dict[str, torch.Tensor]] = {}
    for key, value in sd.items():
        reason = next((why for rule, why in _DROP_RULES if rule.search(key)), None)
        if reason:
            report.dropped.append((key, reason))
            continue
        new = _rename(key)
        m = re.match(r"(.*\.attn)\.(q|k|v)_proj\.(weight|bias)$", new)
        if m:
            base, part, kind = m.groups()
            if kind == "bias":
                target = f"{base}.{part}_bias"
                if part == "k":
                    report.dropped.append((key, "k bias is fixed at zero"))
                    continue
                out[target] = value
                report.renamed.append((key, target))
            else:
                fuse.setdefault(f"{base}.qkv.weight", {})[part] = value
                report.renamed.append((key, f"{base}.qkv.weight"))
            continue
        m = re.match(r"(.*\.mlp)\.(fc1_g|fc1_x|w1|w2)\.(weight|bias)$", key)
        if m:
            base, part, kind = m.groups()
            slot = "g" if part in ("fc1_g", "w1") else "x"
            fuse.setdefault(f"{base}.fc1.{kind}", {})[slot] = value
            report.renamed.append((key, f"{base}.fc1.{kind}"))
            continue
        out[new] = value
        if new != key:
            report.renamed.append((key, new))
    for target, parts in fuse.items():
        order = ("q", "k", "v") if target.endswith("qkv.weight") else ("g", "x")
        missing = [p for p in order if p not in parts]
        if missing:
            raise ValueError(f"cannot fuse {target}: parts {missing} are absent from the checkpoint")
        out[target] = torch.cat([parts[p] for p in order], dim=0)
    return out


_RENAMES = [
    (re.compile(r"\.gamma_1$"), ".ls1.gamma"),
    (re.compile(r"\.gamma_2$"), ".ls2.gamma"),
    (re.compile(r"\.mlp\.w12\."), ".mlp.fc1."),
    (re.compile(r"\.mlp\.w3\."), ".mlp.fc2."),
    (re.compile(r"\.mlp\.ffn_ln\."), ".mlp.norm."),
    (re.compile(r"\.attn\.inner_attn_ln\."), ".attn.norm."),
]


def _rename(key: str) -> str:
    for rule, repl in _RENAMES:
        key = rule.sub(repl, key)
    return key


def native_to_timm(sd: StateDict, split_qkv: bool, split_fc1: bool) -> Tuple[StateDict, list]:
    """Export native names to timm's ``Eva`` layout.

    Args:
        sd: native state dict.
        split_qkv: timm keeps separate ``q_proj``/``k_proj``/``v_proj`` (EVA-02 B/L and their CLIP towers).
        split_fc1: timm keeps SwiGLU's ``fc1_g``/``fc1_x`` separate (SwiGLU with sub-LN).

    Returns:
        The timm state dict and ``(native, timm)`` renames.
    """
    out: StateDict = {}
    renames = []
    for key, value in sd.items():
        new = re.sub(r"\.ls([12])\.gamma$", r".gamma_\1", key)
        if split_qkv and key.endswith("attn.qkv.weight"):
            base = key[: -len("qkv.weight")]
            for part, tensor in zip("qkv", value.chunk(3, dim=0)):
                out[f"{base}{part}_proj.weight"] = tensor
            renames.append((key, f"{base}[q|k|v]_proj.weight"))
            continue
        if split_qkv and re.search(r"attn\.(q|v)_bias$", key):
            new = key.replace("_bias", "_proj.bias")
        m = re.match(r"(.*\.mlp)\.fc1\.(weight|bias)$", key)
        if split_fc1 and m:
            gate, val = value.chunk(2, dim=0)
            out[f"{m.group(1)}.fc1_g.{m.group(2)}"] = gate
            out[f"{m.group(1)}.fc1_x.{m.group(2)}"] = val
            renames.append((key, f"{m.group(1)}.fc1_[g|x].{m.group(2)}"))
            continue
        out[new] = value
        if new != key:
            renames.append((key, new))
    return out, renames
