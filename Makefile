# Maestro: two commands do all set-up on a fresh machine.
#   make demo   the main job (emulator suite + sample journal + weights table)
#   make test   lint, type checks, unit tests, emulator tests and the dashboard's browser tests
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := functions/venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The dashboard (web/), bundled by esbuild into the Hosting public folder web/dist.
WEB_BUILT := web/dist/index.html
WEB_SOURCES := $(wildcard web/src/*.js) web/index.html web/style.css web/favicon.svg web/build.mjs \
  firebase.json .firebaserc
# The browser tests drive this Chromium (Debian's package; Playwright's own download cannot be
# fetched here). Elsewhere: CHROMIUM=/path/to/chromium make test.
CHROMIUM ?= /usr/bin/chromium

.PHONY: help setup setup-browser lint unit emulator-test browser-test test screenshots demo demo-offline evaluate serve bench bench-scale stress clean

help:
	@echo "make demo | make test | make evaluate | make serve | make bench | make stress | make setup"

# The Functions emulator requires the virtual environment at functions/venv (that exact name).
$(VENV_STAMP): functions/requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB_BUILT): $(NODE_STAMP) $(WEB_SOURCES)
	npm run --silent build:web

setup: $(VENV_STAMP) $(NODE_STAMP) $(WEB_BUILT)

# Chromium for the browser tests: installed with apt-get when missing (as root, about a minute);
# anything else fails here, saying what to do, rather than as a skipped test.
setup-browser:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "make: the browser tests need Chromium at $(CHROMIUM), and only root on Debian can install it here:" >&2; \
	  echo "  install it (Debian: apt-get install chromium), or point to one: CHROMIUM=/path/to/chromium make test" >&2; \
	  exit 1; \
	fi; \
	echo "installing Debian's chromium for the browser tests (apt-get, about a minute)" >&2; \
	if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then \
	  echo "make: apt-get install chromium failed; the browser tests need Chromium at $(CHROMIUM)" >&2; \
	  exit 1; \
	fi; \
	test -x "$(CHROMIUM)" || { echo "make: chromium installed, but $(CHROMIUM) is not there; set CHROMIUM" >&2; exit 1; }

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	MYPYPATH=functions $(VENV)/bin/mypy --strict --python-version 3.11 scripts/backfill.py
	MYPYPATH=functions $(VENV)/bin/mypy --strict --python-version 3.11 --follow-imports=silent \
	  tests/browser

unit: $(VENV_STAMP)
	$(PY) -m pytest tests/unit -q

emulator-test: setup
	scripts/emulators exec "$(PY) -m pytest tests/emulator -q"

# The dashboard in a real browser, served by the Hosting emulator (tests/browser).
browser-test: setup setup-browser
	MAESTRO_CHROMIUM="$(CHROMIUM)" scripts/emulators exec "$(PY) -m pytest tests/browser -q"

test: lint unit emulator-test browser-test

# The README's pictures of the dashboard (docs/images/dashboard-*.png), on the sample journal.
screenshots: setup setup-browser
	MAESTRO_CHROMIUM="$(CHROMIUM)" scripts/emulators exec "PYTHONPATH=functions $(PY) -m tests.browser.screenshots"

# The story only: the emulators' and functions' logs go to .emulators/ (paths printed at the end).
demo: setup
	@scripts/emulators exec "$(PY) scripts/demo.py"

# The offline engine alone, no Firebase: the CLI on the sample journal.
demo-offline: $(VENV_STAMP)
	cd functions && venv/bin/python -m maestro weights --journal ../examples/sample_journal.json

# The suite stays up until Ctrl-C, with the sample journal loaded for a demo user whose email and
# password it prints (scripts/emulators start alone: an empty suite).
serve: setup
	@scripts/emulators start "$(PY) scripts/demo.py --serve"

clean:
	rm -rf $(VENV) node_modules web/dist .emulators .pytest_cache .mypy_cache .ruff_cache .hypothesis

# The full burst of issue 5: 1,000 closes over 50 users (make test runs 200 over 20); and one
# user's 20, 50 and 200 closes on 20 instances in parallel (make test: 20 on 5).
stress: setup
	MAESTRO_BURST_CLOSES=1000 MAESTRO_BURST_USERS=50 \
	MAESTRO_ONE_USER_CLOSES=20,50,200 MAESTRO_ONE_USER_INSTANCES=20 \
	  scripts/emulators exec "$(PY) -m pytest tests/emulator/test_burst.py tests/emulator/test_one_user_burst.py -q -s"

# Walk-forward evaluation of examples/policies.json on the sample journal (README).
evaluate: $(VENV_STAMP)
	cd functions && venv/bin/python -m maestro evaluate --journal ../examples/sample_journal.json \
	  --policies ../examples/policies.json --start 2026-09-02 --plots ../docs/images/evaluate

# Benchmarks (not part of make test): results in bench/results/, plots in docs/images/,
# figures discussed in docs/performance.md.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): requirements-bench.txt $(VENV_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	@touch $@

bench: setup $(BENCH_STAMP)
	$(PY) bench/engine.py
	$(PY) bench/cli.py
	$(PY) bench/cold_start.py
	$(PY) bench/evaluate.py
	ln -sfn ../../functions/venv bench/baseline/venv
	MAESTRO_FIREBASE_CONFIG=firebase.bench.json scripts/emulators exec "$(PY) bench/emulator.py"
	$(PY) bench/plots.py

# A rebuild at sizes up to the config's limits (about half an hour; docs/performance.md "Scale").
bench-scale: setup $(BENCH_STAMP)
	ln -sfn ../../functions/venv bench/baseline/venv
	MAESTRO_FIREBASE_CONFIG=firebase.bench.json scripts/emulators exec "$(PY) bench/emulator.py scale"
