"""Small real datasets that package registries ship, shared by every part's demo and tests."""
from .real_images import RealImageSet, load_fashion_mnist, load_real_images

__all__ = ["RealImageSet", "load_fashion_mnist", "load_real_images"]
