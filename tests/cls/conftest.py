"""Shared fixtures: a tiny classification config on real Fashion-MNIST (digits as fallback)."""
from pathlib import Path

import pytest

pytest.importorskip("mmengine", reason="eva.cls needs mmengine (make setup installs it)")

CONFIGS = Path(__file__).resolve().parents[2] / "cls" / "configs"
TINY_BACKBONE = dict(name="eva02_tiny_patch14_224", img_size=48, patch_size=8, depth=2, rope_ref_grid=6,
                     drop_path_rate=0.0)


def write_tiny_config(root: Path, max_iters: int = 150, train_samples: int = 4000, test_samples: int = 1000,
                      extra: str = "") -> Path:
    """The demo config shrunk to a 2-block EVA at 48 px, random init, fixed subsets of the real data."""
    cfg = root / "tiny_cls.py"
    cfg.write_text(f"""
_base_ = ["{CONFIGS / 'eva02_tiny_demo_fashion_mnist.py'}"]
model = dict(backbone={TINY_BACKBONE!r}, pretrained=None)
_t = dict(img_size=48, scale=(0.35, 1.0), crop_pct=1.0)
train_dataloader = dict(batch_size=32, num_workers=0, persistent_workers=False,
                        dataset=dict(num_samples={train_samples}, transform=dict(_t, training=True)))
val_dataloader = dict(batch_size=250, num_workers=0,
                      dataset=dict(num_samples={test_samples}, transform=dict(_t, training=False)))
test_dataloader = val_dataloader
max_iters = {max_iters}
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type="LinearLR", start_factor=1e-3, by_epoch=False, begin=0, end={max(1, max_iters // 10)}),
    dict(type="CosineAnnealingLR", by_epoch=False, begin={max(1, max_iters // 10)}, end=max_iters, eta_min=1e-6),
]
default_hooks = dict(checkpoint=dict(interval=max_iters), logger=dict(interval=10))
{extra}
""")
    return cfg
