"""A small real semantic-segmentation set for CPU runs: copy-paste composites of Fashion-MNIST items on
scikit-learn's photos (exact masks), written in mmseg's ``BaseSegDataset`` folder layout, and the dataset class
that writes and reads them from a config."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from mmengine.registry import DATASETS
from mmseg.datasets import BaseSegDataset

from eva.backbone.data import FASHION_MNIST_CLASSES, make_composites

#: version of the labelling rule (2: every visible item pixel is labelled, mostly hidden items too)
LABEL_VERSION = 2

#: label 0 is the photo behind the objects; item class k is label k + 1.
CLASSES = ("background", *FASHION_MNIST_CLASSES)


def write_semantic_composites(root: str, n: int, size: int = 128, split: str = "train", seed: int = 0) -> Path:
    """Write ``root/img/*.jpg`` and ``root/ann/*.png`` (uint8 labels, :data:`CLASSES`) once; returns ``root``.

    ``root/composites.json`` records what was written; a set written with other settings (or by an earlier version
    of the labelling) is replaced.
    """
    from PIL import Image

    root = Path(root)
    stamp = dict(labels=LABEL_VERSION, n=n, size=size, split=split, seed=seed)
    if (root / "composites.json").is_file() and json.loads((root / "composites.json").read_text()) == stamp:
        return root
    for sub, suffix in (("img", ".jpg"), ("ann", ".png")):
        (root / sub).mkdir(parents=True, exist_ok=True)
        for old in (root / sub).glob(f"[0-9][0-9][0-9][0-9][0-9]{suffix}"):  # only files this function names
            old.unlink()
    # min_visible=0: every visible item pixel is labelled, also those of a mostly hidden item (detection drops such
    # items; a per-pixel label has no reason to)
    comps = make_composites(n, size=size, split=split, seed=seed, object_size=(size // 4, size // 2), min_visible=0.0)
    for i, comp in enumerate(comps):
        label = np.zeros((size, size), dtype=np.uint8)
        for mask, cls in zip(comp.masks, comp.labels):
            label[mask] = cls + 1
        Image.fromarray(comp.image).save(root / "img" / f"{i:05d}.jpg", quality=95)
        Image.fromarray(label).save(root / "ann" / f"{i:05d}.png")
    (root / "composites.json").write_text(json.dumps(stamp))
    return root



@DATASETS.register_module(force=True)  # mmengine's root registry: mmseg configs find it by name
class SemanticCompositesDataset(BaseSegDataset):
    """:func:`write_semantic_composites` as an mmseg dataset, written under ``data_root`` on first use.

    Args:
        data_root: folder of the split (``img/`` and ``ann/`` are created there).
        num_images: composites in the split.
        size: image side.
        split: Fashion-MNIST split the objects come from (``"train"`` or ``"test"``).
        seed: composite layout seed.
        **kwargs: ``BaseSegDataset`` arguments (``pipeline``, ``test_mode``...).
    """

    METAINFO = dict(classes=CLASSES)

    def __init__(self, data_root: str, num_images: int, size: int = 128, split: str = "train", seed: int = 0,
                 **kwargs):
        write_semantic_composites(data_root, num_images, size=size, split=split, seed=seed)
        kwargs.setdefault("data_prefix", dict(img_path="img", seg_map_path="ann"))
        super().__init__(data_root=data_root, img_suffix=".jpg", seg_map_suffix=".png", **kwargs)
