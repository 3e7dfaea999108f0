"""The CPU demo config (`make demo`): it builds with only `custom_imports`, its dataset class writes and reads
the real composites in mmseg's layout, and a killed run resumes exactly."""
from pathlib import Path

import pytest

pytest.importorskip("mmseg", reason="eva.seg needs mmsegmentation (make setup installs it)")

from mmengine.config import Config  # noqa: E402

DEMO = Path(__file__).resolve().parents[2] / "seg" / "configs" / "demo" / "upernet_eva02_tiny_composites.py"


def test_demo_config_builds_and_its_dataset_writes_composites(tmp_path):
    from mmengine.utils import import_modules_from_strings
    from mmseg.registry import DATASETS, MODELS
    from mmseg.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(DEMO)
    import_modules_from_strings(**cfg.custom_imports)
    assert (cfg.train_cfg.max_iters, cfg.train_dataloader.batch_size, cfg.model.backbone.patch_size) == (700, 8, 8)
    cfg.model.backbone.pretrained = None
    model = MODELS.build(cfg.model)
    assert model.decode_head.num_classes == 11
    import torch

    with torch.no_grad():  # patch 8: the neck's rescales still give UperNet its strides 4, 8, 16, 32
        feats = model.extract_feat(torch.zeros(1, 3, 128, 128))
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4]
    ds_cfg = dict(cfg.val_dataloader.dataset, data_root=str(tmp_path / "val"), num_images=3)
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == 3 and ds.metainfo["classes"][0] == "background"
    sample = ds[0]
    assert tuple(sample["data_samples"].gt_sem_seg.data.shape[-2:]) == (128, 128)
    assert len(list((tmp_path / "val" / "img").glob("*.jpg"))) == 3


def test_written_labels_are_the_item_class_plus_one(tmp_path):
    import numpy as np
    from PIL import Image

    from eva.backbone.data import FASHION_MNIST_CLASSES, make_composites
    from eva.seg.data import CLASSES, write_semantic_composites

    root = write_semantic_composites(str(tmp_path), 6, size=64, split="test", seed=3)
    comps = make_composites(6, size=64, split="test", seed=3, object_size=(16, 32), min_visible=0.0)  # as written
    hidden = make_composites(6, size=64, split="test", seed=3, object_size=(16, 32))  # detection's: drops items
    assert sum(len(c.labels) for c in hidden) < sum(len(c.labels) for c in comps)  # ... that are mostly hidden
    for i, comp in enumerate(comps):
        label = np.asarray(Image.open(root / "ann" / f"{i:05d}.png"))
        assert (label[~comp.masks.any(0)] == 0).all()  # the photo is "background"
        for mask, cls in zip(comp.masks, comp.labels):
            assert (label[mask] == cls + 1).all()  # (an item hidden entirely has an empty mask)
            assert CLASSES[cls + 1] == FASHION_MNIST_CLASSES[cls]
    kept = (root / "ann" / "00000.png").stat().st_mtime_ns
    assert write_semantic_composites(str(tmp_path), 6, size=64, split="test", seed=3) == root
    assert (root / "ann" / "00000.png").stat().st_mtime_ns == kept  # the same settings: nothing rewritten
    (root / "composites.json").write_text('{"labels": 1}')  # a set from an earlier labelling rule ...
    write_semantic_composites(str(tmp_path), 3, size=64, split="test", seed=3)
    assert len(list((root / "ann").glob("*.png"))) == len(list((root / "img").glob("*.jpg"))) == 3  # ... replaced


@pytest.mark.parametrize("workers", [1, 0])
def test_kill_and_resume_gives_the_uninterrupted_weights(tmp_path, workers, monkeypatch):
    """The recipes' iteration loop through `eva seg train`'s runner: killed after iteration 5 with a checkpoint at
    3, resumed, it ends bit-for-bit where an uninterrupted run ends (fixed seed, drop path), with or without
    data-loading workers, and the resumed run loads only the batches it trains on."""
    from eva.seg.cli import _register
    from eva.seg.data import SemanticCompositesDataset

    from ..crash import Killed, assert_same_weights, kill_after, train_part

    cfg = tmp_path / "tiny.py"
    cfg.write_text(
        f"_base_ = [{str(DEMO)!r}]\n"
        f"model = dict(backbone=dict(depth=4, out_indices=(0, 1, 2, 3), drop_path_rate=0.1, pretrained=None))\n"
        f"train_dataloader = dict(batch_size=2, num_workers={workers},\n"
        f"    dataset=dict(data_root={str(tmp_path / 'train')!r}, num_images=16))\n"
        f"val_dataloader = dict(dataset=dict(data_root={str(tmp_path / 'val')!r}, num_images=2))\n"
        f"train_cfg = dict(max_iters=6, val_interval=100, val_begin=100)\n"
        f"param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=6)]\n"
        f"default_hooks = dict(checkpoint=dict(interval=3, max_keep_ckpts=3))\n")
    straight = train_part(cfg, tmp_path / "straight", ["eva.seg"], _register).model.state_dict()
    with pytest.raises(Killed):
        train_part(cfg, tmp_path / "killed", ["eva.seg"], _register, options=kill_after(5))
    loaded = []
    read = SemanticCompositesDataset.__getitem__
    monkeypatch.setattr(SemanticCompositesDataset, "__getitem__", lambda self, i: loaded.append(i) or read(self, i))
    resumed = train_part(cfg, tmp_path / "killed", ["eva.seg"], _register, resume=True).model.state_dict()
    if not workers:  # (workers load in their own processes)
        assert len(loaded) == 3 * 2  # iterations 4-6 of batch 2: mmengine's own loop would load all 12
    assert sorted(p.name for p in (tmp_path / "killed").glob("iter_*.pth")) == ["iter_3.pth", "iter_6.pth"]
    assert_same_weights(straight, resumed)
