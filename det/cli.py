"""`eva det train|eval|submit|demo`: detectron2's LazyConfig workflow with its own launcher (multi-GPU,
multi-node), trainer, evaluators and visualizer."""
from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("det", help="detection / instance segmentation with detectron2 (Cascade Mask R-CNN)")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="{train,eval,submit,demo}")

    t = verbs.add_parser("train", help="train a LazyConfig (det/configs/...) with detectron2's trainer")
    _common(t)
    t.add_argument("--resume", action="store_true", help="continue from the output dir's last checkpoint")
    t.add_argument("--init-checkpoint", help="start from a detector checkpoint (ours or BAAI's release)")
    t.set_defaults(func=run_train)

    e = verbs.add_parser("eval", help="COCO / LVIS evaluation of a checkpoint")
    _common(e)
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--ema", action="store_true", help="use the EMA weights stored in the checkpoint")
    e.set_defaults(func=run_eval)

    s = verbs.add_parser("submit", help="result JSON of a test split, zipped for the COCO / LVIS servers")
    _common(s)
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--ema", action="store_true")
    s.add_argument("--output", required=True, help="zip file to write")
    s.add_argument("--dataset", help="registered split to predict (default: coco_2017_test-dev for COCO configs, "
                                     "lvis_v1_test_dev for LVIS)")
    s.add_argument("--name", default="eva", help="algorithm name in the COCO file name")
    s.set_defaults(func=run_submit)

    d = verbs.add_parser("demo", help="draw a checkpoint's boxes and masks on an image (detectron2's Visualizer)")
    _common(d, launch=False)
    d.add_argument("--checkpoint", required=True)
    d.add_argument("--ema", action="store_true", help="use the EMA weights stored in the checkpoint")
    d.add_argument("--input", required=True, help="image file")
    d.add_argument("--output", required=True, help="PNG to write")
    d.add_argument("--score", type=float, default=0.5, help="draw detections above this score")
    d.set_defaults(func=run_demo)


def _common(p, launch: bool = True) -> None:
    p.add_argument("--config-file", required=True, help="LazyConfig, e.g. det/configs/COCO/...py")
    if launch:
        _launch_options(p)
    p.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides: key=value ...")


def _launch_options(p) -> None:
    p.add_argument("--num-gpus", type=int, default=1, help="processes per machine")
    p.add_argument("--num-machines", type=int, default=1)
    p.add_argument("--machine-rank", type=int, default=0)
    p.add_argument("--dist-url", default="auto", help="tcp://HOST:PORT of machine 0 for multi-node runs")


def load_config(args):
    """The LazyConfig with command-line overrides, set up as detectron2's tools do (logging, output dir)."""
    from detectron2.config import LazyConfig
    from detectron2.engine import default_setup

    from .engine import prepare

    cfg = LazyConfig.load(args.config_file)
    cfg = LazyConfig.apply_overrides(cfg, [o for o in args.opts if o != "--"])
    prepare(cfg)
    default_setup(cfg, argparse.Namespace(config_file=args.config_file, opts=args.opts, eval_only=False))
    return cfg


def _launch(main, args) -> int:
    from detectron2.engine import launch

    launch(main, args.num_gpus, num_machines=args.num_machines, machine_rank=args.machine_rank,
           dist_url=args.dist_url, args=(args,))
    return 0


def _train_main(args):
    from .engine import do_train

    cfg = load_config(args)
    return do_train(cfg, resume=args.resume, init_checkpoint=args.init_checkpoint)


def run_train(args) -> int:
    return _launch(_train_main, args)


def _model_with_weights(cfg, args):
    from detectron2.engine import create_ddp_model

    from .checkpoint import load_detector
    from .engine import build_model

    model = build_model(cfg)
    report = load_detector(model, args.checkpoint, use_ema=args.ema)
    if report.resized:
        print(f"[eva] resized to the config: {report.resized}", file=sys.stderr)
    return create_ddp_model(model.eval())


def _eval_main(args):
    from .engine import do_test

    cfg = load_config(args)
    return do_test(cfg, _model_with_weights(cfg, args))


def run_eval(args) -> int:
    return _launch(_eval_main, args)


#: the split each evaluator's server ranks (detectron2's registered names)
TEST_SPLITS = {"COCOEvaluator": "coco_2017_test-dev", "LVISEvaluator": "lvis_v1_test_dev"}
#: COCO's names for its splits in result file names
COCO_SPLIT_NAMES = {"coco_2017_test-dev": "test-dev2017", "coco_2017_test": "test-challenge2017",
                    "coco_2017_val": "val2017"}


def _submit_main(args):
    import shutil

    from detectron2.config import instantiate
    from detectron2.evaluation import inference_on_dataset
    from detectron2.utils import comm

    cfg = load_config(args)
    named = [o.split("=", 1)[1] for o in args.opts if o.startswith("dataloader.test.dataset.names=")]
    dataset = _submission_split(cfg, args.dataset or (named[-1] if named else None))  # an override counts too
    out_dir = Path(cfg.train.output_dir) / "submission" / dataset
    if comm.is_main_process():
        shutil.rmtree(out_dir, ignore_errors=True)  # never zip a result file left by an earlier run
    comm.synchronize()
    cfg.dataloader.evaluator.output_dir = str(out_dir)
    evaluator = instantiate(cfg.dataloader.evaluator)
    metrics = inference_on_dataset(_model_with_weights(cfg, args), instantiate(cfg.dataloader.test), evaluator)
    if comm.is_main_process():
        if metrics:
            print(f"[eva] {dataset} has annotations, so these are not test-server predictions; its metrics: "
                  f"{metrics}", file=sys.stderr)
        write_submission(out_dir, args.output, dataset, args.name)


def _submission_split(cfg, requested) -> str:
    """Point the config's test set at the split to submit; returns its name. A registered COCO / LVIS set goes to
    the server's test split unless ``requested`` names another; a set the config registers itself stays."""
    names = cfg.dataloader.test.dataset.names
    if not requested and not isinstance(names, str):
        return str(names.get("name", "custom"))  # e.g. the demo's composites, registered on demand
    target = cfg.dataloader.evaluator._target_
    evaluator = (target if isinstance(target, str) else target.__name__).rsplit(".", 1)[-1]
    dataset = requested or TEST_SPLITS.get(evaluator)
    if dataset is None:
        raise SystemExit(f"[eva] {evaluator} has no known test split: pass --dataset NAME")
    cfg.dataloader.test.dataset.names = dataset
    cfg.dataloader.evaluator.dataset_name = dataset
    return dataset


def write_submission(result_dir, output: str, dataset: str, name: str = "eva") -> Path:
    """Zip the evaluator's result JSON as the servers want it: COCO ``detections_<split>_<name>_results.json``
    (``test-dev2017`` for ``coco_2017_test-dev``), LVIS ``lvis_instances_results.json``.

    Args:
        result_dir: the evaluator's ``output_dir``.
        output: zip file to write.
        dataset: the registered split predicted; names the COCO file.
        name: the algorithm's name in the COCO file name.
    """
    result_dir = Path(result_dir)
    coco, lvis = result_dir / "coco_instances_results.json", result_dir / "lvis_instances_results.json"
    # `submit` clears the folder first, so the one file there is this run's; with both, the split decides
    src = coco if coco.exists() and not (lvis.exists() and dataset.startswith("lvis")) else lvis
    if not src.exists():
        raise FileNotFoundError(f"no {coco.name} or {lvis.name} in {result_dir}: the evaluator must be "
                                f"COCOEvaluator or LVISEvaluator with an output_dir")
    json.loads(src.read_text())  # a truncated file fails here, not on the server
    arcname = src.name if src == lvis else \
        f"detections_{COCO_SPLIT_NAMES.get(dataset, dataset)}_{name}_results.json"
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(src, arcname)
    print(f"[eva] {output} ({arcname})")
    return output


def run_submit(args) -> int:
    return _launch(_submit_main, args)


def run_demo(args) -> int:
    import torch
    from detectron2.config import instantiate
    from detectron2.data import MetadataCatalog
    from detectron2.data.detection_utils import read_image
    from detectron2.utils.visualizer import Visualizer
    from PIL import Image

    from .checkpoint import load_detector
    from .engine import build_model

    cfg = load_config(args)
    model = build_model(cfg).eval()
    load_detector(model, args.checkpoint, use_ema=args.ema)
    image = read_image(args.input, format="RGB")
    h, w = image.shape[:2]
    resize = instantiate(cfg.dataloader.test.mapper.augmentations[0])  # the config's test-time resize
    resized = resize.get_transform(image).apply_image(image)
    with torch.no_grad():
        inst = model([{"image": torch.as_tensor(resized.transpose(2, 0, 1).copy()).float(), "height": h,
                       "width": w}])[0]["instances"].to("cpu")
    inst = inst[inst.scores >= args.score]
    names = cfg.dataloader.test.dataset.names
    names = names if isinstance(names, str) else instantiate(names)  # e.g. a dataset registered on demand
    meta = MetadataCatalog.get(names if isinstance(names, str) else names[0])
    drawn = Visualizer(image, meta).draw_instance_predictions(inst).get_image()
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(drawn).save(args.output)
    print(f"[eva] {len(inst)} detections >= {args.score} drawn to {args.output}")
    return 0
