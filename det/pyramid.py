"""detectron2's ``SimpleFeaturePyramid`` with a separate square pad for testing."""
from __future__ import annotations

from typing import Optional

from detectron2.modeling.backbone.vit import SimpleFeaturePyramid


class EVAFeaturePyramid(SimpleFeaturePyramid):
    """``SimpleFeaturePyramid`` whose square pad can differ between training and testing.

    detectron2 pads every batch to ``square_pad`` and crops larger images to it. EVA-01's recipes train on
    1280 LSJ crops and test at 1536, so a single pad would either crop the test images or pad each training
    crop to 1536 (44% more tokens).

    Args:
        test_square_pad: square size in eval mode (``None``: ``square_pad``, as detectron2).
        *args, **kwargs: ``SimpleFeaturePyramid``'s.
    """

    def __init__(self, *args, test_square_pad: Optional[int] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.test_square_pad = test_square_pad

    @property
    def padding_constraints(self):
        constraints = dict(super().padding_constraints)
        if not self.training and self.test_square_pad is not None:
            constraints["square_size"] = self.test_square_pad
        return constraints
