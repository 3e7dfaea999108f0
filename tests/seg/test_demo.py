"""The CPU demo config (`make demo`): it builds with only `custom_imports`, and its dataset class writes and reads
the real composites in mmseg's layout."""
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
