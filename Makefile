# `make test` and `make demo` each do all set-up first (one idempotent `make setup`).
PYTHON ?= python3
VPY := .venv/bin/python
STAMP := .venv/.setup-done
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

## the main job (see README): pre-train a tiny EVA on real images, then fine-tune it for classification
demo: setup
	$(VPY) -m eva.backbone.cli demo --work-dir work_dirs/demo
	$(VPY) -m eva.backbone.cli cls demo --pretrained work_dirs/demo/backbone.safetensors --work-dir work_dirs/demo_cls

bench: setup
	$(VPY) benchmarks/backbone.py --device cpu

clean-venv:
	rm -rf .venv
