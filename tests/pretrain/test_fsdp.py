"""FSDP through mmengine's FlexibleRunner: two CPU processes (torchrun, gloo) sharding a tiny EVA MIM run give the
same weights as one process with the same global batch. Clipping is on and weight decay is large, so a per-shard
gradient norm or a wrong no-decay decision on FSDP's flattened parameters would show."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

CONFIGS = Path(__file__).resolve().parents[2] / "pretrain" / "configs"
MAX_NORM = 0.05


def _write_configs(root: Path) -> tuple:
    (root / "base.py").write_text(f"""
_base_ = ["{CONFIGS / 'eva02_tiny_demo_fashion_mnist.py'}"]
model = dict(backbone=dict(img_size=64, depth=2, rope_ref_grid=8), teacher=dict(input_size=128))
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False, sampler=dict(seed=0),
                        dataset=dict(num_samples=64, transform=dict(img_size=64)))
train_cfg = dict(max_iters=3)
param_scheduler = [dict(type="ConstantLR", factor=1.0, by_epoch=False)]
optim_wrapper = dict(clip_grad=dict(max_norm={MAX_NORM}), optimizer=dict(lr=1e-3, weight_decay=5.0))
default_hooks = dict(checkpoint=dict(interval=3), logger=dict(interval=1))
custom_hooks = [dict(type="BackboneExportHook")]
""")
    (root / "single.py").write_text("""
_base_ = ["./base.py"]
runner_type = "FlexibleRunner"  # builds the model at the same point of the RNG stream as the FSDP run
""")
    (root / "fsdp.py").write_text(f"""
_base_ = ["./base.py", "{CONFIGS / '_base_' / 'fsdp.py'}"]
train_dataloader = dict(batch_size=4)  # x 2 ranks = the single-process batch
""")
    return root / "single.py", root / "fsdp.py"


def _grad_norms(work: Path):
    log = next(work.glob("*/*.log")).read_text()
    return [float(x) for x in re.findall(r"grad_norm: ([0-9.]+)", log)]


@pytest.mark.timeout(400)
def test_fsdp_two_processes_match_one_process(tmp_path):
    single_cfg, fsdp_cfg = _write_configs(tmp_path)
    cli = ["-m", "eva.backbone.cli", "pretrain"]
    single = subprocess.run([sys.executable, *cli, str(single_cfg), "--work-dir", str(tmp_path / "single")],
                            capture_output=True, text=True, timeout=180)
    assert single.returncode == 0, single.stderr[-3000:]
    fsdp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--master_port", "29523", *cli, str(fsdp_cfg), "--work-dir", str(tmp_path / "fsdp")],
                          capture_output=True, text=True, timeout=300)
    assert fsdp.returncode == 0, fsdp.stderr[-3000:]

    norms_single, norms_fsdp = _grad_norms(tmp_path / "single"), _grad_norms(tmp_path / "fsdp")
    assert len(norms_single) == 3 and min(norms_single) > 10 * MAX_NORM  # clipping was active on every step
    assert norms_fsdp == pytest.approx(norms_single, rel=1e-3)  # the whole gradient's norm, not one shard's
    for name in ("backbone.safetensors", "mim_head.safetensors"):
        a, b = load_file(tmp_path / "single" / name), load_file(tmp_path / "fsdp" / name)
        assert sorted(a) == sorted(b), name
        for k in a:
            torch.testing.assert_close(b[k], a[k], atol=1e-6, rtol=1e-5, msg=f"{name}: {k}")
