"""ImageNet-layout folders (``root/<class>/<image>``), read by pre-training and classification alike."""
from __future__ import annotations

from typing import Sequence

from .tar_shards import IMAGE_EXTS


def image_folder(root: str, extensions: Sequence[str] = IMAGE_EXTS):
    """torchvision's ``ImageFolder`` over ``root`` with the given file endings (classes = sorted folder names)."""
    from torchvision.datasets import ImageFolder

    ends = tuple(e.lower() for e in extensions)
    return ImageFolder(root, is_valid_file=lambda p: p.lower().endswith(ends))
