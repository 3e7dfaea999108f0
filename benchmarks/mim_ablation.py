#!/usr/bin/env python
"""Does EVA's MIM with feature targets help? Same tiny backbone, same budget, on Fashion-MNIST:

  (a) no pre-training, (b) MIM with normalised-pixel targets, (c) MIM with EfficientNet-Lite0 feature targets,

each followed by a linear probe (frozen features, scikit-learn logistic regression) and a short fine-tune, scored
on the test split. Mean (and spread) over seeds; writes benchmarks/results/mim_ablation.{json,md,png}.
Minutes to ~1 hour on 2 CPU cores; not part of `make test`.

    python benchmarks/mim_ablation.py --seeds 0 1 --pretrain-iters 300
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

RESULTS = Path(__file__).parent / "results"
BACKBONE = dict(name="eva02_tiny_patch14_224", img_size=80, patch_size=8, depth=6, rope_ref_grid=10)


def pretrain(method: str, seed: int, iters: int, work: Path) -> Path | None:
    if method == "none":
        return None
    from eva.pretrain.cli import DEMO_CONFIG, build_runner

    teacher = dict(type="pixel", patch_size=8) if method == "pixel" else \
        dict(type="efficientnet_lite0", block=10, input_size=160)
    teacher["_delete_"] = True  # replace the config's teacher instead of merging into it
    opts = {"model.teacher": teacher, "randomness.seed": seed, "train_dataloader.dataset.seed": seed,
            "train_cfg.max_iters": iters,
            "param_scheduler": [dict(type="LinearLR", start_factor=1e-3, by_epoch=False, begin=0, end=iters // 10),
                                dict(type="CosineAnnealingLR", by_epoch=False, begin=iters // 10, end=iters,
                                     eta_min=1e-5)],
            "visualizer.vis_backends": [dict(type="LocalVisBackend")]}
    runner = build_runner(str(DEMO_CONFIG), str(work / f"{method}_s{seed}"), cfg_options=opts)
    runner.train()
    return Path(runner.work_dir) / "backbone.safetensors"


def load_split(split: str, n: int, seed: int):
    from eva.backbone.data import load_real_images
    d = load_real_images(split).subset(n, seed)
    x = torch.from_numpy(d.images).float().div(255).unsqueeze(1).expand(-1, 3, -1, -1)
    x = F.interpolate(x, size=(80, 80), mode="bilinear", align_corners=False)
    mean = torch.tensor((0.48145466, 0.4578275, 0.40821073)).view(1, 3, 1, 1)
    std = torch.tensor((0.26862954, 0.26130258, 0.27577711)).view(1, 3, 1, 1)
    return (x - mean) / std, torch.from_numpy(d.labels)


def build(ckpt: Path | None, seed: int, num_classes: int = 0):
    from eva.backbone import create_model, load_checkpoint
    torch.manual_seed(seed)
    args = {k: v for k, v in BACKBONE.items() if k != "name"}
    model = create_model(BACKBONE["name"], num_classes=num_classes, drop_path_rate=0.1, **args)
    if ckpt is not None:
        load_checkpoint(model, ckpt, strict=False)  # head is new
    return model


@torch.no_grad()
def features(model, x, bs=256):
    model.eval()
    return torch.cat([model.forward_head(model.forward_features(x[i:i + bs]), pre_logits=True)
                      for i in range(0, len(x), bs)])


def linear_probe(ckpt, seed, train, test) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    model = build(ckpt, seed)
    ftr, fte = features(model, train[0]).numpy(), features(model, test[0]).numpy()
    scaler = StandardScaler().fit(ftr)  # BatchNorm without affine, as EVA-CLIP's probe
    clf = LogisticRegression(max_iter=2000, C=1.0).fit(scaler.transform(ftr), train[1].numpy())
    return float((clf.predict(scaler.transform(fte)) == test[1].numpy()).mean())


def finetune(ckpt, seed, train, test, epochs: int, lr: float = 1e-3, layer_decay: float = 0.75) -> float:
    from eva.backbone import param_groups_layer_decay
    model = build(ckpt, seed, num_classes=10)
    groups = param_groups_layer_decay(model, weight_decay=0.05, layer_decay=layer_decay)
    for g in groups:
        g["lr"] = lr * g["lr_scale"]
    opt = torch.optim.AdamW(groups, lr=lr)
    x, y = train
    steps = epochs * (len(x) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in groups], total_steps=steps,
                                                pct_start=0.1)
    g = torch.Generator().manual_seed(seed)
    model.train()
    from tqdm import tqdm
    for _ in tqdm(range(epochs), desc="fine-tune epochs", leave=False):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x) - 63, 64):
            idx = perm[i:i + 64]
            loss = F.cross_entropy(model(x[idx]), y[idx], label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(test[0][i:i + 256]).argmax(1) for i in range(0, len(test[0]), 256)])
    return float((pred == test[1]).float().mean())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--pretrain-iters", type=int, default=300)
    ap.add_argument("--train-samples", type=int, default=2000, help="labelled images for probe / fine-tune")
    ap.add_argument("--test-samples", type=int, default=2000)
    ap.add_argument("--finetune-epochs", type=int, default=3)
    ap.add_argument("--work-dir", default="work_dirs/mim_ablation")
    args = ap.parse_args(argv)
    work = Path(args.work_dir)
    rows = []
    for seed in args.seeds:
        train = load_split("train", args.train_samples, seed)
        test = load_split("test", args.test_samples, 0)
        for method in ("none", "pixel", "efficientnet"):
            t0 = time.time()
            ckpt = pretrain(method, seed, args.pretrain_iters, work)
            probe = linear_probe(ckpt, seed, train, test)
            ft = finetune(ckpt, seed, train, test, args.finetune_epochs)
            rows.append(dict(method=method, seed=seed, linear_probe=probe, finetune=ft, seconds=time.time() - t0))
            print(f"[ablation] seed {seed} {method:12s} probe {probe:.3f} fine-tune {ft:.3f}", flush=True)
    summary = {}
    for method in ("none", "pixel", "efficientnet"):
        r = [x for x in rows if x["method"] == method]
        summary[method] = {k: (statistics.mean(x[k] for x in r), statistics.pstdev(x[k] for x in r))
                           for k in ("linear_probe", "finetune")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = dict(vars(args), torch=torch.__version__, backbone=BACKBONE, date=time.strftime("%Y-%m-%d"))
    (RESULTS / "mim_ablation.json").write_text(json.dumps(dict(meta=meta, runs=rows, summary=summary), indent=2))
    names = {"none": "(a) no pre-training", "pixel": "(b) MIM, pixel targets",
             "efficientnet": "(c) MIM, EfficientNet-Lite0 features"}
    lines = ["| pre-training | linear probe top-1 | fine-tune top-1 |", "|---|---|---|"]
    for m, s in summary.items():
        lines.append(f"| {names[m]} | {100 * s['linear_probe'][0]:.1f} ± {100 * s['linear_probe'][1]:.1f} | "
                     f"{100 * s['finetune'][0]:.1f} ± {100 * s['finetune'][1]:.1f} |")
    table = "\n".join(lines)
    (RESULTS / "mim_ablation.md").write_text(
        f"Fashion-MNIST, {len(args.seeds)} seeds, {args.pretrain_iters} pre-training iterations, "
        f"{args.train_samples} labelled / {args.test_samples} test images (mean ± std):\n\n{table}\n")
    print(table)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    xs = np.arange(len(summary))
    for k, (key, label) in enumerate((("linear_probe", "linear probe"), ("finetune", "fine-tune"))):
        ax.bar(xs + 0.38 * k, [100 * s[key][0] for s in summary.values()], 0.38,
               yerr=[100 * s[key][1] for s in summary.values()], label=label)
    ax.set_xticks(xs + 0.19, [names[m].split(") ")[1] for m in summary], fontsize=8)
    ax.set_ylabel("test top-1 (%)")
    ax.set_title("EVA MIM ablation on Fashion-MNIST (tiny EVA-02, CPU)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "mim_ablation.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
