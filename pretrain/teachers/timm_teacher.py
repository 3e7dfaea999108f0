"""Any timm ViT-like model's patch tokens, or any timm CNN's feature map, as the target."""
from __future__ import annotations

from typing import Optional

import torch

from .base import Teacher, require_weights, tokens_to_map


class TimmTeacher(Teacher):
    """Features of a timm model.

    Args:
        model_name: timm name (built without downloading: ``pretrained=False``).
        checkpoint: local weights file loaded into it (timm's own loader).
        index: block (ViTs) or stage (CNNs) whose output is used; the last one is taken after the final norm.
        input_size: teacher resolution (default the model's).
        allow_random: permit running without weights (tests only).
    """

    def __init__(self, model_name: str, checkpoint: Optional[str] = None, index: int = -1,
                 input_size: Optional[int] = None, allow_random: bool = False, **model_kwargs):
        import timm

        require_weights("timm", checkpoint, allow_random)
        try:  # ViTs take the input size at construction; CNNs do not need it
            model = timm.create_model(model_name, pretrained=False, num_classes=0,
                                      **dict(model_kwargs, **({"img_size": input_size} if input_size else {})))
        except TypeError:
            model = timm.create_model(model_name, pretrained=False, num_classes=0, **model_kwargs)
        if checkpoint:
            result = timm.models.load_checkpoint(model, checkpoint, strict=False)
            bad = [k for k in (result.missing_keys if result else [])] + \
                [k for k in (result.unexpected_keys if result else []) if not k.startswith(("head.", "fc."))]
            if bad:
                raise ValueError(f"{checkpoint} does not fit timm {model_name}: keys {bad[:8]} "
                                 f"({len(bad)} in all) are missing or unexpected")
        cfg = model.pretrained_cfg
        size = input_size or cfg.get("input_size", (3, 224, 224))[-1]
        with torch.no_grad():
            probe = self._run(model, torch.zeros(1, 3, size, size), index)
        super().__init__(probe.shape[1], (size, size), mean=cfg.get("mean", (0.485, 0.456, 0.406)),
                         std=cfg.get("std", (0.229, 0.224, 0.225)))
        self.model, self.index = model, index
        self.freeze()

    @staticmethod
    def _run(model, x, index):
        if hasattr(model, "forward_intermediates"):
            out = model.forward_intermediates(x, indices=[index], norm=index == -1, output_fmt="NCHW",
                                              intermediates_only=True)
            return out[0]
        raise TypeError(f"{type(model).__name__} has no forward_intermediates")

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self._run(self.model, images, self.index)


__all__ = ["TimmTeacher", "tokens_to_map"]
