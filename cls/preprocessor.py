"""Batch-level augmentation (timm's mixup / cutmix) as an mmengine data preprocessor."""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.model import BaseDataPreprocessor
from mmengine.registry import MODELS


@MODELS.register_module()
class ClsDataPreprocessor(BaseDataPreprocessor):
    """Moves the batch to the device and, in training, mixes it with timm's ``Mixup``.

    With mixup or cutmix on, training targets become soft ``[B, num_classes]`` distributions (label smoothing
    folded in, as timm does); otherwise they stay integer labels ``[B]``.

    Args:
        num_classes: size of the target distribution.
        mixup_alpha: Beta(alpha, alpha) mixing of whole images; 0 disables.
        cutmix_alpha: Beta(alpha, alpha) area of a pasted box; 0 disables.
        prob: probability of mixing a batch.
        switch_prob: probability of cutmix instead of mixup when both are on.
        label_smoothing: applied to the soft targets.
    """

    def __init__(self, num_classes: int, mixup_alpha: float = 0.0, cutmix_alpha: float = 0.0, prob: float = 1.0,
                 switch_prob: float = 0.5, label_smoothing: float = 0.0):
        super().__init__()
        self.mixup = None
        if mixup_alpha > 0 or cutmix_alpha > 0:
            from timm.data import Mixup
            self.mixup = Mixup(mixup_alpha=mixup_alpha, cutmix_alpha=cutmix_alpha, prob=prob, switch_prob=switch_prob,
                               label_smoothing=label_smoothing, num_classes=num_classes)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs, labels = data["inputs"], data.get("data_samples")
        if labels is not None and not torch.is_tensor(labels):
            labels = torch.as_tensor(labels, device=inputs.device)
        if training and self.mixup is not None:
            if inputs.shape[0] % 2:
                raise ValueError(f"mixup needs an even batch size, got {inputs.shape[0]}: set "
                                 f"train_dataloader.batch_size to an even number and drop_last=True")
            inputs, labels = self.mixup(inputs, labels)
        return {"inputs": inputs, "data_samples": labels}


def soft_or_hard(targets: Optional[torch.Tensor]) -> str:
    """``"soft"`` for ``[B, C]`` float distributions, ``"hard"`` for ``[B]`` integer labels."""
    return "soft" if targets is not None and targets.is_floating_point() and targets.ndim == 2 else "hard"
