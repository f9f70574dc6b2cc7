# Kroi Auto Center — two commands: `make run` and `make test`.
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements-dev.lock | cksum | cut -d' ' -f1)
# The lock files pin every package with its hashes (uv pip compile, universal: Python 3.11-3.12 on any OS);
# pyproject.toml keeps the direct dependencies as ranges. `make lock` re-resolves after a change there.
LOCK := uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet

.PHONY: run test test-unit test-integration test-e2e e2e-deps bench clean lock

$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv>=0.5'
	$(BIN)/$(LOCK) --extra s3 --extra sentry -o requirements.lock
	$(BIN)/$(LOCK) --extra s3 --extra sentry --extra dev --extra embedded -o requirements-dev.lock

run: $(STAMP)
	$(BIN)/kroi serve --port $(PORT)

# Every test: unit + integration (one pytest run), then the browser tests (a separate run: Playwright's
# sync API and the anyio tests do not mix in one process).
test: $(STAMP) e2e-deps
	$(BIN)/pytest tests
	$(BIN)/pytest e2e

test-unit: $(STAMP)
	$(BIN)/pytest tests/unit

test-integration: $(STAMP)
	$(BIN)/pytest tests/integration

test-e2e: $(STAMP) e2e-deps
	$(BIN)/pytest e2e

# Chromium from Debian when missing (and we are root), axe-core from the npm registry.
e2e-deps:
	@if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	      { echo "could not install chromium"; [ -z "$$CI" ] || exit 1; }; \
	  else echo "chromium is missing and cannot be installed here"; [ -z "$$CI" ] || exit 1; fi; \
	fi
	@test -f node_modules/axe-core/axe.min.js || npm ci --no-audit --no-fund --silent

# wrk from Debian when missing (and we are root): the load generator of bench/run.py.
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
	  { echo "wrk is missing and cannot be installed here"; exit 1; }
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var node_modules .pytest_cache
