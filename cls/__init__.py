"""eva.cls: EVA image classification on mmengine's Runner (fine-tuning, linear probe, evaluation) and EVA-CLIP
zero-shot through open_clip's text tower.

Importing this package registers its model, data preprocessor, datasets and metric into mmengine's root
registries, with the shared optimizer constructor, sampler and hooks of ``eva.backbone.mm``.
"""
import eva.backbone.mm  # noqa: F401  (layer-decay constructor, SafeOptimWrapper, sampler, resume / curve hooks)

from .data import (EVA_RAND_AUGMENT, ImageFolderClsDataset, RealImageClsDataset, TarShardClsDataset,
                   build_transform)
from .label_maps import label_map
from .metrics import ClsMetric, apply_label_map, topk_accuracy
from .model import EVAClassifier
from .preprocessor import ClsDataPreprocessor

__all__ = ["EVAClassifier", "ClsDataPreprocessor", "ClsMetric", "RealImageClsDataset", "ImageFolderClsDataset",
           "TarShardClsDataset", "build_transform", "EVA_RAND_AUGMENT", "label_map", "apply_label_map",
           "topk_accuracy", "ProbeLars"]

from mmengine.registry import OPTIMIZERS as _OPTIMIZERS

from .lars import ProbeLars

_OPTIMIZERS.register_module(module=ProbeLars, force=True)  # the linear-probe optimizer
