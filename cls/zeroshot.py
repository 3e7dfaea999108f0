"""EVA-CLIP zero-shot classification: the vision tower is ``eva.backbone``, the text tower and tokenizer are
``open_clip``'s; the classifier is open_clip's prompt-ensemble builder over class names."""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from eva.backbone import CheckpointError, create_model, load_checkpoint, read_checkpoint
from eva.backbone.convert import compare_keys

#: open_clip model config -> our vision-tower variant.
VISION_VARIANTS: Dict[str, str] = {
    "EVA01-g-14": "eva_giant_patch14_clip_224",
    "EVA01-g-14-plus": "eva_giant_patch14_clip_224",
    "EVA02-B-16": "eva02_base_patch16_clip_224",
    "EVA02-L-14": "eva02_large_patch14_clip_224",
    "EVA02-L-14-336": "eva02_large_patch14_clip_336",
    "EVA02-E-14": "eva02_enormous_patch14_clip_224",
    "EVA02-E-14-plus": "eva02_enormous_patch14_clip_224",
}


class EVACLIP(nn.Module):
    """An EVA-CLIP model: ``visual`` (:class:`~eva.backbone.EVAViT`, class-token pooling, projection as its
    head) and ``text`` (open_clip's ``TextTransformer`` for the same model config).

    Args:
        model_name: an open_clip config name from :data:`VISION_VARIANTS`.
        vision_overrides: ``EVAViT`` overrides (e.g. ``depth`` for tests, ``img_size``).
        text_overrides: open_clip ``text_cfg`` overrides.
    """

    def __init__(self, model_name: str = "EVA02-B-16", vision_overrides: Optional[dict] = None,
                 text_overrides: Optional[dict] = None):
        super().__init__()
        import open_clip
        from open_clip.model import _build_text_tower

        if model_name not in VISION_VARIANTS:
            raise ValueError(f"unknown EVA-CLIP model {model_name!r}; known: {sorted(VISION_VARIANTS)}")
        cfg = open_clip.get_model_config(model_name)
        self.model_name, self.embed_dim = model_name, cfg["embed_dim"]
        self.visual = create_model(VISION_VARIANTS[model_name], num_classes=self.embed_dim, **(vision_overrides or {}))
        self.text = _build_text_tower(self.embed_dim, dict(cfg["text_cfg"], **(text_overrides or {})))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.tokenizer = open_clip.get_tokenizer(model_name)

    def encode_image(self, images: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """``[B, 3, H, W]`` (CLIP-normalised) -> ``[B, embed_dim]``."""
        x = self.visual(images)
        return F.normalize(x, dim=-1) if normalize else x

    def encode_text(self, tokens: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """``[B, context_length]`` token ids -> ``[B, embed_dim]``."""
        x = self.text(tokens)
        return F.normalize(x, dim=-1) if normalize else x


def load_eva_clip(model: EVACLIP, path: str) -> None:
    """Load an EVA-CLIP checkpoint as BAAI releases it (``visual.*`` in their EVA layout, text tower as
    ``text.*`` or OpenAI-CLIP top-level keys, ``logit_scale``) or as open_clip saves it (``visual.trunk.*``).
    Every text key must fit; the vision tower goes through ``eva.backbone``'s converter."""
    from open_clip.model import convert_to_custom_text_state_dict

    sd = read_checkpoint(path)
    for wrapper in ("state_dict", "model", "module"):
        if isinstance(sd.get(wrapper), dict):
            sd = sd[wrapper]
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    sd = convert_to_custom_text_state_dict(sd)  # OpenAI-style text keys -> text.*
    visual = {k: v for k, v in sd.items() if k.startswith("visual.")}
    text = {k[len("text."):]: v for k, v in sd.items() if k.startswith("text.")}
    if not visual or not text:
        raise CheckpointError(f"{path} is not an EVA-CLIP checkpoint: expected visual.* and text (text.* or "
                              f"token_embedding...) keys, found {sorted(sd)[:5]}...")
    load_checkpoint(model.visual, visual, strict=True)
    report = compare_keys(text, model.text.state_dict())
    if not report.ok:
        raise CheckpointError(f"text tower of {path} does not fit {model.model_name}:\n{report.summary()}\n"
                              f"Pick the open_clip config the checkpoint was trained with", report)
    model.text.load_state_dict(text)
    if "logit_scale" in sd:
        model.logit_scale.data.copy_(sd["logit_scale"].reshape(()))


@torch.no_grad()
def build_classifier(model: EVACLIP, classnames: Sequence[str], templates: Optional[Sequence] = None,
                     device="cpu") -> torch.Tensor:
    """Prompt-ensemble zero-shot weights ``[embed_dim, num_classes]``: for each class, the normalised mean of
    the normalised text embeddings of every template (open_clip's builder; OpenAI's 80 ImageNet prompts by
    default)."""
    from open_clip import build_zero_shot_classifier
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES

    return build_zero_shot_classifier(model, model.tokenizer, classnames, templates or OPENAI_IMAGENET_TEMPLATES,
                                      num_classes_per_batch=10, device=device)


@torch.no_grad()
def zero_shot_logits(model: EVACLIP, images: torch.Tensor, classifier: torch.Tensor) -> torch.Tensor:
    """``[B, 3, H, W]`` -> scaled cosine logits ``[B, num_classes]``."""
    return model.logit_scale.exp() * model.encode_image(images, normalize=True) @ classifier


def classnames_from(folder_classes: List[str]) -> List[str]:
    """Readable names for folder classes: ImageNet synset folders (``n01440764``) become open_clip's ImageNet
    class names; other folder names have ``_`` replaced by spaces."""
    if len(folder_classes) == 1000 and all(c.startswith("n") and c[1:].isdigit() for c in folder_classes):
        from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES
        return list(IMAGENET_CLASSNAMES)
    return [c.replace("_", " ") for c in folder_classes]
