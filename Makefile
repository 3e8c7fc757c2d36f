# The two commands of the README's quick start (demo, test); each sets up first.
# `make model` rebuilds the embedded bundle from scratch (~5.5 h on 2 cores, plus the Vocos lane); `make eval` scores it
# (`make eval FORCE=1` regenerates outputs an earlier bundle left in reports/; `make eval EVAL_SEEDS="0 1 2"` scores
# each seed into $(EVAL_OUT)/seed<S>/ and writes the spread over seeds beside them).
.PHONY: setup demo test lint model eval
PY := .venv/bin/python
EVAL_OUT ?= reports/e2e
EVAL_LIMIT ?= 12
EVAL_SEEDS ?= 0

setup:
	./scripts/setup.sh

demo: setup
	$(PY) -m deepasmr.demo

test: setup
	.venv/bin/ruff check src tests
	.venv/bin/pytest -q

lint: setup
	.venv/bin/ruff check src tests

model: setup
	./scripts/build_model.sh

eval: setup
	.venv/bin/deepasmr eval-model --audio-root corpus/v2 --out $(EVAL_OUT) --limit $(EVAL_LIMIT) --seed $(EVAL_SEEDS) $(if $(FORCE),--force) \
	  $(foreach t,$(wildcard corpus/v2/testsets/*_testset.json),--testset $(t))
