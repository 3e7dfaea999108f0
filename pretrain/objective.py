"""EVA masked image modeling: regress a frozen teacher's features of masked patches (negative cosine)."""
from __future__ import annotations

from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from timm.layers import trunc_normal_
from torch import nn

from eva.backbone import create_model

from .teachers import Teacher, build_teacher

IMAGENET_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
IMAGENET_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def negative_cosine(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean of ``-cos(pred_i, target_i)`` over rows: -1 when every prediction points along its target."""
    return -F.cosine_similarity(pred.float(), target.float(), dim=-1).mean()


class _GradScale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


class EVAMIM(BaseModel):
    """Student EVA ViT + mask token + linear ``lm_head`` regressing teacher features of masked patches.

    The teacher is kept outside the module tree: it is never wrapped by DDP/FSDP, never in the optimizer,
    never saved in the student's checkpoint, and runs under ``no_grad`` in eval mode.

    Args:
        backbone: ``eva.backbone.create_model`` arguments (``name`` plus overrides).
        teacher: teacher config (``dict(type=..., ...)``) or a built :class:`Teacher`.
        stop_grad_conv1: scale the patch embedding's gradient by 0.1 (EVA-02 Ti/S recipe).
        grad_checkpointing: recompute the student's blocks in the backward pass (activation checkpointing).
        mean, std: student input normalisation of images in [0, 1] (CLIP statistics, as EVA).
    """

    def __init__(self, backbone: dict, teacher, stop_grad_conv1: bool = False, grad_checkpointing: bool = False,
                 mean=IMAGENET_CLIP_MEAN, std=IMAGENET_CLIP_STD, data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        backbone = dict(backbone)
        # MIM applies the final norm to every token before the head: no pooling, no fc_norm.
        self.student = create_model(backbone.pop("name"),
                                    **dict(dict(num_classes=0, global_pool="", fc_norm=False), **backbone))
        dim = self.student.embed_dim
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        trunc_normal_(self.mask_token, std=0.02)
        t = teacher if isinstance(teacher, Teacher) else build_teacher(teacher)
        self._teacher = [t]  # a list hides it from nn.Module registration (no DDP, no state_dict)
        self.lm_head = nn.Linear(dim, t.out_dim)
        trunc_normal_(self.lm_head.weight, std=0.02)
        nn.init.zeros_(self.lm_head.bias)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.stop_grad_conv1 = stop_grad_conv1
        self.student.set_grad_checkpointing(grad_checkpointing)
        if stop_grad_conv1:
            self.student.patch_embed.register_forward_hook(lambda m, i, out: _GradScale.apply(out, 0.1))

    @property
    def teacher(self) -> Teacher:
        return self._teacher[0]

    def _apply(self, fn, *args, **kwargs):  # .to()/.cuda() also move the hidden teacher
        super()._apply(fn, *args, **kwargs)
        self._teacher[0]._apply(fn, *args, **kwargs)
        return self

    def predict_masked(self, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Student predictions ``[num_masked_total, teacher_dim]`` for the masked patches (row-major)."""
        x = (images - self.mean) / self.std
        tokens = self.student.forward_features(x, token_mask=mask.flatten(1), mask_token=self.mask_token)
        patches = tokens[:, self.student.num_prefix_tokens:]
        return self.lm_head(patches[mask.flatten(1)])

    def loss(self, images: torch.Tensor, mask: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Args: images ``[B, 3, H, W]`` in [0, 1]; mask ``[B, h, w]`` bool on the student's patch grid."""
        grid = tuple(mask.shape[-2:])
        expected = self.student.feature_grid(tuple(images.shape[-2:]))
        if grid != expected:
            raise ValueError(f"mask grid {grid} does not match the student's {expected} patch grid for "
                             f"{tuple(images.shape[-2:])} images: set the dataset transform's img_size / patch_size "
                             f"to the model's (patch {self.student.patch_size})")
        teacher = self.teacher
        if teacher.mean.device != images.device:
            # FSDP moves only the parameters it wraps (never calls .to()), so the hidden teacher follows here
            teacher.to(images.device)
        with torch.no_grad():
            target = teacher(images, grid)[mask.flatten(1)]
        pred = self.predict_masked(images, mask)
        return {"loss": negative_cosine(pred, target)}

    def forward(self, inputs: dict, data_samples=None, mode: str = "loss"):
        if mode == "loss":
            return self.loss(inputs["image"], inputs["mask"])
        if mode == "tensor":
            return self.student.forward_features((inputs["image"] - self.mean) / self.std)
        raise ValueError(f"EVAMIM supports mode 'loss' and 'tensor', not {mode!r}")

    def backbone_state_dict(self) -> Dict[str, torch.Tensor]:
        """The student's weights in the layout ``eva.backbone.load_checkpoint`` reads."""
        return self.split_state_dict(self.state_dict())[0]

    def mim_head_state_dict(self) -> Dict[str, torch.Tensor]:
        """The pre-training-only part, kept separately: ``mask_token`` and ``lm_head``."""
        return self.split_state_dict(self.state_dict())[1]

    @staticmethod
    def split_state_dict(state: Dict[str, torch.Tensor]):
        """``(backbone, mim_head)`` state dicts (CPU) from a full ``EVAMIM`` state dict, e.g. one gathered from
        FSDP shards."""
        backbone = {k[len("student."):]: v.detach().cpu() for k, v in state.items() if k.startswith("student.")}
        head = {k: v.detach().cpu() for k, v in state.items() if k == "mask_token" or k.startswith("lm_head.")}
        return backbone, head
