"""FP8 (e4m3) inference for frozen linear layers, for the MIM teacher's GEMMs.

Weights are quantised once, with one scale per output channel; activations are quantised on the fly, with one
scale per token (row). Both scales go to ``torch._scaled_mm``. Row-wise scales keep transformer activations,
whose outlier channels would swamp a single per-tensor scale, usable; the error is still e4m3's (3 mantissa
bits), several times bf16's. On an H200 these GEMMs ran 1.5-1.7x the bf16 rate at EVA-01-g's shapes
(``benchmarks/results/gpu_h200_profile_2026-11-28.json``). Under ``torch.compile`` the activation quantisation
fuses into the kernel that produces the activation.

``scaling="tensor"`` is the cheaper alternative: one scale per weight and one static scale per input, calibrated
on the first batch. Quantising an input is then elementwise, so it fuses into the kernel that produces the input
(LayerNorm, GELU) without a row reduction, and the GEMM is cuBLAS's tensor-wise FP8 one.

Only for modules that never train: there is no backward.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

FP8 = torch.float8_e4m3fn
FP8_MAX = torch.finfo(FP8).max  # 448
_EPS = 1e-12


def quantize_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row-wise FP8 quantisation.

    Args:
        x: ``[M, K]`` in any float dtype.

    Returns:
        ``(q, scale)``: ``q`` ``[M, K]`` e4m3 and ``scale`` ``[M, 1]`` fp32 with ``x ~= q * scale``.
    """
    x = x.float()
    scale = x.abs().amax(dim=1, keepdim=True).clamp(min=_EPS) / FP8_MAX
    return (x / scale).clamp(-FP8_MAX, FP8_MAX).to(FP8), scale


def quantize_tensor(x: torch.Tensor, scale: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Tensor-wise FP8 quantisation.

    Args:
        x: any shape, any float dtype.
        scale: 0-d fp32 scale to use (values beyond ``448 * scale`` saturate); ``None``: from ``x``'s maximum.

    Returns:
        ``(q, scale)``: ``q`` e4m3 of ``x``'s shape and ``scale`` a 0-d fp32 tensor with ``x ~= q * scale``.
    """
    x = x.float()
    if scale is None:
        scale = x.abs().amax().clamp(min=_EPS) / FP8_MAX
    return (x / scale).clamp(-FP8_MAX, FP8_MAX).to(FP8), scale


class Float8Linear(nn.Module):
    """A frozen ``nn.Linear`` computed as an FP8 GEMM, bf16 output.

    Args:
        linear: the layer to convert; its ``in_features`` and ``out_features`` must be multiples of 16 (the
            FP8 tensor-core tile).
        fast_accum: Hopper's fast FP8 accumulation (``torch._scaled_mm(use_fast_accum=True)``), which does not
            keep every partial sum in fp32: 2-15% faster GEMMs on an H200 at EVA-01-g's shapes.
        scaling: ``"row"``: a scale per output channel of the weight and per row (token) of each input, computed
            on the fly. ``"tensor"``: one scale for the weight and one static scale for the input, set from the
            first input's maximum times ``headroom`` (later inputs beyond it saturate at +-448 steps).
        headroom: calibration margin for ``"tensor"``; e4m3 is floating point, so the margin costs range at the
            small end, not mantissa bits.

    With ``"tensor"``, each process calibrates on its own first batch (data-parallel ranks may differ slightly),
    and a layer built under ``torch.inference_mode()`` must also calibrate under it (its scale is then an
    inference tensor).
    """

    def __init__(self, linear: nn.Linear, fast_accum: bool = True, scaling: str = "row", headroom: float = 2.0):
        super().__init__()
        if scaling not in ("row", "tensor"):
            raise ValueError(f"FP8 scaling must be 'row' or 'tensor', got {scaling!r}")
        self.fast_accum, self.scaling, self.headroom = fast_accum, scaling, headroom
        if linear.in_features % 16 or linear.out_features % 16:
            raise ValueError(f"FP8 GEMMs need both widths divisible by 16, got {linear.in_features} -> "
                             f"{linear.out_features}; leave this layer in bf16")
        self.in_features, self.out_features = linear.in_features, linear.out_features
        if scaling == "row":
            w, w_scale = quantize_rows(linear.weight.detach())
            w_scale = w_scale.t().contiguous()  # [1, out]
        else:
            w, w_scale = quantize_tensor(linear.weight.detach())  # 0-d
            self.register_buffer("input_scale", torch.zeros((), device=w.device))  # 0: not calibrated
        self.calibrated = scaling == "row"
        self.register_buffer("weight", w)  # [out, in] e4m3
        self.register_buffer("weight_scale", w_scale)  # fp32
        bias = linear.bias
        self.register_buffer("bias", None if bias is None else bias.detach().to(torch.bfloat16))

    def _apply(self, fn, recurse=True):
        # .to(dtype) / .half() / .float() must not recast the e4m3 weight or its fp32 scales: keep their dtypes,
        # follow only device moves
        kept = {k: getattr(self, k) for k in ("weight", "weight_scale", "input_scale") if hasattr(self, k)}
        super()._apply(fn, recurse)
        for name, old in kept.items():
            if getattr(self, name).dtype != old.dtype:
                setattr(self, name, old.to(getattr(self, name).device))
        return self

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if self.scaling == "tensor":
            self.calibrated = bool(self.input_scale > 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[..., in_features]`` -> ``[..., out_features]`` bf16."""
        lead = x.shape[:-1]
        x = x.reshape(-1, self.in_features)
        if self.scaling == "row":
            q, scale = quantize_rows(x)
        else:
            if not self.calibrated:  # the first batch sets the static scale (a Python flag: no graph break)
                self.input_scale.copy_(x.detach().abs().amax().float().clamp(min=_EPS) * self.headroom / FP8_MAX)
                self.calibrated = True
            q, scale = quantize_tensor(x, self.input_scale)
        # mat2 must be column-major: the row-major [out, in] weight viewed transposed is exactly that
        out = torch._scaled_mm(q, self.weight.t(), scale_a=scale, scale_b=self.weight_scale,
                               out_dtype=torch.bfloat16, use_fast_accum=self.fast_accum)
        if self.bias is not None:
            out = out + self.bias
        return out.view(*lead, self.out_features)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, fp8=e4m3 {self.scaling}-wise"
                + ("" if self.calibrated else ", input scale not calibrated yet"))


def convert_to_float8_(module: nn.Module, keep: Optional[Callable[[str, nn.Linear], bool]] = None,
                       scaling: str = "row") -> list[str]:
    """Replace, in place, every ``nn.Linear`` of a frozen ``module`` by :class:`Float8Linear`.

    Our :class:`~eva.backbone.layers.Attention` layers get their q/v biases folded into ``qkv`` first
    (:meth:`~eva.backbone.layers.Attention.fold_qkv_bias_`); a ``qkv`` that other code reads through its weight
    (timm's EVA/BEiT attention with ``q_bias``) is left as it is.

    Args:
        module: the model.
        keep: ``keep(name, linear)`` -> True leaves that layer as it is. Layers whose widths are not multiples
            of 16 are always kept.
        scaling: :class:`Float8Linear`'s ``"row"`` or ``"tensor"`` scaling.

    Returns:
        The names of the converted layers.
    """
    from .attention import Attention
    converted = []
    for name, child in list(module.named_modules()):
        if isinstance(child, Attention):
            child.fold_qkv_bias_()
        read_through_weight = getattr(child, "q_bias", None) is not None
        for attr, sub in list(child.named_children()):
            if type(sub) is not nn.Linear or (read_through_weight and attr == "qkv"):
                continue
            full = f"{name}.{attr}" if name else attr
            if sub.in_features % 16 or sub.out_features % 16 or (keep is not None and keep(full, sub)):
                continue
            setattr(child, attr, Float8Linear(sub, scaling=scaling))
            converted.append(full)
    return converted
