"""Feed-forward layers: GELU MLP (EVA-01, EVA-02-E) and SwiGLU with optional sub-LN (EVA-02)."""
from __future__ import annotations

import math
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from timm.layers import Mlp
from torch import nn

#: SwiGLU hidden widths are padded to a multiple of this (EVA-02-L's 2730 -> 2752): GEMMs whose inner or
#: outer size is not a multiple of 64 elements fall off the fast tensor-core kernels.
MLP_ALIGN = 64


class SwiGLU(nn.Module):
    """SwiGLU feed-forward ``fc2(norm(silu(gate) * value))`` with packed ``fc1 = [gate; value]``.

    The hidden width is stored padded to ``align`` with zero weights, which computes exactly the same function
    (padded gate and value are 0, ``silu(0) * 0 = 0``, the sub-LN normalises over the true width only and the
    padded ``fc2`` columns are 0) and keeps every gradient of the padding at zero, so training preserves it.
    ``state_dict`` and ``load_state_dict`` use the true width, so checkpoints stay interchangeable with timm's
    and BAAI's.

    Args:
        dim: token width.
        hidden_dim: true width of each of the gate and value halves.
        norm_layer: sub-LN on the hidden activations before ``fc2`` (EVA-02 B/L); a LayerNorm factory.
        drop: dropout after the activation and after ``fc2``.
        align: pad the hidden width to a multiple of this (1 disables padding).
    """

    def __init__(self, dim: int, hidden_dim: int, norm_layer: Optional[Callable] = None, drop: float = 0.0,
                 align: int = MLP_ALIGN):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.padded_dim = math.ceil(hidden_dim / align) * align
        self.fc1 = nn.Linear(dim, 2 * self.padded_dim)
        self.act = nn.SiLU()
        self.drop1 = nn.Dropout(drop)
        self.norm = norm_layer(hidden_dim) if norm_layer is not None else None
        self.fc2 = nn.Linear(self.padded_dim, dim)
        self.drop2 = nn.Dropout(drop)
        self.packed_fc1: Optional[bool] = None  # one fc1 GEMM (True) or two (False); None: one except on the CPU
        if self.padded_dim != hidden_dim:
            self._register_state_dict_hook(SwiGLU._unpad_state_dict)
            self._register_load_state_dict_pre_hook(self._pad_state_dict)
            self.zero_padding_()

    @property
    def num_pad(self) -> int:
        return self.padded_dim - self.hidden_dim

    @torch.no_grad()
    def zero_padding_(self) -> None:
        """Reset the padded weights to zero (after an initialiser touched every weight)."""
        if not self.num_pad or self.fc1.weight.is_meta:
            return
        h, p = self.hidden_dim, self.padded_dim
        for half in (0, p):
            self.fc1.weight[half + h:half + p].zero_()
            self.fc1.bias[half + h:half + p].zero_()
        self.fc2.weight[:, h:].zero_()

    @staticmethod
    def _unpad_state_dict(module: "SwiGLU", state_dict, prefix, local_metadata):
        h, p = module.hidden_dim, module.padded_dim
        for name in ("weight", "bias"):
            key = f"{prefix}fc1.{name}"
            if key in state_dict:
                t = state_dict[key]
                state_dict[key] = torch.cat((t[:h], t[p:p + h]))
        key = f"{prefix}fc2.weight"
        if key in state_dict:
            state_dict[key] = state_dict[key][:, :h]
        return state_dict

    def _pad_state_dict(self, state_dict, prefix, *args):
        h, n = self.hidden_dim, self.num_pad
        for name in ("weight", "bias"):
            key = f"{prefix}fc1.{name}"
            t = state_dict.get(key)
            if t is not None and t.shape[0] == 2 * h:
                pad = t.new_zeros((n,) + t.shape[1:])
                state_dict[key] = torch.cat((t[:h], pad, t[h:], pad))
        key = f"{prefix}fc2.weight"
        t = state_dict.get(key)
        if t is not None and t.dim() == 2 and t.shape[1] == h:
            state_dict[key] = F.pad(t, (0, n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[..., dim]`` -> ``[..., dim]``."""
        packed = self.packed_fc1 if self.packed_fc1 is not None else x.device.type != "cpu"
        if packed or type(self.fc1) is not nn.Linear:  # a swapped fc1 (FP8) is only callable whole
            gate, value = self.fc1(x).chunk(2, dim=-1)  # one GEMM; compiled, the gate fuses into one kernel
        else:
            # eager CPU: two GEMMs on the weight's row halves give contiguous gate and value, so the elementwise
            # gate and its backward (no concatenation of the halves' gradients) run faster (benchmarks/backbone.py;
            # README, CPU). Same parameters, same function.
            w, b, p = self.fc1.weight, self.fc1.bias, self.padded_dim
            gate, value = F.linear(x, w[:p], b[:p]), F.linear(x, w[p:], b[p:])
        x = self.drop1(self.act(gate) * value)
        if self.norm is not None:
            if self.num_pad:
                # normalise the true channels only; the padding stays exactly zero for fc2
                x = F.pad(self.norm(x[..., :self.hidden_dim]), (0, self.num_pad))
            else:
                x = self.norm(x)
        return self.drop2(self.fc2(x))


def linear_gelu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``gelu_tanh(x @ weight.T + bias)``; on CUDA one cuBLASLt GEMM whose epilogue applies the GELU.

    cuBLASLt's GELU epilogue is the tanh form, so every device computes that form here: it is within 5e-4
    (absolute) of exact GELU, below bf16's resolution at the activations' scale. Inductor keeps
    ``aten._addmm_activation`` as one external call, so it also fuses under ``torch.compile``.

    Args:
        x: ``[..., in]``.
        weight: ``[out, in]``.
        bias: ``[out]``.

    Returns:
        ``[..., out]``.
    """
    if x.is_cuda:
        return _addmm_gelu(x, weight, bias)
    return F.gelu(F.linear(x, weight, bias), approximate="tanh")


def _addmm_gelu(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    # GELU form by device: CUDA's cuBLASLt epilogue is tanh, the CPU kernel exact (used only by the tests)
    if torch.is_autocast_enabled(x.device.type):  # autocast does not cover this op: cast as it would for linear
        dtype = torch.get_autocast_dtype(x.device.type)
        x, weight, bias = x.to(dtype), weight.to(dtype), bias.to(dtype)
    flat = x.reshape(-1, x.shape[-1])
    return torch._addmm_activation(bias, flat, weight.t(), use_gelu=True).view(*x.shape[:-1], weight.shape[0])


class GeluMlp(Mlp):
    """timm's ``Mlp`` (fc1 -> GELU -> [norm] -> fc2), with fc1 and its GELU optionally fused for CUDA inference.

    With ``gelu_epilogue`` set (:meth:`~eva.backbone.EVAViT.set_gelu_epilogue`), CUDA forwards without autograd
    run fc1 and the GELU as one GEMM (:func:`linear_gelu`): the hidden activations (4-6x the token width) are
    written once instead of written, read and written again. It changes exact GELU to its tanh form; training,
    the CPU and a swapped fc1 (FP8) keep the plain path.
    """

    gelu_epilogue: bool = False

    def _use_epilogue(self, x: torch.Tensor) -> bool:
        return (self.gelu_epilogue and x.is_cuda and not torch.is_grad_enabled() and type(self.fc1) is nn.Linear
                and self.fc1.bias is not None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[..., dim]`` -> ``[..., dim]``."""
        if self._use_epilogue(x):
            x = self.norm(self.drop1(linear_gelu(x, self.fc1.weight, self.fc1.bias)))
            return self.drop2(self.fc2(x))
        return super().forward(x)


def build_mlp(dim: int, hidden_dim: int, kind: str = "gelu", norm_layer: Optional[Callable] = None,
              drop: float = 0.0, align: int = MLP_ALIGN) -> nn.Module:
    """Create the block's MLP.

    Args:
        dim: token width.
        hidden_dim: hidden width (for SwiGLU: the width of each of the gate and value halves).
        kind: ``"gelu"`` (:class:`GeluMlp`: timm's fc1 -> GELU -> fc2) or ``"swiglu"`` (:class:`SwiGLU`).
        norm_layer: sub-LN applied on the hidden activations before ``fc2`` (EVA-02 B/L, normformer style).
        drop: dropout after activation and after fc2.
        align: SwiGLU hidden-width padding (see :class:`SwiGLU`).

    Returns:
        A module mapping ``[..., dim]`` to ``[..., dim]`` with parameters ``fc1``, ``[norm]``, ``fc2``.
    """
    if kind == "gelu":
        return GeluMlp(dim, hidden_dim, act_layer=nn.GELU, norm_layer=norm_layer, drop=drop)
    if kind == "swiglu":
        return SwiGLU(dim, hidden_dim, norm_layer=norm_layer, drop=drop, align=align)
    raise ValueError(f"unknown mlp kind {kind!r}; expected 'gelu' or 'swiglu'")
