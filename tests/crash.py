"""Kill-and-resume for mm-based training: a hook that simulates a kill, the runner `eva <part> train` builds, and
the bit-for-bit comparison of the weights, for the kill-and-resume tests (pre-training, segmentation, video)."""
import argparse

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


class Killed(Exception):
    """What `CrashAfterIter` raises."""


@HOOKS.register_module(force=True)  # mmengine's root registry: found from every part's default scope
class CrashAfterIter(Hook):
    """Raise :class:`Killed` right after global iteration ``at`` (1-based), as a killed job would stop.

    Args:
        at: the last iteration that completes.
    """

    def __init__(self, at: int):
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at:
            raise Killed(f"simulated kill after iteration {self.at}")


def kill_after(iteration: int) -> dict:
    """Config options that add the kill to the exact-resume hook."""
    return {"custom_hooks": [dict(type="ResumeStateHook"), dict(type="CrashAfterIter", at=iteration)]}


def train_part(config, work_dir, imports, register, resume=False, options=None):
    """Train ``config`` with the runner `eva <part> train` builds; returns the runner.

    Args:
        imports: the part's modules (e.g. ``["eva.seg"]``).
        register: the framework's ``register_all_modules``.
        options: config overrides (a dict).
    """
    from eva.backbone.mm.cli import build_part_runner

    args = argparse.Namespace(config=str(config), work_dir=str(work_dir), cfg_options=options or {})
    runner = build_part_runner(args, imports, register, resume=resume)
    runner.train()
    return runner


def assert_same_weights(expected: dict, actual: dict) -> None:
    """Every tensor of two state dicts is bit-for-bit equal."""
    assert expected.keys() == actual.keys()
    for k, v in expected.items():
        assert torch.equal(v, actual[k]), k
