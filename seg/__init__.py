"""eva.seg: EVA in mmsegmentation 1.x (and mmdet 3.x for Mask2Former). Import with
``custom_imports = dict(imports=["eva.seg"])``: registers ``EVASegBackbone`` (plain ViT, for a neck such as
``Feature2Pyramid``) and ``EVAAdapterBackbone`` (ViT-Adapter pyramid) into mmengine's root registry, and the shared
layer-decay optimizer constructor."""
import eva.backbone.mm  # noqa: F401  (LayerDecayOptimWrapperConstructor, SafeOptimWrapper, hooks)

from .adapter import EVAAdapterBackbone
from .backbone import EVASegBackbone
from .data import SemanticCompositesDataset

__all__ = ["EVAAdapterBackbone", "EVASegBackbone", "SemanticCompositesDataset"]
