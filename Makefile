# channelkit: `make report` runs the whole report on the sample data, `make test` runs every test.
# Both create .venv on first use and reinstall only when pyproject.toml changes.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAMPLE := data/sample
CONFIG ?= config/report.yaml
SEED ?= 7

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(VENV)/.base: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	$(PY) -m ipykernel install --sys-prefix --name channelkit --display-name "Python (channelkit)" >/dev/null
	@touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $@

install: $(VENV)/.base ## create .venv and install channelkit (only when pyproject.toml changed)

$(SAMPLE)/truth.json: | $(VENV)/.base
	$(PY) -m channelkit sample --out $(SAMPLE) --seed $(SEED) --scale small

sample: $(SAMPLE)/truth.json ## generate the small sample retailer into data/sample (once)

report: $(VENV)/.base $(SAMPLE)/truth.json ## run every notebook on the sample data; prints where the report is
	$(PY) -m channelkit report --config $(CONFIG)

test: $(VENV)/.test ## install with test extras and run the whole test suite
	$(PY) -m pytest

# Jupyter refuses to start as root without --allow-root (containers, CI images often run as root).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

lab: $(VENV)/.base $(SAMPLE)/truth.json ## open JupyterLab on notebooks/ with the channelkit kernel (works as root too)
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) notebooks/

bench: $(VENV)/.base ## install the benchmark extra (GPL reference tools) for benchmarks/
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[bench]"

clean: ## remove the virtual environment and generated sample data (not outputs/)
	rm -rf $(VENV) $(SAMPLE)

.PHONY: help install sample report test lab bench clean
