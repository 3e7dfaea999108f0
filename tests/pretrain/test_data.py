"""MIM datasets: real Fashion-MNIST, image folders and webdataset tar shards give the same, seeded samples."""
import numpy as np
import pytest
import torch
from PIL import Image

from eva.backbone.data import load_real_images
from eva.pretrain.data import ImageFolderMIMDataset, RealImageMIMDataset, TarShardMIMDataset

TRANSFORM = dict(img_size=32, patch_size=8, min_block=2)


@pytest.fixture(scope="module")
def real_pngs(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    data = load_real_images("test").subset(12, seed=1)
    paths = []
    for i, (img, label) in enumerate(zip(data.images, data.labels)):
        (root / f"c{label}").mkdir(exist_ok=True)
        p = root / f"c{label}" / f"img{i:03d}.png"
        Image.fromarray(img).convert("RGB").save(p)
        paths.append(p)
    return root, sorted(paths)


def test_samples_depend_only_on_seed_epoch_and_index():
    ds = RealImageMIMDataset(TRANSFORM, split="test", num_samples=20)
    a, b, c = ds[(0, 3)]["inputs"], ds[(0, 3)]["inputs"], ds[(1, 3)]["inputs"]
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])
    assert not torch.equal(a["image"], c["image"])
    assert a["image"].shape == (3, 32, 32) and a["mask"].shape == (4, 4) and a["image"].max() <= 1


def test_tar_shards_match_image_folder(tmp_path, real_pngs):
    wds = pytest.importorskip("webdataset")
    root, paths = real_pngs
    with wds.ShardWriter(str(tmp_path / "train-%04d.tar"), maxcount=5) as sink:
        for i, p in enumerate(paths):
            sink.write({"__key__": f"{i:06d}", "png": p.read_bytes(), "cls": str(i).encode()})
    shards = TarShardMIMDataset(TRANSFORM, str(tmp_path / "train-*.tar"))
    folder = ImageFolderMIMDataset(TRANSFORM, str(root))
    assert len(shards) == len(folder) == 12 and len(shards.shards) == 3
    by_bytes = {np.asarray(Image.open(p).convert("RGB")).tobytes(): p for p in paths}
    for i in range(len(shards)):
        img = (shards.load(i) * 255).round().byte().permute(1, 2, 0).numpy()
        assert img.tobytes() in by_bytes  # every shard member decodes to one of the original images
    cached = TarShardMIMDataset(TRANSFORM, str(tmp_path / "train-*.tar"))  # reuses the index file
    assert cached.index == shards.index
    with pytest.raises(FileNotFoundError, match="no tar shards"):
        TarShardMIMDataset(TRANSFORM, str(tmp_path / "missing-*.tar"))
