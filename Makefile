# campusmon — the README's two commands: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# snmpsim runs in its own venv on Debian's Python: as root it drops privileges to nobody,
# who cannot read a Python under /root (pyenv).
SIMVENV := .venv-sim
SIMSTAMP := $(SIMVENV)/.installed
SYSPY ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo $(PY))

.PHONY: all demo demo-central test lint typecheck bench setup system-deps clean

all: test

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(SIMSTAMP):
	test -x $(SIMVENV)/bin/python || $(SYSPY) -m venv $(SIMVENV)
	$(SIMVENV)/bin/pip install -q -c constraints.txt snmpsim pysmi cryptography
	touch $(SIMSTAMP)

setup: $(STAMP) $(SIMSTAMP)

# Real servers and tools the tests talk to (Debian packages; needs root, skipped otherwise).
system-deps:
	bash .ci/install-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy agent collectors probes exporters config inventory dashboards tests
	@for b in bench/*/run.py; do $(BIN)/mypy --no-error-summary $$b || exit 1; done

test: system-deps $(STAMP) $(SIMSTAMP) lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

demo: $(STAMP) $(SIMSTAMP)
	$(BIN)/campusmon demo $(DEMO_ARGS)

demo-central: system-deps $(STAMP) $(SIMSTAMP)
	$(BIN)/campusmon demo --central $(DEMO_ARGS)

bench: system-deps $(STAMP) $(SIMSTAMP)
	@for b in bench/*/run.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf data build *.egg-info .mypy_cache .ruff_cache
