"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` (installed by ``make setup``), with scikit-learn's
``load_digits`` as the fallback where the Debian package is unavailable."""
from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np

FASHION_MNIST_DIR = Path(os.environ.get("EVA_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))
FASHION_MNIST_CLASSES = ["t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
                         "bag", "ankle boot"]


@dataclass
class RealImageSet:
    """Grey images with labels.

    Attributes:
        images: ``uint8`` ``[N, H, W]``.
        labels: ``int64`` ``[N]``.
        classes: class names.
        name: where the data came from.
    """

    images: np.ndarray
    labels: np.ndarray
    classes: List[str]
    name: str

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, n: Optional[int], seed: int = 0) -> "RealImageSet":
        """A class-stratified-in-expectation random subset of ``n`` samples (all if ``n`` is None)."""
        if n is None or n >= len(self):
            return self
        idx = np.random.default_rng(seed).permutation(len(self))[:n]
        return RealImageSet(self.images[idx], self.labels[idx], self.classes, self.name)


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist(split: str = "train", root: Path = FASHION_MNIST_DIR) -> RealImageSet:
    """Fashion-MNIST ``train`` (60k) or ``test`` (10k) split, 28x28 grey, 10 classes."""
    prefix = {"train": "train", "test": "t10k"}[split]
    images = _read_idx(Path(root) / f"{prefix}-images-idx3-ubyte.gz")
    labels = _read_idx(Path(root) / f"{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
    return RealImageSet(images, labels, FASHION_MNIST_CLASSES, f"fashion-mnist/{split}")


def _load_digits(split: str) -> RealImageSet:
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.clip(d.images * 16, 0, 255).astype(np.uint8)  # 8x8, values 0..16 -> 0..255
    rng = np.random.default_rng(0)
    order = rng.permutation(len(images))
    cut = int(0.8 * len(order))
    idx = order[:cut] if split == "train" else order[cut:]
    return RealImageSet(images[idx], d.target[idx].astype(np.int64), [str(i) for i in range(10)],
                        f"sklearn-digits/{split}")


def load_real_images(split: str = "train") -> RealImageSet:
    """Fashion-MNIST when the Debian package is installed, else scikit-learn's digits (8x8)."""
    if (FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        return load_fashion_mnist(split)
    return _load_digits(split)
