"""LARS as the MAE / EVA linear probes use it, on timm's implementation."""
from __future__ import annotations

from timm.optim import Lars


class ProbeLars(Lars):
    """timm's ``Lars`` with MAE's / EVA's rule: weight matrices always take the layer-wise trust ratio; 1-D
    parameters (biases, norms) step as SGD with momentum and no weight decay.

    timm adapts only where ``weight_decay != 0`` (or ``always_adapt``). The linear probe runs without weight decay,
    so timm's class alone would be SGD at lr 1.0, about 1000x the probe's intended steps.

    Args:
        params: parameters or parameter groups; each group is split into its matrices and its vectors.
        **kwargs: ``timm.optim.Lars`` arguments (``lr``, ``momentum``, ``weight_decay``, ``trust_coeff``...).
    """

    def __init__(self, params, **kwargs):
        groups = list(params)
        if groups and not isinstance(groups[0], dict):
            groups = [dict(params=groups)]
        split = []
        for group in groups:
            tensors = list(group["params"])
            matrices, vectors = [p for p in tensors if p.ndim > 1], [p for p in tensors if p.ndim <= 1]
            if matrices:
                split.append(dict(group, params=matrices, always_adapt=True))
            if vectors:
                split.append(dict(group, params=vectors, always_adapt=False, weight_decay=0.0))
        super().__init__(split, **kwargs)
