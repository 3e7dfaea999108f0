"""Data readers shared by every part: the small real datasets package registries ship (demos, tests) and
random access to webdataset-style tar shards."""
from .real_images import FASHION_MNIST_CLASSES, RealImageSet, load_fashion_mnist, load_real_images
from .tar_shards import TarShardIndex

__all__ = ["FASHION_MNIST_CLASSES", "RealImageSet", "TarShardIndex", "load_fashion_mnist", "load_real_images"]
