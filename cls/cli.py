"""`eva cls train|eval|zeroshot|demo`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

CONFIG_DIR = Path(__file__).parent / "configs"
DEMO_CONFIG = CONFIG_DIR / "eva02_tiny_demo_fashion_mnist.py"


def register(sub) -> None:
    p = sub.add_parser("cls", help="image classification: fine-tune, linear probe, evaluate, EVA-CLIP zero-shot")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="{train,eval,zeroshot,demo}")

    t = verbs.add_parser("train", help="fine-tune or linear-probe with an mm-style config (torchrun for many GPUs)")
    t.add_argument("config")
    _common(t)
    t.add_argument("--resume", action="store_true", help="resume from the work dir's last checkpoint")
    t.add_argument("--pretrained", help="backbone checkpoint to start from (overrides model.pretrained)")
    t.set_defaults(func=run_train)

    e = verbs.add_parser("eval", help="top-1/top-5, per-class accuracy and confusion matrix of a checkpoint")
    e.add_argument("config")
    e.add_argument("--checkpoint", required=True, help="runner checkpoint or released fine-tuned EVA")
    e.add_argument("--label-map", help="in1k_from_21k | imagenet_a | imagenet_r | file of head indices")
    _common(e)
    e.set_defaults(func=run_eval)

    z = verbs.add_parser("zeroshot", help="EVA-CLIP zero-shot accuracy on an image folder")
    z.add_argument("--model", default="EVA02-B-16", help="open_clip config name (EVA01-g-14, EVA02-L-14, ...)")
    z.add_argument("--checkpoint", required=True, help="EVA-CLIP checkpoint (BAAI or open_clip layout)")
    z.add_argument("--data", required=True, help="image folder root/<class>/<image>; class folders name the classes")
    z.add_argument("--templates", choices=["openai", "simple"], default="openai", help="prompt ensemble")
    z.add_argument("--img-size", type=int, default=None)
    z.add_argument("--batch-size", type=int, default=64)
    z.add_argument("--device", help="cuda / cpu (default: cuda when available; bf16 autocast on cuda)")
    z.add_argument("--workers", type=int, default=8, help="data-loading processes")
    z.add_argument("--out", help="write the metrics as JSON here")
    z.set_defaults(func=run_zeroshot)

    d = verbs.add_parser("demo", help="fine-tune `eva demo`'s tiny EVA on Fashion-MNIST and report test accuracy")
    d.add_argument("--pretrained", default="work_dirs/demo/backbone.safetensors")
    _common(d, default_work_dir="work_dirs/demo_cls")
    d.set_defaults(func=run_demo)


def _common(p, default_work_dir=None) -> None:
    p.add_argument("--work-dir", default=default_work_dir, help="logs, checkpoints, metrics, confusion matrix")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="override config fields, e.g. train_dataloader.batch_size=64")


def build_runner(config: str, work_dir=None, resume=False, cfg_options=None):
    """An mmengine runner for a classification config; the evaluator writes per-class accuracy and the
    confusion matrix under ``<work_dir>/eval``."""
    from eva.backbone.mm.runner import build_runner as build, parse_cfg_options

    options = parse_cfg_options(cfg_options)
    runner = build(config, work_dir, resume, options, imports=["eva.cls"])
    for evaluator in (runner._val_evaluator, runner._test_evaluator):  # configs, built lazily by the loops
        if isinstance(evaluator, dict) and evaluator.get("type") == "ClsMetric":
            evaluator.setdefault("out_dir", str(Path(runner.work_dir) / "eval"))
    return runner


def _unwrap(model):
    return model.module if hasattr(model, "module") else model


def run_train(args, config=None) -> int:
    from eva.backbone.mm import NonFiniteError

    options = list(args.cfg_options)
    if getattr(args, "pretrained", None):
        options.append(f"model.pretrained={args.pretrained}")
    runner = build_runner(config or args.config, args.work_dir, getattr(args, "resume", False), options)
    try:
        runner.train()
    except NonFiniteError as e:
        print(f"eva cls: {e}", file=sys.stderr)
        return 3
    print(f"[eva] checkpoints and logs: {runner.work_dir}")
    return 0


def run_eval(args) -> int:
    from .checkpoint import load_classifier

    options = list(args.cfg_options)
    if args.label_map:
        options.append(f"test_evaluator.label_map={args.label_map}")
    runner = build_runner(args.config, args.work_dir, False, options)
    kind = load_classifier(_unwrap(runner.model), args.checkpoint)
    runner.logger.info(f"evaluating {args.checkpoint} ({kind} weights)")
    _report(runner.test())  # ClsMetric also writes <work_dir>/eval/{metrics,per_class_accuracy}.json + the PNG
    return 0


def run_zeroshot(args) -> int:
    import torch

    from .data import ImageFolderClsDataset
    from .metrics import topk_accuracy
    from .zeroshot import EVACLIP, build_classifier, classnames_from, load_eva_clip, zero_shot_logits

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model = EVACLIP(args.model)
    load_eva_clip(model, args.checkpoint)
    model.eval().to(device)
    img_size = args.img_size or model.visual.config["img_size"]
    img_size = img_size[0] if isinstance(img_size, (tuple, list)) else img_size
    data = ImageFolderClsDataset(dict(img_size=img_size, training=False, crop_pct=1.0), args.data)
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES, SIMPLE_IMAGENET_TEMPLATES
    templates = OPENAI_IMAGENET_TEMPLATES if args.templates == "openai" else SIMPLE_IMAGENET_TEMPLATES
    classifier = build_classifier(model, classnames_from(data.classes), templates, device=device)
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch_size, num_workers=args.workers,
                                         pin_memory=device.type == "cuda")
    logits, labels = [], []
    from tqdm import tqdm
    for batch in tqdm(loader, desc=f"zero-shot ({device.type})", unit="batch"):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out = zero_shot_logits(model, batch["inputs"].to(device, non_blocking=True), classifier)
        logits.append(out.float().cpu())
        labels.append(batch["data_samples"])
    acc = topk_accuracy(torch.cat(logits), torch.cat(labels), (1, 5))
    _report({f"zeroshot/top{k}": v for k, v in acc.items()}, args.out)
    return 0


def run_demo(args) -> int:
    if not Path(args.pretrained).exists():
        print(f"eva cls demo: {args.pretrained} not found; run `eva demo` (pre-training) first, or pass "
              f"--pretrained", file=sys.stderr)
        return 2
    runner = build_runner(str(DEMO_CONFIG), args.work_dir, False,
                          list(args.cfg_options) + [f"model.pretrained={args.pretrained}"])
    runner.train()  # ends with a validation on the test split, with the EMA weights
    out = Path(runner.work_dir) / "eval"
    metrics = json.loads((out / "metrics.json").read_text())
    print(f"[eva] Fashion-MNIST test accuracy ({metrics['num_samples']} images, EMA weights): top-1 "
          f"{metrics['top1']:.2f}% (chance 10%), top-5 {metrics['top5']:.2f}%; confusion matrix: "
          f"{out / 'confusion_matrix.png'}")
    return 0


def _report(metrics: dict, path=None) -> None:
    for k, v in metrics.items():
        print(f"{k}: {v:.2f}")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(metrics, indent=1))
