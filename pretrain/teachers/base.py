"""The teacher interface: a frozen model giving one feature vector per student patch."""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn


class Teacher(nn.Module):
    """Frozen feature target for masked image modeling.

    Subclasses implement :meth:`features`, mapping images to a feature map; the base class normalises the
    input, resamples the map onto the student's patch grid and keeps the module frozen (eval mode, no
    gradients, no autograd state).

    Args:
        out_dim: channels of the features.
        input_size: (h, w) the teacher sees; images are resized to it.
        mean, std: per-channel normalisation of images given in [0, 1].
    """

    def __init__(self, out_dim: int, input_size: Tuple[int, int], mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)):
        super().__init__()
        self.out_dim = out_dim
        self.input_size = tuple(input_size)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def freeze(self) -> "Teacher":
        self.requires_grad_(False)
        return self.eval()

    def optimize(self, dtype: Optional[str] = None, compile: Union[bool, dict] = False,
                 fp8_scaling: str = "row") -> "Teacher":
        """Make the frozen teacher cheap. Returns ``self``.

        Args:
            dtype: ``"bf16"``/``"fp16"``/``"fp32"`` weights (it never trains, so it needs no fp32 master copy),
                or ``"fp8"``: bf16, with the linear layers (all but the MLP's second) e4m3 GEMMs with row-wise
                scales (:class:`~eva.backbone.layers.fp8.Float8Linear`; an NVIDIA sm89+ GPU, or the CPU for
                tests). On an H200 the EVA-CLIP-g teacher ran 10% faster than in bf16; its targets differed from
                fp32's by 6% relative (bf16: 1.3%), cosine above 0.99
                (``benchmarks/gpu_profile.py --what teacher_variants``). The precision is set once.
            compile: ``torch.compile`` of :meth:`features` (``True`` or a dict of ``torch.compile`` arguments).
            fp8_scaling: ``"row"`` (above) or ``"tensor"``: static per-tensor scales set on the first batch, so the
                quantisation fuses into LayerNorm / GELU and fc2 runs in FP8 too (``Float8Linear``); not yet
                timed on a GPU, so not the default.
        """
        if fp8_scaling not in ("row", "tensor"):
            raise ValueError(f"fp8_scaling must be 'row' or 'tensor', got {fp8_scaling!r}")
        if dtype is not None and getattr(self, "fp8", False):
            raise ValueError("this teacher already runs in FP8 and cannot change precision: build a new one")
        if dtype is not None:
            dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32, "fp8": torch.bfloat16}
            if dtype not in dtypes:
                raise ValueError(f"teacher dtype must be one of {tuple(dtypes)}, got {dtype!r}")
            self.to(dtypes[dtype])  # the mean/std buffers follow, and forward casts images to them
            if dtype == "fp8":
                self._to_float8(("mlp.fc2",) if fp8_scaling == "row" else (), fp8_scaling)
        if compile:
            self._compile(compile if isinstance(compile, dict) else {})
        return self

    def _to_float8(self, keep_bf16: Tuple[str, ...] = ("mlp.fc2",), scaling: str = "row") -> None:
        from eva.backbone.layers.fp8 import convert_to_float8_

        # The MLP's second layer (fc2; c_proj in OpenCLIP) stays bf16: its input's per-row FP8 scale needs a row
        # reduction over GELU's output, which inductor fuses into one two-pass kernel that recomputes GELU (0.43 ms
        # against GELU's 0.16 ms per block at b64 on an H200) and so cancels fc2's faster GEMM; measured, keeping it
        # bf16 is faster and closer to fp32 (``keep_bf16=()`` converts it too, for that measurement). Tensor-wise
        # scaling has no row reduction, so there fc2 converts too. ``keep_bf16``:
        # name endings of the layers left in bf16, in eva.backbone's names (OpenCLIP's c_fc / c_proj follow them)
        open_clip_names = {"mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj"}
        endings = tuple(keep_bf16) + tuple(open_clip_names[k] for k in keep_bf16 if k in open_clip_names)

        def keep(name, linear):
            return bool(endings) and name.endswith(endings)

        if not convert_to_float8_(self, keep=keep, scaling=scaling):
            raise ValueError(f"{type(self).__name__} has no linear layer FP8 can run; use dtype='bf16'")
        self.fp8 = True

    def _compile(self, compile_kwargs: dict) -> None:
        self._features = torch.compile(self.features, **compile_kwargs)

    def train(self, mode: bool = True) -> "Teacher":
        return super().train(False)  # always in inference mode (BatchNorm statistics, dropout)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Normalised images ``[B, 3, H, W]`` -> feature map ``[B, out_dim, h, w]``."""
        raise NotImplementedError

    @torch.no_grad()
    def forward(self, images: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
        """The MIM targets of a batch, one per student patch.

        Args:
            images: ``[B, 3, H, W]`` in [0, 1] (resized to :attr:`input_size` and normalised here).
            grid: the student's patch grid ``(grid_h, grid_w)``; the teacher's map is resampled onto it.

        Returns:
            ``[B, grid_h * grid_w, out_dim]`` float32 targets, without autograd state.
        """
        x = images.float()
        if tuple(x.shape[-2:]) != self.input_size:  # resized in fp32: antialiasing has no bf16 kernel on CPU
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False, antialias=True)
        if getattr(self, "fp8", False) and x.is_cuda and (
                torch.version.hip is not None or torch.cuda.get_device_capability(x.device) < (8, 9)):
            raise RuntimeError(f"the FP8 teacher needs an NVIDIA sm89+ GPU (Ada, Hopper or newer), this is "
                               f"{torch.cuda.get_device_name(x.device)}: build it with dtype='bf16'")
        x = x.to(self.mean.dtype)
        feats = getattr(self, "_features", self.features)((x - self.mean) / self.std)
        if tuple(feats.shape[-2:]) != tuple(grid):
            feats = F.interpolate(feats.float(), size=tuple(grid), mode="bilinear", align_corners=False)
        return feats.flatten(2).transpose(1, 2).float()


def require_weights(name: str, checkpoint, allow_random: bool) -> None:
    """A teacher without weights is a silent failure: refuse it unless explicitly asked (tests, smoke runs)."""
    if checkpoint is None and not allow_random:
        raise ValueError(f"the {name} teacher needs its weights: set checkpoint=<local file> "
                         f"(or allow_random=True for a smoke test with random weights)")


def tokens_to_map(tokens: torch.Tensor, num_prefix: int, grid: Tuple[int, int]) -> torch.Tensor:
    """ViT tokens ``[B, prefix + h * w, C]`` -> map ``[B, C, h, w]``."""
    t = tokens[:, num_prefix:]
    return t.transpose(1, 2).reshape(t.shape[0], t.shape[2], *grid)
