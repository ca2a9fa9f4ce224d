# Credit scoring: the two set-up commands on a fresh machine are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 for everything (current onnxruntime/numpy wheels need it on Lambda too).
PYTHON312 ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .venv-tools
BUNDLE ?= function/model

.PHONY: help venv tools demo train sample test lint bench invoke drift-report mlflow-ui build load-test clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-fn.txt requirements-train.txt requirements-drift.txt requirements-dev.txt
	@test -n "$(PYTHON312)" || { echo "python3.12 not found (pyenv install 3.12 or set PYTHON312=...)"; exit 1; }
	$(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@# The repo root (training/, drift/, infra/) and function/ (scoring/) are importable in the venv.
	printf '%s\n%s\n' "$(CURDIR)" "$(CURDIR)/function" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/credit_scoring.pth"
	touch $@

$(TOOLS)/.installed: requirements-tools.txt
	@test -n "$(PYTHON312)" || { echo "python3.12 not found"; exit 1; }
	$(PYTHON312) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r requirements-tools.txt
	touch $@

venv: $(VENV)/.installed ## Create the project venv (training, serving, drift, tests)
tools: $(TOOLS)/.installed ## Create the deployment-tools venv (sam, cfn-lint, checkov)
