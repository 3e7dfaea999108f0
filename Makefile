# `make test` and `make demo` each do all set-up first (one idempotent `make setup`).
PYTHON ?= python3
VPY := .venv/bin/python
STAMP := .venv/.setup-done
DET_DEMO := det/configs/demo/eva02_tiny_composites.py
SEG_DEMO := seg/configs/demo/upernet_eva02_tiny_composites.py
VIDEO_DEMO := video/configs/demo/eva02_tiny_motion.py
SETUP_INPUTS := pyproject.toml setup.py $(wildcard requirements/*.txt requirements/*.sh)

.PHONY: setup test test-fast demo bench clean-venv

setup: $(STAMP)

$(STAMP): $(SETUP_INPUTS)
	PYTHON=$(PYTHON) bash requirements/setup.sh
	@touch $@

## the whole suite, slow tests included (what CI runs)
test: setup
	$(VPY) -m pytest -q

## the default quick loop: everything but tests marked slow
test-fast: setup
	$(VPY) -m pytest -q -m "not slow"

## the main job (see README): pre-train a tiny EVA on real images, then fine-tune it for classification,
## semantic segmentation, video classification and instance segmentation (detection when detectron2 is installed)
demo: setup
	$(VPY) -m eva.backbone.cli demo --work-dir work_dirs/demo
	$(VPY) -m eva.backbone.cli cls demo --pretrained work_dirs/demo/backbone.safetensors --work-dir work_dirs/demo_cls
	$(VPY) -m eva.backbone.cli seg train $(SEG_DEMO)
	$(VPY) -m eva.backbone.cli seg demo $(SEG_DEMO) work_dirs/demo_seg/iter_700.pth \
		datasets/eva_seg_composites/val/img/00000.jpg work_dirs/demo_seg/overlay.png
	$(VPY) -m eva.backbone.cli video train $(VIDEO_DEMO)
	$(VPY) -m eva.backbone.cli video demo $(VIDEO_DEMO) work_dirs/demo_video/epoch_12.pth \
		datasets/eva_motion_clips/$$(head -n 1 datasets/eva_motion_clips/val.txt | cut -d " " -f 1)
	@if $(VPY) -c "import detectron2" 2>/dev/null; then \
		$(VPY) -m eva.backbone.cli det train --config-file $(DET_DEMO) && \
		$(VPY) -m eva.backbone.cli det demo --config-file $(DET_DEMO) --checkpoint work_dirs/demo_det/model_final.pth \
			--input datasets/eva_composites_val/images/000000.jpg --output work_dirs/demo_det/prediction.png; \
	else echo "[eva] detectron2 is not installed: skipping the detection demo (README: \"Installing detectron2\")"; fi

bench: setup
	$(VPY) benchmarks/backbone.py --device cpu
	$(VPY) benchmarks/gpu.py --smoke --out work_dirs/gpu_smoke.json   # the GPU script's code paths, tiny, on the CPU
	@if $(VPY) -c "import detectron2" 2>/dev/null; then $(VPY) benchmarks/det_loader.py; \
	else echo "[eva] detectron2 is not installed: skipping the detection loader benchmark"; fi

clean-venv:
	rm -rf .venv
