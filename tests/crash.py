"""A simulated kill for mmengine runs: the kill-and-resume tests of every mm-based part use it."""
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
