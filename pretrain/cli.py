"""`eva pretrain CONFIG` and `eva demo` (the main job)."""
from __future__ import annotations

import sys
from pathlib import Path

CONFIG_DIR = Path(__file__).parent / "configs"
DEMO_CONFIG = CONFIG_DIR / "eva02_tiny_demo_fashion_mnist.py"


def register(sub) -> None:
    p = sub.add_parser("pretrain", help="EVA masked image modeling with a frozen teacher (mmengine Runner)",
                       description="Train with an mm-style config. Multi-GPU / multi-node: launch with torchrun.")
    _common(p)
    p.add_argument("config", help="config file (see eva/pretrain/configs)")
    p.set_defaults(func=run_pretrain)


def register_demo(sub) -> None:
    p = sub.add_parser("demo", help="the main job: pre-train a tiny EVA on Fashion-MNIST with a real teacher")
    _common(p)
    p.set_defaults(func=lambda args: run_pretrain(args, config=str(DEMO_CONFIG)))


def _common(p) -> None:
    p.add_argument("--work-dir", help="where logs, checkpoints and backbone.safetensors go")
    p.add_argument("--resume", action="store_true", help="resume from the work dir's last checkpoint")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="override config fields, e.g. train_cfg.max_iters=100")


def build_runner(config: str, work_dir: str | None = None, resume: bool = False, cfg_options=None):
    """An mmengine runner for a pre-training config (see :func:`eva.backbone.mm.build_runner`)."""
    from eva.backbone.mm.runner import build_runner as build

    return build(config, work_dir, resume, cfg_options, imports=["eva.pretrain"])


def run_pretrain(args, config: str | None = None) -> int:
    from eva.backbone.mm import NonFiniteError

    runner = build_runner(config or args.config, args.work_dir, args.resume, args.cfg_options)
    try:
        runner.train()
    except NonFiniteError as e:
        print(f"eva pretrain: {e}", file=sys.stderr)
        return 3
    work = Path(runner.work_dir)
    print(f"[eva] backbone checkpoint: {work / 'backbone.safetensors'}\n[eva] loss curve: {work / 'loss_curve.png'}")
    return 0
