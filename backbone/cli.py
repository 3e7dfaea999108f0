"""`eva` command line: the top level only dispatches; each part registers its verbs.

Parts register through the ``eva.parts`` entry-point group (see pyproject.toml): each entry point is a
``register(subparsers)`` function adding its sub-command and setting ``func`` on its parser.
"""
from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import entry_points
from typing import List, Optional

# Verbs of eva.backbone itself, available even from an uninstalled source tree.
_BUILTIN_PARTS = {"convert": "eva.backbone.cli:register", "plan": "eva.backbone.cli:register_plan"}


def _registrars():
    found = {ep.name: ep for ep in entry_points(group="eva.parts")}
    for name, target in _BUILTIN_PARTS.items():
        if name not in found:
            module, func = target.split(":")
            found[name] = (module, func)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eva", description="EVA / EVA-02 suite: eva <part> <verb> ...")
    sub = parser.add_subparsers(dest="part", metavar="<part>", required=True)
    for name, ep in sorted(_registrars().items()):
        try:
            register = ep.load() if hasattr(ep, "load") else getattr(__import__(ep[0], fromlist=[ep[1]]), ep[1])
        except (ImportError, AssertionError) as e:  # the part's framework is missing or of an unsupported version
            # (OpenMMLab packages assert their dependencies' versions at import): say so when the part is used
            _register_unavailable(sub, name, e)
            continue
        register(sub)
    return parser


def _register_unavailable(sub, name: str, error: Exception) -> None:
    p = sub.add_parser(name, help=f"(unavailable: {error})", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)

    def fail(_args):
        print(f"eva {name} is unavailable: {error}. Install its requirements (requirements/*.txt, `make setup`).",
              file=sys.stderr)
        return 2
    p.set_defaults(func=fail)


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


# --------------------------------------------------------------------------- shared by the parts' parsers
def add_run_options(p) -> None:
    """``--work-dir`` and ``--cfg-options KEY=VALUE ...`` on a verb's parser."""
    p.add_argument("--work-dir", help="logs, checkpoints and metrics (default: the config's, or work_dirs/<name>)")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="override config fields, e.g. train_dataloader.batch_size=4")


def add_train_verb(verbs, help: str, func) -> None:
    """A ``train CONFIG [--work-dir] [--cfg-options] [--resume]`` verb calling ``func(args)``."""
    t = verbs.add_parser("train", help=help)
    t.add_argument("config")
    add_run_options(t)
    t.add_argument("--resume", action="store_true", help="resume from the work dir's last checkpoint")
    t.set_defaults(func=func)


def add_checkpoint_verb(verbs, name: str, help: str, tool: str):
    """A ``NAME CONFIG CHECKPOINT [--unsafe-pickle]`` verb; returns its parser for the verb's own options."""
    p = verbs.add_parser(name, help=help)
    p.add_argument("config")
    p.add_argument("checkpoint")
    p.add_argument("--unsafe-pickle", action="store_true",
                   help=f"allow pickled Python objects (checkpoints of {tool}'s own tools; only files you trust)")
    return p


# --------------------------------------------------------------------------- eva convert
def register(sub) -> None:
    p = sub.add_parser("convert", help="convert a checkpoint (BAAI, timm, ours) to our layout or to timm's",
                       description="Convert an EVA checkpoint and print what was renamed, dropped and resized.")
    p.add_argument("src", help="input checkpoint (.pt/.pth/.bin/.safetensors)")
    p.add_argument("dst", help="output file; .safetensors or torch format by extension")
    p.add_argument("--to", choices=("eva", "timm"), default="eva", help="output layout (default: eva)")
    p.add_argument("--model", help="variant name (default: recognised from the checkpoint)")
    p.add_argument("--patch-size", type=int, help="resample the patch embedding to this patch size")
    p.add_argument("--img-size", type=int, help="resample the position embedding to this image size")
    p.add_argument("--frames", type=int, help="inflate to a video model with this many frames (EVAVideoViT): "
                                              "Conv3d patch embedding, space-time position table")
    p.add_argument("--tubelet", type=int, help="frames per token of the video model (default 1)")
    p.add_argument("--inflation", choices=("average", "central"),
                   help="how the image patch kernel is spread over a tubelet (default average)")
    p.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                   help="other model options, values as JSON: window_size=16 'global_blocks=[2,5,8,11]'")
    p.add_argument("--unsafe-pickle", action="store_true",
                   help="allow pickled Python objects (only for checkpoints you trust)")
    p.set_defaults(func=run_convert)


def run_convert(args) -> int:
    from .checkpoint import read_checkpoint, save_checkpoint
    from .convert import CheckpointError, LoadReport, convert_state_dict, export_timm, match_variant
    from .convert.layouts import to_native, unwrap
    from .variants import NOT_IN_TIMM_NAMES, create_model

    try:
        obj = read_checkpoint(args.src, weights_only=not args.unsafe_pickle)
        preview = to_native(unwrap(obj, LoadReport()), LoadReport())
        saved = _saved_architecture(args.src, obj)  # what `eva convert` / pre-training recorded, if anything
        if args.model:
            name, overrides = args.model, {}
        elif saved:
            name, overrides = saved
        else:
            name, overrides = match_variant(preview)
        if "head.weight" in preview:
            overrides["num_classes"] = int(preview["head.weight"].shape[0])
        # a video file this tool wrote records its frames: defaults for --frames / --tubelet / --inflation
        recorded = {k: overrides.pop(k) for k in ("num_frames", "tubelet_size", "inflation") if k in overrides}
        overrides.update(_parse_settings(args.set))
        if args.patch_size:
            overrides["patch_size"] = args.patch_size
        if args.img_size:
            overrides["img_size"] = args.img_size
        if (args.tubelet or args.inflation) and not (args.frames or recorded):
            raise ValueError("--tubelet and --inflation describe a video model: give --frames too")
        frames = args.frames or recorded.get("num_frames")
        if frames:
            from .video import create_video_model
            video = dict(num_frames=frames, tubelet_size=args.tubelet or recorded.get("tubelet_size", 1),
                         inflation=args.inflation or recorded.get("inflation", "average"))
            model = create_video_model(name, **video, **overrides)
            overrides.update(video)
        else:
            model = create_model(name, **overrides)
        sd, report = convert_state_dict(obj, model)
    except (CheckpointError, KeyError, ValueError, TypeError) as e:  # TypeError: an unknown --set option
        print(f"eva convert: {e}", file=sys.stderr)
        return 2
    print(f"model: {name} {json.dumps(overrides) if overrides else ''}".rstrip())
    print(report.summary())
    if not report.ok:
        print("eva convert: the checkpoint does not fit; nothing written", file=sys.stderr)
        return 2
    if args.to == "timm":
        if frames:
            print("eva convert: timm has no video model; export with --to eva", file=sys.stderr)
            return 2
        if name in NOT_IN_TIMM_NAMES:
            print(f"eva convert: timm has no {name}; export with --to eva", file=sys.stderr)
            return 2
        sd, _ = export_timm(sd, model)
        save_checkpoint(sd, args.dst)
    else:
        meta = {"eva_variant": name, "eva_overrides": json.dumps(overrides)}
        if args.dst.endswith(".safetensors"):
            save_checkpoint(sd, args.dst, metadata=meta)
        else:
            save_checkpoint({"state_dict": sd, **meta}, args.dst)
    print(f"wrote {args.dst} ({args.to} layout, {len(sd)} tensors)")
    return 0


# --------------------------------------------------------------------------- eva plan
def register_plan(sub) -> None:
    from .plan import OPTIMIZER_BYTES, TASKS
    p = sub.add_parser("plan", help="predict training memory per sample and recommend batch size / checkpointing",
                       description="Probe a cut-down copy of the model on the CPU (one block of each kind, batch 1 "
                                   "and 2, saved tensors counted) and predict the training step's peak memory.")
    p.add_argument("--model", required=True, help="variant name (eva.backbone.list_models())")
    p.add_argument("--task", choices=TASKS, default="cls")
    p.add_argument("--img", type=int, default=224, help="input side / crop size")
    p.add_argument("--frames", type=int, default=1, help="frames per clip (video)")
    p.add_argument("--gpu-mem", type=float, default=None, help="device memory in GiB: recommend a batch size")
    p.add_argument("--precision", choices=("bf16", "fp16", "fp32"), default="bf16")
    p.add_argument("--optimizer", choices=tuple(OPTIMIZER_BYTES), default="adamw")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(func=run_plan)


def run_plan(args) -> int:
    from .plan import format_plan, plan_memory
    try:
        plan = plan_memory(args.model, args.task, args.img, args.frames, args.precision, args.optimizer)
    except (KeyError, ValueError) as e:
        print(f"eva plan: {e}", file=sys.stderr)
        return 2
    if args.json:
        out = plan.to_dict()
        if args.gpu_mem:
            out["recommendation"] = plan.recommend(args.gpu_mem * 2 ** 30)
        print(json.dumps(out, indent=2))
    else:
        print(format_plan(plan, args.gpu_mem))
    return 0


def _saved_architecture(path, obj):
    """``(variant, overrides)`` recorded in a file this tool (or pre-training's export) wrote, else ``None``."""
    meta = obj if isinstance(obj, dict) and "eva_variant" in obj else {}
    if str(path).endswith(".safetensors"):
        from safetensors import safe_open
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
    variant = meta.get("eva_variant")
    if not variant or "eva_overrides" not in meta:  # a name alone (pre-training's export) is not the architecture
        return None
    from .variants import VARIANTS
    if variant not in VARIANTS:
        return None
    return variant, json.loads(meta.get("eva_overrides") or "{}")


def _parse_settings(items):
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set takes KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value  # a bare string
    return out


if __name__ == "__main__":
    sys.exit(main())
