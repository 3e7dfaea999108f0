"""Random access to webdataset-style tar shards, shared by pre-training (images) and classification (images
+ labels).

A sample is the group of members sharing a key (``<key>.jpg`` + ``<key>.cls``...). The member index is built
once by scanning the tar headers and cached next to the first shard, so sampling, sharding across ranks and
exact resume work as for any map-style dataset, at the 30M-image scale.
"""
from __future__ import annotations

import glob
import io
import os
import posixpath
import tarfile
import warnings
from typing import List, Optional, Tuple, Union

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
_NONE = (-1, 0)


def _split_key(name: str) -> Tuple[str, str]:
    """webdataset's rule: the key is the path up to the first dot of the file name."""
    folder, base = posixpath.split(name)
    stem, _, ext = base.partition(".")
    return posixpath.join(folder, stem), "." + ext.lower()


class TarShardIndex:
    """Images (and optional ``.cls`` integer labels) in tar shards.

    Args:
        shards: a glob pattern (``"data/shards/train-*.tar"``) or a list of paths.
        cache_index: write / reuse ``<first shard>.<n>shards.index.txt``.
    """

    def __init__(self, shards: Union[str, List[str]], cache_index: bool = True):
        self.shards = sorted(glob.glob(shards)) if isinstance(shards, str) else list(shards)
        if not self.shards:
            raise FileNotFoundError(f"no tar shards match {shards!r}")
        #: ``(shard, image offset, image size, label offset, label size)``; label offset -1 = no label.
        self.entries = self._load_or_build(cache_index)

    def _index_path(self) -> str:
        return self.shards[0] + f".{len(self.shards)}shards.index.txt"

    def _load_or_build(self, cache: bool) -> List[Tuple[int, int, int, int, int]]:
        path = self._index_path()
        if cache and os.path.exists(path) and os.path.getmtime(path) >= max(map(os.path.getmtime, self.shards)):
            with open(path) as f:
                rows = [tuple(int(x) for x in line.split()) for line in f]
            if all(len(r) == 5 for r in rows):
                return rows
        entries = []
        for shard_id, shard in enumerate(self.shards):
            images, labels = {}, {}
            with tarfile.open(shard) as tar:
                for m in tar:
                    if not m.isfile():
                        continue
                    key, ext = _split_key(m.name)
                    if ext in IMAGE_EXTS:
                        images[key] = (m.offset_data, m.size)
                    elif ext == ".cls":
                        labels[key] = (m.offset_data, m.size)
            entries += [(shard_id, *images[k], *labels.get(k, _NONE)) for k in images]  # tar order
        if cache:  # atomic: concurrent ranks never read a half-written index
            from ..checkpoint import atomic_path
            try:
                with atomic_path(path) as tmp, open(tmp, "w") as f:
                    f.writelines(" ".join(map(str, e)) + "\n" for e in entries)
            except OSError as e:  # a read-only data mount: index in memory only
                warnings.warn(f"could not cache the shard index at {path} ({e}); it is rebuilt on each start "
                              f"(cache_index=False silences this)")
        return entries

    def __len__(self) -> int:
        return len(self.entries)

    def _read(self, shard_id: int, offset: int, size: int) -> bytes:
        with open(self.shards[shard_id], "rb") as f:
            f.seek(offset)
            return f.read(size)

    def image(self, index: int):
        """The sample's image as an RGB ``PIL.Image``."""
        from PIL import Image

        shard_id, offset, size = self.entries[index][:3]
        return Image.open(io.BytesIO(self._read(shard_id, offset, size))).convert("RGB")

    def label(self, index: int) -> Optional[int]:
        """The sample's ``.cls`` label, or ``None`` when the shard has none."""
        shard_id, _, _, offset, size = self.entries[index]
        return None if offset < 0 else int(self._read(shard_id, offset, size).decode().strip())
