# The two commands of the README's quick start; each sets up first.
.PHONY: setup demo test lint
PY := .venv/bin/python

setup:
	./scripts/setup.sh

demo: setup
	$(PY) -m deepasmr.demo

test: setup
	.venv/bin/ruff check src tests
	.venv/bin/pytest -q

lint: setup
	.venv/bin/ruff check src tests
