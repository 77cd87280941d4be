# Two entry points, each creating .venv on first use:
#   make run   - the main job: the default benchmark (encoders x tasks) on the shipped samples and weights
#   make test  - the test suite (all optional parts installed)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Tests compare against PyTorch references; CI uses the CPU wheel of this version.
TORCH ?= torch==2.13.0
# The `esm` package (EvolutionaryScale) for the ESM C parity tests: its own pins conflict with current
# transformers (transformers<4.48.2, torchvision, torchtext), so its code is installed without them and the
# few modules it imports come from the `esmc-ref` extra.
ESM ?= esm==3.2.1.post1
RUN_ARGS ?= benchmark --out runs/default
# Test processes (pytest-xdist, one per core of the 2-core CI machine); each test file runs whole in one
# of them (--dist loadfile), so a module's compiled fixtures are built once; files go out longest first
# (tests/conftest.py orders them by tests/file_seconds.json; --no-loadscope-reorder keeps that order instead
# of xdist's most-tests-first). `make test TEST_WORKERS=0`: one process.
TEST_WORKERS ?= 2

.PHONY: run test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[unirep]'
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet '$(TORCH)'
	$(BIN)/python -m pip install --quiet -e '.[all,esmc-ref]'
	$(BIN)/python -m pip install --quiet --no-deps '$(ESM)'
	touch $@

run: $(VENV)/.run-deps
	$(BIN)/biolens $(RUN_ARGS)

test: $(VENV)/.test-deps
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: $(VENV)/.test-deps
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache
