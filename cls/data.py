"""Classification datasets: Fashion-MNIST (the demo's real data), ImageNet-layout folders and the tar shards
pre-training reads, all with timm's augmentation. Every sample is a pure function of (seed, epoch, index)."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.registry import DATASETS
from timm.data import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, create_transform
from torch.utils.data import Dataset

from eva.backbone.data import TarShardIndex, image_folder, load_real_images
from eva.backbone.data.tar_shards import IMAGE_EXTS
from eva.backbone.seeding import sample_seed, seeded

#: timm's RandAugment policy of the EVA fine-tuning recipes.
EVA_RAND_AUGMENT = "rand-m9-mstd0.5-inc1"


def build_transform(img_size: int = 224, training: bool = True, auto_augment: Optional[str] = EVA_RAND_AUGMENT,
                    scale: Tuple[float, float] = (0.08, 1.0), hflip: float = 0.5, color_jitter: Optional[float] = None,
                    re_prob: float = 0.0, crop_pct: Optional[float] = None, interpolation: str = "bicubic",
                    mean: Sequence[float] = OPENAI_CLIP_MEAN, std: Sequence[float] = OPENAI_CLIP_STD):
    """timm's ImageNet transform: training = RandomResizedCrop + flip + RandAugment (+ random erasing);
    evaluation = resize to ``img_size / crop_pct`` + centre crop. EVA normalises with CLIP's mean / std.

    Returns:
        A callable ``PIL.Image -> [3, img_size, img_size]`` float tensor.
    """
    return create_transform(img_size, is_training=training, auto_augment=auto_augment if training else None,
                            scale=scale, hflip=hflip, color_jitter=color_jitter, re_prob=re_prob,
                            crop_pct=crop_pct, interpolation=interpolation, mean=tuple(mean), std=tuple(std))


class ClsDataset(Dataset):
    """Base: subclasses implement ``image(index) -> PIL.Image``, ``label(index) -> int`` and ``__len__``, and
    set ``classes``. Items are ``{"inputs": [3, S, S] float, "data_samples": int label}``.

    Args:
        transform: :func:`build_transform` arguments.
        seed: base seed of the per-sample augmentation.
    """

    classes: List[str] = []

    def __init__(self, transform: dict, seed: int = 0):
        self.transform = build_transform(**transform)
        self.seed = seed

    @property
    def metainfo(self) -> dict:  # mmengine hands this to the evaluator as ``dataset_meta``
        return {"classes": list(self.classes)}

    def image(self, index: int):
        raise NotImplementedError

    def label(self, index: int) -> int:
        raise NotImplementedError

    def __getitem__(self, key):
        epoch, index = key if isinstance(key, tuple) else (0, key)
        with seeded(sample_seed(self.seed, epoch, index)):  # timm's transforms draw from random, numpy, torch
            img = self.transform(self.image(index))
        return {"inputs": img, "data_samples": self.label(index)}


@DATASETS.register_module()
class RealImageClsDataset(ClsDataset):
    """Fashion-MNIST (Debian ``dataset-fashion-mnist``) or scikit-learn digits, grey replicated to RGB.

    Args:
        split: ``"train"`` or ``"test"``.
        num_samples: use a fixed random subset of this size.
    """

    def __init__(self, transform: dict, split: str = "train", num_samples: Optional[int] = None, seed: int = 0):
        super().__init__(transform, seed)
        self.data = load_real_images(split).subset(num_samples, seed)
        self.classes = list(self.data.classes)

    def __len__(self) -> int:
        return len(self.data)

    def image(self, index: int):
        from PIL import Image
        return Image.fromarray(np.ascontiguousarray(self.data.images[index])).convert("RGB")

    def label(self, index: int) -> int:
        return int(self.data.labels[index])


@DATASETS.register_module()
class ImageFolderClsDataset(ClsDataset):
    """An ImageNet-layout folder ``root/<class>/<image>``; classes are the sorted folder names.

    Args:
        root: the folder.
        extensions: image file endings to include.
    """

    def __init__(self, transform: dict, root: str, seed: int = 0, extensions: Sequence[str] = IMAGE_EXTS):
        super().__init__(transform, seed)
        self.folder = image_folder(root, extensions)
        self.classes = list(self.folder.classes)

    def __len__(self) -> int:
        return len(self.folder)

    def image(self, index: int):
        return self.folder.loader(self.folder.samples[index][0]).convert("RGB")

    def label(self, index: int) -> int:
        return int(self.folder.samples[index][1])


@DATASETS.register_module()
class TarShardClsDataset(ClsDataset):
    """webdataset-style tar shards with ``<key>.jpg`` and ``<key>.cls`` (integer label) members, the format
    pre-training reads.

    Args:
        shards: a glob pattern or a list of paths.
        classes: class names (or their number); label ids index into it.
    """

    def __init__(self, transform: dict, shards: Union[str, List[str]], classes: Union[int, Sequence[str]],
                 seed: int = 0, cache_index: bool = True):
        super().__init__(transform, seed)
        self.tar = TarShardIndex(shards, cache_index)
        self.classes = [str(i) for i in range(classes)] if isinstance(classes, int) else list(classes)

    def __len__(self) -> int:
        return len(self.tar)

    def image(self, index: int):
        return self.tar.image(index)

    def label(self, index: int) -> int:
        label = self.tar.label(index)
        if label is None:
            raise ValueError(f"sample {index} of {self.tar.shards[self.tar.entries[index][0]]} has no .cls member; "
                             f"classification shards need <key>.cls next to <key>.jpg")
        return label
