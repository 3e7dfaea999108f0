"""eva.video: EVA in mmaction2 1.x. Import with ``custom_imports = dict(imports=["eva.video"])``: registers
``EVAVideoBackbone`` (and ``EVAVideoHead``, ``MotionClipsDataset``) into mmengine's root registries and the shared
layer-decay optimizer constructor; recognizers, data pipelines and metrics are mmaction2's own."""
import eva.backbone.mm  # noqa: F401  (LayerDecayOptimWrapperConstructor, SafeOptimWrapper, hooks)

from .backbone import EVAVideoBackbone
from .data import MotionClipsDataset
from .head import EVAVideoHead
from .metrics import MotionFactorsMetric

__all__ = ["EVAVideoBackbone", "EVAVideoHead", "MotionClipsDataset", "MotionFactorsMetric"]
