"""Hooks specific to pre-training."""
from __future__ import annotations

from pathlib import Path

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from eva.backbone import save_checkpoint


@HOOKS.register_module()
class BackboneExportHook(Hook):
    """Writes ``backbone.safetensors`` (student weights, read by ``eva.backbone.load_checkpoint``) and
    ``mim_head.safetensors`` (mask token + lm head) into the work dir at each checkpoint and at the end."""

    priority = "LOW"

    def __init__(self, filename: str = "backbone.safetensors"):
        self.filename = filename

    def _export(self, runner) -> None:
        if runner.rank != 0:
            return
        model = runner.model.module if hasattr(runner.model, "module") else runner.model
        meta = {"eva_variant": str(getattr(model.student, "variant", "")), "iteration": str(runner.iter)}
        save_checkpoint(model.backbone_state_dict(), Path(runner.work_dir) / self.filename, metadata=meta)
        save_checkpoint(model.mim_head_state_dict(), Path(runner.work_dir) / "mim_head.safetensors", metadata=meta)

    def after_save_checkpoint(self, runner, checkpoint) -> None:  # noqa: D401 (mmengine hook name)
        self._export(runner)

    def after_train(self, runner) -> None:
        self._export(runner)
