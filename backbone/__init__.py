"""eva.backbone: the one EVA vision transformer, its variants, converters and shared training rules.

Imports torch and timm only; no detection / segmentation / video framework.
"""
from .checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from .convert import CheckpointError, LoadReport, convert_state_dict, export_timm
from .layer_decay import get_layer_id, get_lr_scale, is_no_decay, param_groups_layer_decay
from .model import EVAViT
from .pretrained import load_pretrained
from .variants import NOT_IN_TIMM_NAMES, VARIANTS, create_model, list_models, model_args

__all__ = [
    "EVAViT", "NOT_IN_TIMM_NAMES", "create_model", "list_models", "model_args", "VARIANTS", "load_checkpoint",
    "read_checkpoint",
    "save_checkpoint", "convert_state_dict", "export_timm", "CheckpointError", "LoadReport", "get_layer_id",
    "get_lr_scale", "is_no_decay", "param_groups_layer_decay", "load_pretrained",
]
