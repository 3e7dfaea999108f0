#!/usr/bin/env bash
# Installs mmcv with its compiled ops (mmcv._ext) into the venv.
#
# No registry ships an mmcv wheel for torch 2.14, and mmcv's sdist asks for -std=c++14/17 while torch 2.14's
# headers require C++20. We therefore build the pinned sdist once with the standard raised to C++20
# (nothing else changes) and cache the wheel per torch version, so later set-ups and CI reuse it.
# First build: ~35 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PIP="$PY -m pip"
CONSTRAINTS=requirements/constraints.txt
MMCV=$(sed -n 's/^mmcv==//p' $CONSTRAINTS)
TORCH=$(sed -n 's/^torch==//p' $CONSTRAINTS)
CACHE=${EVA_WHEEL_CACHE:-$HOME/.cache/eva/wheels}/torch-$TORCH
mkdir -p "$CACHE"

if $PY -c "import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != '$MMCV')" 2>/dev/null; then
  echo "[setup] mmcv $MMCV with ops already installed"; exit 0
fi
whl=$(ls "$CACHE"/mmcv-"$MMCV"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$whl" ]; then
  echo "[setup] building mmcv $MMCV with CPU ops for torch $TORCH (first time only, ~35 min on 2 cores)"
  # build-time needs: setup.py imports pkg_resources (setuptools < 81) and torch; ninja parallelises.
  $PIP install -q -c $CONSTRAINTS setuptools wheel ninja
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  $PIP download -q --no-deps --no-binary :all: --no-build-isolation -c $CONSTRAINTS "mmcv==$MMCV" -d "$work"
  tar -xzf "$work"/mmcv-"$MMCV".tar.gz -C "$work"
  sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$work/mmcv-$MMCV/setup.py"
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    $PIP wheel -q --no-deps --no-build-isolation "$work/mmcv-$MMCV" -w "$work/out"
  mv "$work"/out/mmcv-*.whl "$CACHE/"   # a finished wheel only ever appears whole
  whl=$(ls "$CACHE"/mmcv-"$MMCV"-*.whl | head -n 1)
fi
$PIP install -q -c $CONSTRAINTS "$whl"
$PY -c "import mmcv.ops; print('[setup] mmcv', __import__('mmcv').__version__, 'ops OK')"
