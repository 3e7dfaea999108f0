"""Training and evaluation with detectron2's own engine (trainers, hooks, checkpointer, evaluators), plus a model
EMA hook built on timm's ``ModelEmaV3`` and the hook that makes a resumed run continue exactly."""
from __future__ import annotations

import logging
from typing import Optional

import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.config import instantiate
from detectron2.engine import AMPTrainer, SimpleTrainer, create_ddp_model, default_writers, hooks
from detectron2.engine.train_loop import HookBase
from detectron2.evaluation import inference_on_dataset, print_csv_format
from detectron2.utils import comm

from eva.backbone.seeding import seed_everything, step_seed

logger = logging.getLogger("eva.det")


class ModelEMAHook(HookBase):
    """Keeps ``ema = decay * ema + (1 - decay) * weights`` after every step (timm's ``ModelEmaV3``)."""

    def __init__(self, model: torch.nn.Module, decay: float = 0.9999):
        from timm.utils import ModelEmaV3

        self.ema = ModelEmaV3(model, decay=decay)

    def after_step(self):
        model = self.trainer.model
        self.ema.update(model.module if hasattr(model, "module") else model, step=self.trainer.iter)


class ExactResumeHook(HookBase):
    """Makes a resumed run continue as the uninterrupted run would have.

    - Before every step the Python, NumPy and torch generators are re-seeded from (seed, rank, iteration), so
      drop path, proposal sampling and every other random draw depend on where training is, not on its history.
    - Before training starts, a :class:`~eva.det.loader.ResumableTrainLoader` is told the iteration to start at,
      so it yields the batches the uninterrupted run would have seen from there on.

    Args:
        seed: base seed (the config's ``train.seed``).
        loader: the trainer's data loader.
    """

    def __init__(self, seed: int, loader):
        self.seed, self.loader = int(seed), loader

    def before_train(self):
        if hasattr(self.loader, "start_iter"):
            self.loader.start_iter = self.trainer.start_iter
        elif self.trainer.start_iter > 0:
            logger.warning("resuming with a loader that starts over (%s): the data order differs from an "
                           "uninterrupted run's; eva.det.loader.build_resumable_train_loader resumes exactly",
                           type(self.loader).__name__)

    def before_step(self):
        seed_everything(step_seed(self.seed, comm.get_rank(), self.trainer.iter))


def prepare(cfg) -> None:
    """Adapt a config to the machine: CPU-only runs drop CUDA and AMP."""
    if not torch.cuda.is_available():
        cfg.train.device = "cpu"
        cfg.train.amp.enabled = False


def do_test(cfg, model) -> dict:
    """Run ``cfg.dataloader.evaluator`` (COCO / LVIS) over ``cfg.dataloader.test``."""
    if "evaluator" not in cfg.dataloader:
        return {}
    results = inference_on_dataset(model, instantiate(cfg.dataloader.test), instantiate(cfg.dataloader.evaluator))
    if comm.is_main_process():
        print_csv_format(results)
    return results


def build_model(cfg):
    model = instantiate(cfg.model)
    model.to(cfg.train.device)
    return model


def do_train(cfg, resume: bool = False, init_checkpoint: Optional[str] = None) -> dict:
    """detectron2's training loop over ``cfg``: AMP (bf16 where ``train.amp.precision`` says so) on CUDA, DDP
    across processes, periodic (atomic) checkpoints and evaluation, model EMA when ``train.model_ema.enabled``;
    ``resume`` continues exactly where the loader is ``eva.det.loader``'s (the recipes').

    Returns:
        The last evaluation's results (with EMA weights when ``train.model_ema.use_for_eval``).
    """
    from .checkpoint import AtomicDetectionCheckpointer, load_detector

    prepare(cfg)
    model = build_model(cfg)
    cfg.optimizer.params.model = model
    optimizer = instantiate(cfg.optimizer)
    train_loader = instantiate(cfg.dataloader.train)
    ema_cfg = cfg.train.get("model_ema", {}) or {}
    ema_hook = ModelEMAHook(model, ema_cfg.get("decay", 0.9999)) if ema_cfg.get("enabled") else None
    init_checkpoint = init_checkpoint or cfg.train.init_checkpoint
    cfg.train.init_checkpoint = ""  # detectron2's loader would guess at BAAI's key names; ours is strict
    resuming = resume and DetectionCheckpointer(model, cfg.train.output_dir).has_checkpoint()
    if init_checkpoint and not resuming:  # as detectron2's resume_or_load: a first --resume run starts from it
        report = load_detector(model, init_checkpoint, transfer=True)
        if report.added or report.dropped:
            logger.warning("started from %s; re-initialised or dropped for this task:\n%s", init_checkpoint,
                           "\n".join(f"  {k}: {why}" for k, why in report.added + report.dropped))
    model = create_ddp_model(model, **cfg.train.ddp)
    if cfg.train.amp.enabled:
        precision = getattr(torch, cfg.train.amp.get("precision", "float16"))
        trainer = AMPTrainer(model, train_loader, optimizer, precision=precision)
    else:
        trainer = SimpleTrainer(model, train_loader, optimizer)
    extra = {"ema_state": ema_hook.ema} if ema_hook else {}
    checkpointer = AtomicDetectionCheckpointer(model, cfg.train.output_dir, trainer=trainer, **extra)
    eval_model = (lambda: ema_hook.ema.module) if ema_hook and ema_cfg.get("use_for_eval", True) else (lambda: model)
    last = {}

    def evaluate():
        last.clear()
        last.update(do_test(cfg, eval_model()))
        return last

    trainer.register_hooks([
        ExactResumeHook(cfg.train.get("seed", 0), train_loader),
        hooks.IterationTimer(),
        ema_hook,
        hooks.LRScheduler(scheduler=instantiate(cfg.lr_multiplier)),
        hooks.PeriodicCheckpointer(checkpointer, **cfg.train.checkpointer) if comm.is_main_process() else None,
        hooks.EvalHook(cfg.train.eval_period, evaluate),
        hooks.PeriodicWriter(default_writers(cfg.train.output_dir, cfg.train.max_iter),
                             period=cfg.train.log_period) if comm.is_main_process() else None,
    ])
    checkpointer.resume_or_load(cfg.train.init_checkpoint, resume=resume)
    start = trainer.iter + 1 if resuming else 0
    trainer.train(start, cfg.train.max_iter)
    return dict(last)
