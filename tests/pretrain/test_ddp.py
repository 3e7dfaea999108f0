"""Two-process torchrun (gloo, CPU) gives the single-process gradients for the same global batch, and the
teacher is never part of the DDP-wrapped model."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from .ddp_worker import build, global_batch


@pytest.mark.timeout(300)
def test_two_process_ddp_matches_single_process(tmp_path):
    out = tmp_path / "ddp_grads.pt"
    worker = Path(__file__).with_name("ddp_worker.py")
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--master_port", "29517", str(worker), str(out)], capture_output=True, text=True,
                         timeout=280)
    assert res.returncode == 0, res.stderr[-3000:]
    ddp = torch.load(out, weights_only=True)
    assert not any("teacher" in n for n in ddp["wrapped"])

    model = build()
    images, masks = global_batch()
    model.loss(images, masks)["loss"].backward()
    for name, p in model.named_parameters():
        torch.testing.assert_close(ddp["grads"][name], p.grad, atol=1e-6, rtol=1e-4, msg=name)
