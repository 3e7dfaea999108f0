"""The layer-decay rule as an mmengine optimizer-wrapper constructor, shared by every mm-style part
(pre-training, classification, mmseg, mmaction2). Imported explicitly; ``import eva.backbone`` never loads it.

Config use::

    optim_wrapper = dict(
        optimizer=dict(type="AdamW", lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
        constructor="LayerDecayOptimWrapperConstructor",
        paramwise_cfg=dict(layer_decay=0.9, backbone_prefix="backbone."))
"""
from __future__ import annotations

from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS
from torch import nn

from .layer_decay import param_groups_layer_decay


@OPTIM_WRAPPER_CONSTRUCTORS.register_module(force=True)
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Parameter groups from :func:`eva.backbone.param_groups_layer_decay`.

    ``paramwise_cfg`` keys: ``layer_decay`` (1.0 = none), ``backbone_prefix`` (name prefix of the EVA backbone
    inside the model, e.g. ``"backbone."``; other parameters get the top layer's rate), ``num_layers`` (default
    the backbone's depth), ``no_decay_names`` (extra names without weight decay). Each group's lr is
    ``base_lr * lr_scale``; mmengine's schedulers scale every group from its own initial lr.
    """

    def __call__(self, model: nn.Module):
        if hasattr(model, "module"):
            model = model.module
        cfg = dict(self.optimizer_cfg)
        base_lr, wd = cfg["lr"], cfg.get("weight_decay", 0.0)
        pw = dict(self.paramwise_cfg or {})
        prefix = pw.get("backbone_prefix", "")
        backbone = model.get_submodule(prefix.rstrip(".")) if prefix else model
        depth = pw.get("num_layers", getattr(backbone, "depth", None))
        if depth is None:
            raise ValueError("LayerDecayOptimWrapperConstructor: set paramwise_cfg.num_layers or backbone_prefix "
                             "pointing at an EVA backbone")
        groups = param_groups_layer_decay(model, weight_decay=wd, layer_decay=pw.get("layer_decay", 1.0),
                                          depth=depth, prefix=prefix, skip=pw.get("no_decay_names", ()))
        for g in groups:
            g["lr"] = base_lr * g["lr_scale"]
        cfg["params"] = groups
        optimizer = OPTIMIZERS.build(cfg)
        wrapper_cfg = dict(self.optim_wrapper_cfg)
        wrapper_cfg.setdefault("type", "OptimWrapper")
        return OPTIM_WRAPPERS.build(wrapper_cfg, default_args=dict(optimizer=optimizer))
