"""Hooks specific to pre-training."""
from __future__ import annotations

from pathlib import Path

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from eva.backbone import save_checkpoint
from eva.backbone.mm import full_state_dict


@HOOKS.register_module()
class BackboneExportHook(Hook):
    """Writes ``backbone.safetensors`` (student weights, read by ``eva.backbone.load_checkpoint``) and
    ``mim_head.safetensors`` (mask token + lm head) into the work dir at each checkpoint and at the end."""

    priority = "LOW"

    def __init__(self, filename: str = "backbone.safetensors"):
        self.filename = filename

    def _export(self, runner, iteration: int) -> None:
        state = full_state_dict(runner.model)  # collective under FSDP: every rank gathers, rank 0 writes
        if runner.rank != 0:
            return
        model = runner.model.module if hasattr(runner.model, "module") else runner.model
        backbone, head = model.split_state_dict(state)
        meta = {"eva_variant": str(getattr(model.student, "variant", "")), "iteration": str(iteration)}
        save_checkpoint(backbone, Path(runner.work_dir) / self.filename, metadata=meta)
        save_checkpoint(head, Path(runner.work_dir) / "mim_head.safetensors", metadata=meta)

    def before_save_checkpoint(self, runner, checkpoint) -> None:
        # rank 0 only under Runner (no gather there); every rank under FlexibleRunner's FSDP, as the gather needs
        self._export(runner, checkpoint.get("meta", {}).get("iter", runner.iter))

    def after_train(self, runner) -> None:
        self._export(runner, runner.iter)
