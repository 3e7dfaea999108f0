"""`eva seg train|test|demo`: mmseg configs on mmengine's runner (mmseg's own `tools/train.py` works unchanged
with the same configs, through `custom_imports`)."""
from __future__ import annotations

import sys
from pathlib import Path

from eva.backbone.cli import add_checkpoint_verb, add_run_options, add_train_verb


def register(sub) -> None:
    p = sub.add_parser("seg", help="semantic segmentation with mmsegmentation 1.x (UperNet, Mask2Former)")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="{train,test,demo}")
    add_train_verb(verbs, "train an mmseg config (torchrun for many GPUs)", run_train)
    e = add_checkpoint_verb(verbs, "test", "mIoU of a checkpoint on the config's test set", "mmseg")
    e.add_argument("--tta", action="store_true",
                   help="multi-scale + flip test: the config's tta_pipeline (mmseg's img_ratios) and tta_model")
    add_run_options(e)
    e.set_defaults(func=run_test)
    d = add_checkpoint_verb(verbs, "demo", "colour overlay of a checkpoint's prediction on one image", "mmseg")
    d.add_argument("image")
    d.add_argument("output", help="PNG to write")
    d.add_argument("--opacity", type=float, default=0.5)
    d.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE")
    d.set_defaults(func=run_demo)


def _register(**kwargs) -> None:
    from mmseg.utils import register_all_modules
    register_all_modules(**kwargs)


def use_tta(cfg) -> None:
    """Test with multi-scale + flip augmentation, as mmseg's ``tools/test.py --tta`` does."""
    missing = [k for k in ("tta_model", "tta_pipeline") if k not in cfg]
    if missing:
        raise ValueError(f"--tta needs {' and '.join(missing)} in the config (mmseg's dataset and runtime bases "
                         f"define them)")
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def run_train(args) -> int:
    from eva.backbone.mm.cli import train
    return train(args, "seg", ["eva.seg"], _register)


def _unwrap(model):
    while hasattr(model, "module"):  # DDP and the TTA wrapper
        model = model.module
    return model


def run_test(args) -> int:
    from eva.backbone import CheckpointError, read_checkpoint

    from eva.backbone.mm.cli import build_part_runner

    from .checkpoint import load_segmentor

    def edit(cfg):
        cfg.model.backbone.pretrained = None  # the checkpoint holds every weight
        if args.tta:
            use_tta(cfg)
    try:
        runner = build_part_runner(args, ["eva.seg"], _register, edit=edit)
        obj = read_checkpoint(args.checkpoint, weights_only=not args.unsafe_pickle)
        report = load_segmentor(_unwrap(runner.model), obj)
    except (ValueError, CheckpointError) as e:
        print(f"eva seg test: {e}", file=sys.stderr)
        return 2
    print(f"[eva] loaded {args.checkpoint}: {report.summary().splitlines()[0]}")
    metrics = runner.test()
    for k, v in metrics.items():
        print(f"{k}: {v}")
    return 0


def run_demo(args) -> int:
    import mmcv
    from mmengine.config import Config
    from mmseg.apis import inference_model, init_model
    from mmseg.utils import register_all_modules
    from mmseg.visualization import SegLocalVisualizer

    import eva.seg  # noqa: F401

    from eva.backbone import read_checkpoint
    from eva.backbone.mm.runner import parse_cfg_options

    from .checkpoint import load_segmentor

    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(parse_cfg_options(args.cfg_options))
    cfg.model.backbone.pretrained = None  # the checkpoint holds the trained weights
    model = init_model(cfg, None, device="cpu")
    obj = read_checkpoint(args.checkpoint, weights_only=not args.unsafe_pickle)
    meta = obj.get("meta", {}) if isinstance(obj, dict) else {}
    if meta.get("dataset_meta"):
        model.dataset_meta = meta["dataset_meta"]
    load_segmentor(model, obj)
    result = inference_model(model, args.image)
    image = mmcv.imread(args.image, channel_order="rgb")
    vis = SegLocalVisualizer(vis_backends=[dict(type="LocalVisBackend")], save_dir=str(Path(args.output).parent),
                             alpha=args.opacity)
    vis.dataset_meta = model.dataset_meta
    vis.add_datasample("prediction", image, result, draw_gt=False, show=False)
    mmcv.imwrite(mmcv.rgb2bgr(vis.get_image()), args.output)
    print(f"[eva] overlay written to {args.output}")
    return 0
