#!/usr/bin/env python
"""Detection training loaders: ``eva.det.loader`` (exact resume) against detectron2's
``build_detection_train_loader`` on the same dataset, mapper (the demo recipe's LSJ augmentation of real
composites) and sampler, in the same run, alternating. Also times how long our loader takes to reach a late
iteration when a run resumes (it replays indices only; detectron2's loader cannot start there at all).

    python benchmarks/det_loader.py --workers 0 2 --batches 60
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def build(impl: str, cfg, workers: int):
    from detectron2.config import instantiate
    from detectron2.data import build_detection_train_loader
    from detectron2.data.samplers import TrainingSampler

    from eva.det.loader import build_resumable_train_loader

    dicts, mapper = instantiate(cfg.dataloader.train.dataset), instantiate(cfg.dataloader.train.mapper)
    builder = build_resumable_train_loader if impl == "ours" else build_detection_train_loader
    return builder(dicts, mapper=mapper, total_batch_size=cfg.dataloader.train.total_batch_size,
                   sampler=TrainingSampler(len(dicts), seed=0), num_workers=workers)


def images_per_s(loader, batches: int, warmup: int = 3) -> float:
    it = iter(loader)
    for _ in range(warmup):  # worker start-up and the first prefetch
        next(it)
    n, t0 = 0, time.perf_counter()
    for _ in range(batches):
        n += len(next(it))
    return n / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--batches", type=int, default=60, help="timed batches per measurement")
    p.add_argument("--rounds", type=int, default=4, help="rounds, alternating which loader goes first (median)")
    p.add_argument("--resume-at", type=int, default=90_000, help="iteration for the time-to-resume measurement")
    p.add_argument("--data-root", default=str(ROOT / "datasets"), help="where the composites are (built once)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "det_loader_cpu.json"))
    args = p.parse_args()

    import detectron2
    from detectron2.config import LazyConfig

    torch.set_num_threads(1)
    cfg = LazyConfig.load(str(ROOT / "det" / "configs" / "demo" / "eva02_tiny_composites.py"))
    cfg = LazyConfig.apply_overrides(cfg, [f"dataloader.train.dataset.names.root={args.data_root}"])
    images_per_s(build("detectron2", cfg, 0), args.batches)  # both then read the same images from a warm cache
    results = []
    for workers in args.workers:
        speeds = {"ours": [], "detectron2": []}
        for r in range(args.rounds):
            for impl in (("ours", "detectron2") if r % 2 == 0 else ("detectron2", "ours")):
                speeds[impl].append(images_per_s(build(impl, cfg, workers), args.batches))
        ours, peer = (statistics.median(speeds[k]) for k in ("ours", "detectron2"))
        results.append(dict(workers=workers, ours_img_s=ours, detectron2_img_s=peer, speed_ratio=ours / peer))
        print(f"workers={workers}: ours {ours:.1f} img/s, detectron2 {peer:.1f} img/s, ratio {ours / peer:.2f}x",
              flush=True)
    from eva.backbone.seeding import sample_seed, seeded

    t0 = time.perf_counter()
    for i in range(2000):  # what ours adds per image: hashing the sample's seed and seeding under it
        with seeded(sample_seed(0, i, 0)):
            pass
    seed_ms = (time.perf_counter() - t0) / 2000 * 1e3
    print(f"per-sample seed alone: {seed_ms:.3f} ms per image", flush=True)
    loader = build("ours", cfg, 0)
    loader.start_iter = args.resume_at
    t0 = time.perf_counter()
    next(iter(loader))
    resume_s = time.perf_counter() - t0
    print(f"first batch of a run resumed at iteration {args.resume_at}: {resume_s:.2f} s "
          f"({cfg.dataloader.train.total_batch_size} images per iteration)", flush=True)
    meta = dict(date=datetime.date.today().isoformat(), processor=platform.processor(), torch=torch.__version__,
                detectron2=detectron2.__version__, python=sys.version.split()[0],
                batch_size=cfg.dataloader.train.total_batch_size, batches=args.batches, rounds=args.rounds,
                mapper="demo recipe LSJ (flip, ResizeScale 0.5-1.5, FixedSizeCrop 192) on 192-px composites")
    out = dict(meta=meta, results=results, per_sample_seed_ms=seed_ms,
               resume=dict(at_iteration=args.resume_at, first_batch_s=resume_s))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
