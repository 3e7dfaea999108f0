"""Classification data: tar shards (with .cls labels) and image folders give the same seeded samples; the
Fashion-MNIST set carries its class names."""
import io
import tarfile

import numpy as np
import pytest
import torch

from eva.cls import ImageFolderClsDataset, RealImageClsDataset, TarShardClsDataset

T = dict(img_size=32, training=True, scale=(0.5, 1.0))


@pytest.fixture
def folder_and_shards(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    members = []
    for label, cls in enumerate(("ant", "bee")):
        (tmp_path / "folder" / cls).mkdir(parents=True)
        for i in range(3):
            img = Image.fromarray(rng.integers(0, 255, (36, 40, 3), dtype=np.uint8))
            img.save(tmp_path / "folder" / cls / f"{i}.png")
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            members += [(f"{cls}_{i}.png", buf.getvalue()), (f"{cls}_{i}.cls", str(label).encode())]
    with tarfile.open(tmp_path / "train-0.tar", "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return tmp_path / "folder", str(tmp_path / "train-*.tar")


def test_shards_and_folder_give_the_same_samples(folder_and_shards):
    folder, shards = folder_and_shards
    a, b = ImageFolderClsDataset(T, str(folder)), TarShardClsDataset(T, shards, classes=["ant", "bee"])
    assert len(a) == len(b) == 6 and a.classes == b.classes == ["ant", "bee"]
    for i in range(6):  # both list ant_0..2 then bee_0..2
        x, y = a[(3, i)], b[(3, i)]
        assert torch.equal(x["inputs"], y["inputs"]) and x["data_samples"] == y["data_samples"] == i // 3


def test_samples_are_a_function_of_seed_epoch_index(folder_and_shards):
    folder, _ = folder_and_shards
    ds = ImageFolderClsDataset(T, str(folder))
    torch.manual_seed(123)
    first = ds[(1, 2)]["inputs"]
    torch.manual_seed(999)
    assert torch.equal(ds[(1, 2)]["inputs"], first)
    assert not torch.equal(ds[(2, 2)]["inputs"], first)  # another epoch, another augmentation


def test_shards_without_labels_say_so(tmp_path):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG")
    with tarfile.open(tmp_path / "s-0.tar", "w") as tar:
        info = tarfile.TarInfo("x.png")
        info.size = len(buf.getvalue())
        tar.addfile(info, io.BytesIO(buf.getvalue()))
    ds = TarShardClsDataset(T, str(tmp_path / "s-*.tar"), classes=2)
    with pytest.raises(ValueError, match=r"no \.cls member"):
        ds[0]


def test_real_images_have_class_names():
    ds = RealImageClsDataset(dict(T, training=False), split="test", num_samples=20)
    item = ds[0]
    assert item["inputs"].shape == (3, 32, 32) and len(ds.classes) == 10 and 0 <= item["data_samples"] < 10
    assert ds.metainfo["classes"] == ds.classes


def test_read_only_shard_folder_keeps_the_index_in_memory(folder_and_shards, monkeypatch):
    """Data sets often sit on read-only mounts: the index cache cannot be written there, and that is no error."""
    import tempfile

    _, shards = folder_and_shards

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # what atomic_path meets on a read-only folder
    with pytest.warns(UserWarning, match="could not cache the shard index"):
        ds = TarShardClsDataset(T, shards, classes=["ant", "bee"])
    assert len(ds) == 6 and ds[(0, 5)]["data_samples"] == 1
