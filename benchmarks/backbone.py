#!/usr/bin/env python
"""Our EVA backbone vs timm's ``Eva`` on the same variant: forward and forward+backward throughput and peak
memory, with the ratio measured in the same run. Each measurement runs in its own process so peak memory is
isolated; the two implementations alternate to share machine noise.

    python benchmarks/backbone.py --device cpu --models eva02_small_patch14_224 eva02_base_patch14_224
"""
from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import torch


def build(impl: str, name: str, device: str):
    import timm

    from eva.backbone import convert_state_dict, create_model
    torch.manual_seed(0)
    peer = timm.create_model(name, pretrained=False, num_classes=1000)
    if impl == "timm":
        return peer.to(device)
    ours = create_model(name, num_classes=1000)
    sd, report = convert_state_dict(peer.state_dict(), ours)
    assert report.ok, report.summary()
    ours.load_state_dict(sd)
    return ours.to(device)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def measure(impl, name, mode, args, queue):
    torch.set_num_threads(args.threads)
    device = args.device
    model = build(impl, name, device)
    x = torch.randn(args.batch_size, 3, args.img_size, args.img_size, device=device)
    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=args.dtype == "bf16")
    if mode == "fwd":
        model.eval()

        def step():
            with torch.no_grad(), autocast:
                model(x)
    else:
        model.train()

        def step():
            with autocast:
                model(x).float().mean().backward()

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for _ in range(args.warmup):
        step()
    sync()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    base_rss = _rss_mb()
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base_rss)
    queue.put(dict(img_s=args.batch_size / statistics.median(times), peak_mb=peak))


def run_isolated(impl, name, mode, args):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=measure, args=(impl, name, mode, args, q))
    p.start()
    out = q.get()
    p.join()
    return out


def max_abs_diff(name, device):
    a, b = build("ours", name, device).eval(), build("timm", name, device).eval()
    x = torch.randn(2, 3, 224, 224, device=device)
    with torch.no_grad():
        return (a(x) - b(x)).abs().max().item()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--models", nargs="+", default=["eva02_small_patch14_224", "eva02_base_patch14_224"])
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--img-size", type=int, default=224)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2, help="alternating ours/timm rounds; the best is kept")
    ap.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--json", default=None, help="output JSON (default benchmarks/results/backbone_<device>.json)")
    args = ap.parse_args(argv)
    # glibc's adaptive mmap threshold makes CPU timings depend on allocation history (page faults on reused vs
    # fresh memory); a fixed threshold, inherited by the measuring processes, gives both sides the same allocator
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", "131072")

    rows = []
    for name in args.models:
        diff = max_abs_diff(name, args.device)
        for mode in ("fwd", "fwd+bwd"):
            best = {}
            for _ in range(args.rounds):
                for impl in ("ours", "timm"):
                    r = run_isolated(impl, name, mode, args)
                    if impl not in best or r["img_s"] > best[impl]["img_s"]:
                        best[impl] = r
            row = dict(model=name, mode=mode, ours_img_s=best["ours"]["img_s"], timm_img_s=best["timm"]["img_s"],
                       speed_ratio=best["ours"]["img_s"] / best["timm"]["img_s"],
                       ours_peak_mb=best["ours"]["peak_mb"], timm_peak_mb=best["timm"]["peak_mb"],
                       max_abs_diff_vs_timm=diff)
            rows.append(row)
            print(f"{name:28s} {mode:8s} ours {row['ours_img_s']:8.2f} img/s  timm {row['timm_img_s']:8.2f} img/s  "
                  f"ratio {row['speed_ratio']:.2f}x  peak MB ours {row['ours_peak_mb']:.0f} / timm "
                  f"{row['timm_peak_mb']:.0f}  |diff| {diff:.1e}", flush=True)
    import timm
    meta = dict(date=datetime.date.today().isoformat(), device=args.device,
                processor=platform.processor() or platform.machine(),
                gpu=torch.cuda.get_device_name() if args.device == "cuda" else None,
                threads=args.threads, torch=torch.__version__, timm=timm.__version__, batch_size=args.batch_size,
                img_size=args.img_size, dtype=args.dtype, iters=args.iters, rounds=args.rounds)
    out = Path(args.json or Path(__file__).parent / "results" / f"backbone_{args.device}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(meta=meta, results=rows), indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
