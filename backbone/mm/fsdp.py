"""FSDP support for mmengine's ``FlexibleRunner`` + ``FSDPStrategy`` (the 1B-parameter recipes).

Config use::

    runner_type = "FlexibleRunner"
    strategy = dict(type="FSDPStrategy", state_dict_cfg="full",
                    model_wrapper=dict(use_orig_params=True, auto_wrap_policy="eva_block_wrap_policy"))

``use_orig_params=True`` is required: layer-wise lr decay needs one optimizer group per (layer, decay) pair.
"""
from __future__ import annotations

from typing import Dict, Optional

import torch
from mmengine.registry import FUNCTIONS
from torch import nn


def _fsdp_class():
    from torch.distributed.fsdp import FullyShardedDataParallel
    return FullyShardedDataParallel


def is_fsdp(model: nn.Module) -> bool:
    """True when ``model`` is (or contains) an FSDP-wrapped module: its gradients are sharded across ranks."""
    fsdp = _fsdp_class()
    return any(isinstance(m, fsdp) for m in model.modules())


@FUNCTIONS.register_module(force=True)
def eva_block_wrap_policy(module: nn.Module, recurse: bool, nonwrapped_numel: int) -> bool:
    """FSDP auto-wrap policy: one FSDP unit per transformer block of any EVA backbone (the root wraps the rest).

    Args:
        module: the module FSDP is deciding about.
        recurse: ``True`` when FSDP asks whether to descend into ``module`` (the policy always says yes),
            ``False`` when it asks whether to wrap it (yes for EVA blocks).
        nonwrapped_numel: parameters not yet wrapped below ``module`` (unused: blocks are wrapped by type).
    """
    from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy

    from ..layers.block import Block, PostNormBlock
    return transformer_auto_wrap_policy(module, recurse, nonwrapped_numel,
                                        transformer_layer_cls={Block, PostNormBlock})


def original_ndims(model: nn.Module) -> Optional[Dict[int, int]]:
    """``{id(param): ndim before flattening}`` for an FSDP model (``use_orig_params=True``), else ``None``.

    FSDP shows each original parameter as a 1-D slice of its rank's shard, so rules that look at
    ``param.ndim`` (no weight decay on 1-D tensors) must read the shape FSDP recorded.
    """
    if not is_fsdp(model):
        return None
    fsdp = _fsdp_class()
    ndims: Dict[int, int] = {}
    for m in model.modules():
        if not isinstance(m, fsdp) or m._handle is None:
            continue
        flat = m._handle.flat_param
        params = getattr(flat, "_params", None)
        if params is None:
            raise ValueError("FSDP model built without use_orig_params=True: layer-wise lr decay needs the "
                             "original parameters. Set strategy.model_wrapper.use_orig_params=True.")
        ndims.update({id(p): len(shape) for p, shape in zip(params, flat._shapes)})
    return ndims


def full_state_dict(model: nn.Module) -> Dict[str, torch.Tensor]:
    """The whole model's state dict on CPU, gathered from FSDP shards where needed.

    Collective under FSDP: every rank must call it; ranks other than 0 get an empty dict.
    """
    if hasattr(model, "module") and not is_fsdp(model):
        model = model.module
    if not is_fsdp(model):
        return {k: v.detach().cpu() for k, v in model.state_dict().items()}
    from torch.distributed.fsdp import FullStateDictConfig, StateDictType
    fsdp = _fsdp_class()
    with fsdp.state_dict_type(model, StateDictType.FULL_STATE_DICT,
                              FullStateDictConfig(offload_to_cpu=True, rank0_only=True)):
        state = model.state_dict()
    return {k: v.detach().cpu() for k, v in state.items()}


__all__ = ["eva_block_wrap_policy", "full_state_dict", "is_fsdp", "original_ndims"]
