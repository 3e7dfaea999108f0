"""eva.pretrain: EVA masked image modeling with a frozen feature teacher, on mmengine's Runner.

Importing this package registers its model, datasets, sampler, hooks and optimizer wrapper into mmengine's
root registries (configs need no ``default_scope``).
"""
import eva.backbone.mm  # noqa: F401  (layer-decay constructor, SafeOptimWrapper, resume / curve hooks)

from . import hooks  # noqa: F401  (BackboneExportHook)
from .data import EpochSeededSampler, ImageFolderMIMDataset, MIMTransform, RealImageMIMDataset
from .masking import DEFAULT_MASK_RATIO, BlockMaskGenerator
from .objective import EVAMIM, negative_cosine
from .teachers import Teacher, build_teacher

from mmengine.registry import MODELS as _MODELS

_MODELS.register_module(module=EVAMIM, force=True)

__all__ = ["EVAMIM", "negative_cosine", "BlockMaskGenerator", "DEFAULT_MASK_RATIO", "Teacher", "build_teacher",
           "MIMTransform", "RealImageMIMDataset", "ImageFolderMIMDataset", "EpochSeededSampler"]
