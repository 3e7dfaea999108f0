"""A small real instance-segmentation set for CPU demos and tests: copy-paste composites of Fashion-MNIST items
on scikit-learn's sample photos (exact masks), written as a COCO-format dataset and registered in detectron2."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Tuple

import numpy as np

from eva.backbone.data import FASHION_MNIST_CLASSES, make_composites


def write_coco(root: Path, n: int, size: int, split: str, seed: int) -> Tuple[Path, Path]:
    """Write ``n`` composites as ``root/images/*.jpg`` + ``root/annotations.json`` (RLE masks); reuse them if
    present. Returns ``(json_file, image_root)``."""
    from PIL import Image
    from pycocotools import mask as mask_util

    root = Path(root)
    json_file, image_root = root / "annotations.json", root / "images"
    if json_file.exists():
        return json_file, image_root
    image_root.mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i, comp in enumerate(make_composites(n, size=size, split=split, seed=seed, object_size=(size // 4, size // 2))):
        name = f"{i:06d}.jpg"
        Image.fromarray(comp.image).save(image_root / name, quality=95)
        images.append(dict(id=i, file_name=name, height=size, width=size))
        for mask, label in zip(comp.masks, comp.labels):
            rle = mask_util.encode(np.asfortranarray(mask.astype(np.uint8)))
            x, y, w, h = (float(v) for v in mask_util.toBbox(rle))
            rle["counts"] = rle["counts"].decode("ascii")
            annotations.append(dict(id=len(annotations) + 1, image_id=i, category_id=int(label) + 1, segmentation=rle,
                                    area=float(mask.sum()), bbox=[x, y, w, h], iscrowd=0))
    categories = [dict(id=k + 1, name=c) for k, c in enumerate(FASHION_MNIST_CLASSES)]
    tmp = json_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(images=images, annotations=annotations, categories=categories)))
    tmp.rename(json_file)
    return json_file, image_root


def register_composites(name: str, root: str, n: int, size: int = 256, split: str = "train", seed: int = 0) -> str:
    """Build (once) and register ``name`` as a COCO instance dataset in detectron2's catalogs."""
    from detectron2.data import DatasetCatalog
    from detectron2.data.datasets import register_coco_instances

    if name not in DatasetCatalog.list():
        json_file, image_root = write_coco(Path(root) / name, n, size, split, seed)
        register_coco_instances(name, {}, str(json_file), str(image_root))
    return name


def register_coco_json(name: str, json_file: str, image_root: str) -> str:
    """Register a COCO-format instance dataset not built into detectron2 (e.g. Objects365) once, lazily."""
    from detectron2.data import DatasetCatalog
    from detectron2.data.datasets import register_coco_instances

    if name not in DatasetCatalog.list():
        register_coco_instances(name, {}, json_file, image_root)
    return name
