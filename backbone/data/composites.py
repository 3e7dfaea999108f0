"""Copy-paste composites of real objects on real photos, with exact instance masks: Fashion-MNIST items (or
scikit-learn digits) pasted onto crops of the photos scikit-learn ships (``china.jpg``, ``flower.jpg``). Shared by
the detection and segmentation demos and tests; numpy + PIL only."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List

import numpy as np

from .real_images import load_real_images


@dataclass
class Composite:
    """One image with its objects.

    Attributes:
        image: ``uint8 [H, W, 3]`` RGB.
        masks: ``bool [N, H, W]`` exact instance masks (pixels each pasted object covers and keeps).
        labels: ``int64 [N]`` class ids (Fashion-MNIST classes).
    """

    image: np.ndarray
    masks: np.ndarray
    labels: np.ndarray


def _backgrounds() -> List[np.ndarray]:
    from sklearn.datasets import load_sample_images
    return [np.asarray(img) for img in load_sample_images().images]


def make_composites(n: int, size: int = 128, max_objects: int = 4, object_size=(28, 56), split: str = "train",
                    seed: int = 0, min_visible: float = 0.5) -> List[Composite]:
    """``n`` composites of ``size x size`` pixels, each with 1..``max_objects`` objects.

    Objects are real items (foreground = non-zero pixels of the grey item, tinted with a random colour and
    upscaled to ``object_size``) pasted at random places on random crops of real photos; later objects occlude
    earlier ones, and an object left with less than ``min_visible`` of its pixels is dropped.

    Args:
        split: which split of the item images to draw from (``"train"`` / ``"test"``).
        seed: everything is a function of it.
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    items = load_real_images(split)
    photos = _backgrounds()
    out = []
    for _ in range(n):
        photo = photos[rng.integers(len(photos))]
        y0, x0 = rng.integers(photo.shape[0] - size), rng.integers(photo.shape[1] - size)
        image = photo[y0:y0 + size, x0:x0 + size].copy()
        masks, labels, full = [], [], []
        for _ in range(rng.integers(1, max_objects + 1)):
            k = rng.integers(len(items))
            side = int(rng.integers(object_size[0], object_size[1] + 1))
            grey = np.asarray(Image.fromarray(items.images[k]).resize((side, side), Image.BILINEAR))
            fg = grey > 40
            if fg.sum() < 20:
                continue
            top, left = rng.integers(0, size - side + 1), rng.integers(0, size - side + 1)
            colour = rng.integers(60, 256, size=3)
            patch = (grey[..., None].astype(np.float32) / 255.0 * colour).astype(np.uint8)
            region = image[top:top + side, left:left + side]
            region[fg] = patch[fg]
            mask = np.zeros((size, size), dtype=bool)
            mask[top:top + side, left:left + side] = fg
            for m in masks:  # occlusion: the new object hides what is under it
                m &= ~mask
            masks.append(mask)
            full.append(mask.sum())
            labels.append(int(items.labels[k]))
        keep = [i for i, m in enumerate(masks) if m.sum() >= min_visible * full[i]]
        out.append(Composite(image, np.stack([masks[i] for i in keep]) if keep else np.zeros((0, size, size), bool),
                             np.array([labels[i] for i in keep], dtype=np.int64)))
    return out
