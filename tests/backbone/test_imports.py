"""`import eva.backbone` (and `eva convert`) must not pull in any training / detection framework."""
import subprocess
import sys

FRAMEWORKS = ("detectron2", "mmcv", "mmengine", "mmseg", "mmdet", "mmaction", "open_clip")


def test_backbone_imports_no_framework():
    code = ("import sys, eva.backbone, eva.backbone.cli; "
            f"print([m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
