"""mmengine integration shared by every mm-style part (pre-training, classification, mmseg, mmaction2).

Imported explicitly (``import eva.backbone.mm``); ``import eva.backbone`` never loads mmengine. Importing it
registers, into mmengine's root registries: ``LayerDecayOptimWrapperConstructor``, ``SafeOptimWrapper``,
``ResumeStateHook``, ``LossCurveHook``, ``EpochSeededSampler``, ``SeededInfiniteSampler``, ``SeededDataset``,
``ResumableEpochBasedTrainLoop``, ``ResumableIterBasedTrainLoop``, the FSDP auto-wrap policy
``eva_block_wrap_policy``; and makes local checkpoint writes atomic. ``eva.backbone.mm.runner.build_runner`` is
the launcher every mm-based part uses.
"""
from .checkpoint_io import AtomicLocalBackend, ResumeStateHook
from .logging import LossCurveHook
from .fsdp import eva_block_wrap_policy, full_state_dict, is_fsdp
from .sampler import EpochSeededSampler, SeededDataset, SeededInfiniteSampler, sample_seed
from .loops import ResumableEpochBasedTrainLoop, ResumableIterBasedTrainLoop
from .optim import LayerDecayOptimWrapperConstructor, NonFiniteError, SafeOptimWrapper

__all__ = ["AtomicLocalBackend", "ResumeStateHook", "LossCurveHook",
           "LayerDecayOptimWrapperConstructor", "NonFiniteError", "SafeOptimWrapper",
           "eva_block_wrap_policy", "full_state_dict", "is_fsdp", "EpochSeededSampler", "sample_seed",
           "SeededInfiniteSampler", "SeededDataset", "ResumableEpochBasedTrainLoop", "ResumableIterBasedTrainLoop"]
