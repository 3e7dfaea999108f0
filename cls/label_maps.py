"""Evaluate a head on a label space it was not trained for: an ImageNet-21K head on IN-1K, an IN-1K head on the
200-class ImageNet-A / ImageNet-R subsets. The index lists come from timm's ImageNet metadata files."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Union

import torch

#: 21K heads by size -> timm's synset list of that release.
HEAD_SYNSETS = {21843: "imagenet21k_goog_synsets.txt",  # Google's fall11 release (timm's in21k heads)
                21841: "imagenet22k_synsets.txt",  # the IN-22K folders BEiT / EVA fine-tune on
                21842: "imagenet22k_ms_synsets.txt"}  # Microsoft's IN-22K (Swin)
#: named maps: the ImageNet-1K classes inside a 21K head, and the IN-A / IN-R subsets of 1K.
NAMES = ("in1k_from_21k", "imagenet_a", "imagenet_r")


def _timm_info(filename: str) -> List[str]:
    from importlib.resources import files
    return (files("timm.data") / "_info" / filename).read_text().split()


def label_map(name_or_path: Union[str, Path], head_classes: Optional[int] = None) -> torch.Tensor:
    """Column indices of the evaluated classes in the head's logits: ``logits[:, map]`` scores class i of the
    evaluation set with the head's column ``map[i]``.

    Args:
        name_or_path: one of :data:`NAMES` or a text file with one head index per evaluated class (-1: the head
            has no such class).
        head_classes: the head's size; selects the 21K release (:data:`HEAD_SYNSETS`) and checks the map.

    Returns:
        ``LongTensor [num_eval_classes]``; -1 marks a class the head cannot predict (IN-1K's teddy bear,
        n04399382, is in neither the fall11 nor the 21841-class release).
    """
    name = str(name_or_path)
    if name == "in1k_from_21k":
        if head_classes not in HEAD_SYNSETS:
            raise ValueError(f"in1k_from_21k needs a 21K head of {sorted(HEAD_SYNSETS)} classes, the model has "
                             f"{head_classes}")
        where = {s: i for i, s in enumerate(_timm_info(HEAD_SYNSETS[head_classes]))}
        index = [where.get(s, -1) for s in _timm_info("imagenet_synsets.txt")]
    elif name in ("imagenet_a", "imagenet_r"):
        index = [int(i) for i in _timm_info(f"{name}_indices.txt")]
    elif Path(name).is_file():
        index = [int(x) for x in Path(name).read_text().split()]
    else:
        raise ValueError(f"unknown label map {name!r}: use one of {NAMES}, 'in1k_from_21k', or a file of indices")
    index = torch.tensor(index, dtype=torch.long)
    if head_classes is not None and int(index.max()) >= head_classes:
        raise ValueError(f"label map {name!r} needs a head of more than {int(index.max())} classes, the model has "
                         f"{head_classes}")
    return index
