"""Build an mmengine runner from an mm-style config: the one launcher every mm-based part (pretrain, cls) uses."""
from __future__ import annotations

import argparse
import importlib
import os
from pathlib import Path
from typing import Callable, Iterable, Optional, Union


def parse_cfg_options(options: Union[None, dict, Iterable[str]]) -> dict:
    """``["a.b=1", "c=[1,2]"]`` (as on the command line) or a dict -> a dict for ``Config.merge_from_dict``."""
    if not options:
        return {}
    if isinstance(options, dict):
        return dict(options)
    from mmengine.config import DictAction
    ns = argparse.Namespace()
    DictAction(option_strings=[], dest="o")(None, ns, list(options))
    return ns.o


def _init_cpu_distributed() -> None:
    """torchrun without CUDA: start a gloo process group before mmengine, whose launcher would call
    ``torch.cuda.set_device``."""
    import torch
    import torch.distributed as dist
    if not dist.is_initialized() and not torch.cuda.is_available():
        dist.init_process_group("gloo")


def build_runner(config: str, work_dir: Optional[str] = None, resume: bool = False, cfg_options=None,
                 imports: Iterable[str] = (), load_from: Optional[str] = None,
                 edit: Optional[Callable] = None):
    """An mmengine ``Runner`` (or ``FlexibleRunner`` when the config sets ``runner_type``/``strategy``, e.g. FSDP)
    with the launcher taken from torchrun's environment; on CPU-only machines ranks talk over gloo.

    Args:
        config: config file.
        work_dir: output folder (default: the config's ``work_dir`` or ``work_dirs/<config name>``).
        resume: continue from the work dir's last checkpoint.
        cfg_options: overrides, as ``["key.path=value", ...]`` or ``{"key.path": value}``.
        imports: modules that register the config's types (e.g. ``["eva.pretrain"]``).
        load_from: a checkpoint to load before training or testing.
        edit: called with the loaded ``Config`` after the overrides (e.g. to switch to test-time augmentation).
    """
    import torch
    from mmengine.config import Config
    from mmengine.runner import FlexibleRunner, Runner

    import eva.backbone.mm  # noqa: F401  (registrations shared by every part)
    for name in imports:
        importlib.import_module(name)

    cfg = Config.fromfile(config)
    cfg.merge_from_dict(parse_cfg_options(cfg_options))
    cfg.work_dir = work_dir or cfg.get("work_dir") or str(Path("work_dirs") / Path(config).stem)
    cfg.resume = resume
    if load_from:
        cfg.load_from = load_from
    if edit is not None:
        edit(cfg)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    cfg.launcher = "pytorch" if distributed else "none"
    if distributed:
        _init_cpu_distributed()
    flexible = cfg.get("runner_type") == "FlexibleRunner" or "strategy" in cfg
    if flexible:
        strategy = cfg.get("strategy") or {}
        if strategy.get("type") == "FSDPStrategy" and not torch.cuda.is_available():
            strategy.setdefault("model_wrapper", {})["device_id"] = torch.device("cpu")  # FSDP on CPU (gloo)
        return FlexibleRunner.from_cfg(cfg)
    if distributed and not torch.cuda.is_available():  # DDP over CPU processes: no device_ids
        cfg.model_wrapper_cfg = dict(type="MMDistributedDataParallel", device_ids=None,
                                     **(cfg.get("model_wrapper_cfg") or {}))
    return Runner.from_cfg(cfg)
