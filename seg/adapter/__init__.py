"""ViT-Adapter around the EVA ViT (EVA-01's Mask2Former recipe): a convolutional spatial prior and deformable-
attention interactions that give the plain ViT a multi-scale pyramid (strides 4, 8, 16, 32)."""
from .backbone import EVAAdapterBackbone
from .interaction import ConvFFN, Extractor, Injector, InteractionBlock
from .levels import Levels
from .spatial_prior import SpatialPriorModule

__all__ = ["EVAAdapterBackbone", "ConvFFN", "Extractor", "Injector", "InteractionBlock", "Levels",
           "SpatialPriorModule"]
