"""eva.backbone: the one EVA vision transformer, its variants, converters and shared training rules.

Imports torch and timm only; no detection / segmentation / video framework. The video model
(:class:`EVAVideoViT`) is the image model with a space-time embedding.
"""
from .checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from .convert import CheckpointError, LoadReport, convert_state_dict, export_timm
from .layer_decay import get_layer_id, get_lr_scale, is_no_decay, param_groups_layer_decay
from .model import EVAViT
from .pretrained import load_pretrained
from .variants import NOT_IN_TIMM_NAMES, VARIANTS, create_model, list_models, model_args
from .video import EVAVideoViT, create_video_model

__all__ = [
    "EVAViT", "EVAVideoViT", "create_video_model", "NOT_IN_TIMM_NAMES", "create_model", "list_models",
    "model_args", "VARIANTS", "load_checkpoint", "read_checkpoint",
    "save_checkpoint", "convert_state_dict", "export_timm", "CheckpointError", "LoadReport", "get_layer_id",
    "get_lr_scale", "is_no_decay", "param_groups_layer_decay", "load_pretrained",
]
