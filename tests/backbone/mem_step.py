"""Run real training steps (fwd + bwd + AdamW) in a fresh process and print the peak memory growth (RSS) over
the weights: the second step is the steady state (optimizer state allocated, gradients freed and rebuilt).
Run with ``MALLOC_MMAP_THRESHOLD_`` fixed so that freed tensors leave the resident set at once.

    python -m tests.backbone.mem_step MODEL TASK IMG BATCH CKPT
"""
import json
import resource
import sys

import torch

from eva.backbone.model import EVAViT
from eva.backbone.plan import task_model_args


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _reset_peak() -> None:
    """Restart the kernel's peak-RSS counter (VmHWM), so imports and set-up don't count."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(name: str, task: str, img: str, batch: str, ckpt: str) -> None:
    torch.set_num_threads(1)
    args, hw = task_model_args(name, task, int(img))
    torch.manual_seed(0)
    model = EVAViT(**args)
    model.set_grad_checkpointing(ckpt == "1")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(int(batch), 3, *hw)
    _reset_peak()
    base = _rss()
    for _ in range(2):
        model(x).float().square().mean().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    peak = _peak()
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    print(json.dumps(dict(step_bytes=peak - base, weights=weights)))


if __name__ == "__main__":
    main(*sys.argv[1:])
