"""`eva video train|test|demo|remap-head`: mmaction2 configs on mmengine's runner (mmaction2's own
`tools/train.py` works unchanged with the same configs, through `custom_imports`)."""
from __future__ import annotations

import sys

from eva.backbone.cli import add_checkpoint_verb, add_run_options, add_train_verb


def register(sub) -> None:
    p = sub.add_parser("video", help="video classification with mmaction2 1.x (EVA inflated to video)")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="{train,test,demo,remap-head}")
    add_train_verb(verbs, "train an mmaction2 config (torchrun for many GPUs)", run_train)
    e = add_checkpoint_verb(verbs, "test", "accuracy of a checkpoint on the config's test set (its clips x crops)",
                            "mmaction2")
    add_run_options(e)
    e.set_defaults(func=run_test)
    d = add_checkpoint_verb(verbs, "demo", "top-k labels a checkpoint predicts for one video file", "mmaction2")
    d.add_argument("video")
    d.add_argument("--top-k", type=int, default=5)
    d.add_argument("--labels", help="class names, one per line (default: the checkpoint's dataset metadata)")
    d.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE")
    d.set_defaults(func=run_demo)
    r = verbs.add_parser("remap-head", help="cut a classifier to a label subset (EVA: Kinetics-722 -> 400/600/700)",
                         description="Keep the classifier rows of the target classes, in target order. Give the "
                                     "rows as --index (.npy or one integer per line, EVA's k722_to_k400_mapping.npy) "
                                     "or as two label lists (--source-labels, --target-labels) matched by name.")
    r.add_argument("src", help="recognizer checkpoint trained on the label superset")
    r.add_argument("dst", help="output checkpoint (state_dict only)")
    r.add_argument("--index")
    r.add_argument("--source-labels")
    r.add_argument("--target-labels")
    r.add_argument("--unsafe-pickle", action="store_true", help="allow pickled Python objects (trusted files only)")
    r.set_defaults(func=run_remap_head)


def _register(**kwargs) -> None:
    from mmaction.utils import register_all_modules
    register_all_modules(**kwargs)


def run_train(args) -> int:
    from eva.backbone.mm.cli import train
    return train(args, "video", ["eva.video"], _register)


def _no_init_checkpoints(cfg) -> None:
    """The checkpoint under test holds every weight: do not load the config's starting checkpoints."""
    cfg.model.backbone.pretrained = None
    cfg.model.cls_head.pop("init_cfg", None)


def run_test(args) -> int:
    from eva.backbone import CheckpointError, read_checkpoint
    from eva.backbone.mm.cli import build_part_runner

    from .checkpoint import load_recognizer

    try:
        runner = build_part_runner(args, ["eva.video"], _register, edit=_no_init_checkpoints)
        model = runner.model.module if hasattr(runner.model, "module") else runner.model
        report = load_recognizer(model, read_checkpoint(args.checkpoint, weights_only=not args.unsafe_pickle))
    except (ValueError, CheckpointError) as e:
        print(f"eva video test: {e}", file=sys.stderr)
        return 2
    print(f"[eva] loaded {args.checkpoint}: {report.summary().splitlines()[0]}")
    metrics = runner.test()
    for k, v in metrics.items():
        print(f"{k}: {v}")
    return 0


def run_demo(args) -> int:
    from pathlib import Path

    from mmaction.apis import inference_recognizer, init_recognizer
    from mmaction.utils import register_all_modules
    from mmengine.config import Config

    import eva.video  # noqa: F401

    from eva.backbone import CheckpointError, read_checkpoint
    from eva.backbone.mm.runner import parse_cfg_options

    from .checkpoint import load_recognizer, read_labels

    if not Path(args.video).is_file():
        print(f"eva video demo: no such video file: {args.video}", file=sys.stderr)
        return 2
    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(parse_cfg_options(args.cfg_options))
    _no_init_checkpoints(cfg)
    model = init_recognizer(cfg, None, device="cpu")
    try:
        obj = read_checkpoint(args.checkpoint, weights_only=not args.unsafe_pickle)
        load_recognizer(model, obj)
    except (ValueError, CheckpointError) as e:
        print(f"eva video demo: {e}", file=sys.stderr)
        return 2
    meta = obj.get("meta", {}) if isinstance(obj, dict) else {}
    classes = (read_labels(args.labels) if args.labels else
               list((meta.get("dataset_meta") or {}).get("classes") or []))
    scores = inference_recognizer(model, args.video).pred_scores.item.float()
    top = scores.topk(min(args.top_k, scores.numel()))
    print(f"[eva] {args.video}: top-{len(top.indices)}")
    for score, idx in zip(top.values.tolist(), top.indices.tolist()):
        name = classes[idx] if idx < len(classes) else f"class {idx}"
        print(f"  {score:6.3f}  {name}")
    return 0


def run_remap_head(args) -> int:
    from eva.backbone import CheckpointError, read_checkpoint, save_checkpoint

    from .checkpoint import label_index_from_names, read_label_index, read_labels, recognizer_state_dict, remap_head

    by_names = bool(args.source_labels and args.target_labels)
    if bool(args.index) == by_names or (args.source_labels or args.target_labels) and not by_names:
        print("eva video remap-head: give --index, or both --source-labels and --target-labels", file=sys.stderr)
        return 2
    try:
        index = (read_label_index(args.index) if args.index else
                 label_index_from_names(read_labels(args.source_labels), read_labels(args.target_labels)))
        state = recognizer_state_dict(read_checkpoint(args.src, weights_only=not args.unsafe_pickle))
        out = remap_head(state, index)
    except (OSError, ValueError, CheckpointError) as e:
        print(f"eva video remap-head: {e}", file=sys.stderr)
        return 2
    save_checkpoint(out if args.dst.endswith(".safetensors") else {"state_dict": out}, args.dst)
    w = "cls_head.fc_cls.weight"
    print(f"[eva] head {tuple(state[w].shape)} -> {tuple(out[w].shape)}; wrote {args.dst}")
    return 0
