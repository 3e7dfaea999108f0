"""Data readers shared by every part: the small real datasets package registries ship (demos, tests), real video
clips, copy-paste composites of real objects on real photos with exact masks, ImageNet-layout folders, and random
access to webdataset-style tar shards."""
from .composites import Composite, make_composites
from .folders import image_folder
from .real_images import FASHION_MNIST_CLASSES, RealImageSet, load_fashion_mnist, load_real_images
from .real_videos import real_video_files
from .tar_shards import TarShardIndex

__all__ = ["Composite", "make_composites", "FASHION_MNIST_CLASSES", "RealImageSet", "TarShardIndex", "image_folder",
           "load_fashion_mnist", "load_real_images", "real_video_files"]
