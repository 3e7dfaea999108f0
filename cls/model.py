"""EVA image classifier (mmengine model): fine-tuning head or linear probe over the shared backbone."""
from __future__ import annotations

from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.registry import MODELS
from timm.loss import SoftTargetCrossEntropy
from torch import nn

from eva.backbone import create_model, load_pretrained

from .preprocessor import soft_or_hard

HEADS = ("finetune", "linear_probe")


@MODELS.register_module()
class EVAClassifier(BaseModel):
    """EVA backbone + classification head.

    ``head="finetune"`` (the EVA fine-tuning head): global average pooling of the patch tokens, ``fc_norm``
    LayerNorm, linear classifier; the whole network trains (layer-wise lr decay comes from the optimizer
    constructor). ``head="linear_probe"`` (the EVA-CLIP recipe): the backbone is frozen and stays in eval mode,
    the final-norm class token goes through ``BatchNorm1d(affine=False)`` and a linear layer.

    Args:
        backbone: ``dict(name=<variant>, **EVAViT overrides)``, e.g. ``img_size=336, drop_path_rate=0.4``; the
            position embedding / RoPE follow ``img_size`` and checkpoints are resampled to it.
        num_classes: classifier size.
        head: ``"finetune"`` or ``"linear_probe"``.
        pretrained: backbone checkpoint to start from (pre-training output, BAAI / timm release).
        freeze_patch_embed: keep the patch embedding fixed while fine-tuning.
        grad_checkpointing: recompute blocks in the backward pass.
        label_smoothing: for integer targets (soft mixup targets already carry it).
        data_preprocessor: e.g. ``dict(type="ClsDataPreprocessor", num_classes=..., mixup_alpha=0.8)``.
    """

    def __init__(self, backbone: dict, num_classes: int, head: str = "finetune", pretrained: Optional[str] = None,
                 freeze_patch_embed: bool = False, grad_checkpointing: bool = False, label_smoothing: float = 0.0,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor or dict(type="ClsDataPreprocessor",
                                                                     num_classes=num_classes),
                         init_cfg=init_cfg)
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        cfg = dict(backbone)
        name = cfg.pop("name")
        self.head_type, self.num_classes, self.label_smoothing = head, num_classes, label_smoothing
        if head == "finetune":
            cfg.setdefault("global_pool", "avg")
            self.backbone = create_model(name, num_classes=num_classes, **cfg)
        else:
            cfg.update(global_pool="token", num_classes=0)
            self.backbone = create_model(name, **cfg)
            dim = self.backbone.embed_dim
            self.probe = nn.Sequential(nn.BatchNorm1d(dim, affine=False, eps=1e-6), nn.Linear(dim, num_classes))
            nn.init.trunc_normal_(self.probe[1].weight, std=0.01)
            nn.init.zeros_(self.probe[1].bias)
        self.pretrained = pretrained
        if pretrained:
            load_pretrained(self.backbone, pretrained)
        if head == "linear_probe":
            self.backbone.requires_grad_(False)
        elif freeze_patch_embed:
            self.backbone.freeze(patch_embed=True)
        self.backbone.set_grad_checkpointing(grad_checkpointing)

    def init_weights(self):  # the backbone initialises itself; keep loaded weights
        pass

    def train(self, mode: bool = True):
        super().train(mode)
        if self.head_type == "linear_probe":
            self.backbone.eval()  # frozen features: no dropout / drop path
        return self

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Images ``[B, 3, H, W]`` -> pooled features ``[B, D]`` (the input of the classifier)."""
        if self.head_type == "linear_probe":
            with torch.no_grad():
                return self.backbone.forward_head(self.backbone.forward_features(inputs), pre_logits=True)
        return self.backbone.forward_head(self.backbone.forward_features(inputs), pre_logits=True)

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """Images ``[B, 3, H, W]`` -> logits ``[B, num_classes]``."""
        feats = self.extract_feat(inputs)
        return self.probe(feats) if self.head_type == "linear_probe" else self.backbone.head(feats)

    def _check_labels(self, labels: torch.Tensor) -> None:
        if labels.numel() and (int(labels.max()) >= self.num_classes or int(labels.min()) < 0):
            raise ValueError(f"label {int(labels.max())} is outside the classifier's {self.num_classes} classes: "
                             f"set model.num_classes to the dataset's class count")

    def forward(self, inputs: torch.Tensor, data_samples: Optional[torch.Tensor] = None,
                mode: str = "tensor") -> Union[torch.Tensor, Dict[str, torch.Tensor], List[dict]]:
        logits = self.logits(inputs)
        if mode == "tensor":
            return logits
        if mode == "loss":
            if soft_or_hard(data_samples) == "soft":
                if data_samples.shape[1] != self.num_classes:
                    raise ValueError(f"soft targets have {data_samples.shape[1]} classes, the classifier "
                                     f"{self.num_classes}: set the preprocessor's num_classes to model.num_classes")
                loss = SoftTargetCrossEntropy()(logits.float(), data_samples)
            else:
                self._check_labels(data_samples)
                loss = F.cross_entropy(logits.float(), data_samples, label_smoothing=self.label_smoothing)
            return {"loss": loss}
        if mode == "predict":
            labels = data_samples if data_samples is not None else [None] * len(logits)
            return [{"logits": lg.detach().float().cpu(), "label": None if lb is None else int(lb)}
                    for lg, lb in zip(logits, labels)]
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got {mode!r}")
