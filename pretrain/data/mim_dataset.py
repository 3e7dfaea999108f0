"""Image datasets producing ``{"image": [3, S, S] in [0, 1], "mask": [h, w] bool}`` for masked image modeling."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torchvision.transforms.v2 as T
import torchvision.transforms.v2.functional as TF
from mmengine.registry import DATASETS
from torch.utils.data import Dataset

from eva.backbone.data import TarShardIndex, image_folder, load_real_images
from eva.backbone.data.tar_shards import IMAGE_EXTS
from eva.backbone.seeding import sample_seed

from ..masking import DEFAULT_MASK_RATIO, BlockMaskGenerator


class MIMTransform:
    """The paper's augmentation and the block mask, from one seed.

    RandomResizedCrop (scale (0.2, 1), torchvision's sampler) and a horizontal flip; the same crop feeds the
    student and the teacher (the teacher resizes and normalises it itself).

    Args:
        img_size: student input size.
        patch_size: student patch size (mask grid = img_size // patch_size).
        mask_ratio: fraction of patches masked.
        min_block: smallest mask block in patches.
        scale: crop area range.
    """

    def __init__(self, img_size: int = 224, patch_size: int = 14, mask_ratio: float = DEFAULT_MASK_RATIO,
                 min_block: int = 16, scale: Tuple[float, float] = (0.2, 1.0)):
        self.img_size = img_size
        self.scale = tuple(scale)
        self.ratio = (3 / 4, 4 / 3)
        self.masker = BlockMaskGenerator((img_size // patch_size, img_size // patch_size), mask_ratio, min_block)

    def __call__(self, image: torch.Tensor, seed: int) -> dict:
        """``image`` ``[3, H, W]`` float in [0, 1] -> ``{"image", "mask"}``."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            top, left, h, w = T.RandomResizedCrop.get_params(image, list(self.scale), list(self.ratio))
            flip = bool(torch.rand(()) < 0.5)
        out = TF.resized_crop(image, top, left, h, w, [self.img_size, self.img_size],
                              interpolation=TF.InterpolationMode.BICUBIC, antialias=True)  # as EVA's crops
        if flip:
            out = TF.horizontal_flip(out)
        mask = self.masker(torch.Generator().manual_seed(seed ^ 0x5DEECE66D))  # a stream of its own
        return {"image": out.clamp_(0, 1), "mask": mask}


class MIMDataset(Dataset):
    """Base: subclasses implement ``load(index) -> [3, H, W]`` float in [0, 1] and ``__len__``.

    Indices may be plain ints or ``(epoch, index)`` pairs from :class:`EpochSeededSampler`.
    """

    def __init__(self, transform: dict, seed: int = 0):
        self.transform = MIMTransform(**transform)
        self.seed = seed

    def load(self, index: int) -> torch.Tensor:
        raise NotImplementedError

    def __getitem__(self, key):
        epoch, index = key if isinstance(key, tuple) else (0, key)
        sample = self.transform(self.load(index), sample_seed(self.seed, epoch, index))
        return {"inputs": sample}


@DATASETS.register_module()
class RealImageMIMDataset(MIMDataset):
    """Fashion-MNIST (Debian ``dataset-fashion-mnist``) or scikit-learn digits, grey replicated to RGB.

    Args:
        split: ``"train"`` or ``"test"``.
        num_samples: use a fixed random subset of this size.
    """

    def __init__(self, transform: dict, split: str = "train", num_samples: Optional[int] = None, seed: int = 0):
        super().__init__(transform, seed)
        self.data = load_real_images(split).subset(num_samples, seed)

    def __len__(self) -> int:
        return len(self.data)

    def load(self, index: int) -> torch.Tensor:
        img = torch.from_numpy(np.ascontiguousarray(self.data.images[index])).float().div_(255)
        return img.unsqueeze(0).expand(3, -1, -1)


@DATASETS.register_module()
class ImageFolderMIMDataset(MIMDataset):
    """Any ``root/<class>/<image>`` folder (ImageNet layout); labels are ignored.

    Args:
        root: the folder.
        extensions: image file endings to include.
    """

    def __init__(self, transform: dict, root: str, seed: int = 0, extensions: Sequence[str] = IMAGE_EXTS):
        super().__init__(transform, seed)
        self.folder = image_folder(root, extensions)

    def __len__(self) -> int:
        return len(self.folder)

    def load(self, index: int) -> torch.Tensor:
        img = self.folder.loader(self.folder.samples[index][0]).convert("RGB")
        return TF.to_dtype(TF.to_image(img), torch.float32, scale=True)


@DATASETS.register_module()
class TarShardMIMDataset(MIMDataset):
    """Images in webdataset-style tar shards (``<key>.jpg`` / ``.png`` / ``.webp``; other members ignored), read
    with random access through :class:`eva.backbone.data.TarShardIndex` (member index cached next to the
    first shard).

    Args:
        shards: a glob pattern (``"data/shards/train-*.tar"``) or a list of paths.
        cache_index: write / reuse the index file.
    """

    def __init__(self, transform: dict, shards: Union[str, List[str]], seed: int = 0, cache_index: bool = True):
        super().__init__(transform, seed)
        self.tar = TarShardIndex(shards, cache_index)
        self.shards = self.tar.shards

    @property
    def index(self):
        return self.tar.entries

    def __len__(self) -> int:
        return len(self.tar)

    def load(self, index: int) -> torch.Tensor:
        return TF.to_dtype(TF.to_image(self.tar.image(index)), torch.float32, scale=True)
