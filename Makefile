# Two commands do all set-up: `make run` (serve the demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# Emailed links point at the server `make run` starts, unless the environment says otherwise.
CRP_BASE_URL ?= http://127.0.0.1:$(PORT)
export CRP_BASE_URL
export FLASK_APP := crp_portal
# What bandit scans: the code that ships (tests, bench and migrations are excluded).
BANDIT_TARGETS := crp_portal config.py wsgi.py gunicorn.conf.py
# pip-audit's default vulnerability service is PyPI's JSON API; this asks it first.
PIP_AUDIT_PROBE := https://pypi.org/pypi/pip/json

.PHONY: run test lint audit format bench clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# The web server and the outbox worker (which delivers every email; no request talks SMTP)
# run together; Ctrl-C stops both.
run: $(VENV)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@echo "CRP Portal: http://127.0.0.1:$(PORT)  (demo password: recovery-demo)"
	@$(BIN)/flask outbox work & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# Offline checks, run by `make test` and so by CI: style, types (mypy over crp_portal,
# configured in pyproject.toml), bandit (fails on any high-severity finding) and
# `pip check` (installed packages agree on their requirements).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml -r $(BANDIT_TARGETS) --severity-level high
	$(BIN)/python -m pip check

# Security audit: every bandit finding listed (only a high one fails), `pip check`, then
# pip-audit over every installed third-party package. --strict makes a package the
# service cannot look up fail the audit rather than pass unchecked; --skip-editable
# leaves out the portal itself, which is not on PyPI. When the service cannot be reached
# the audit says so; that fails under CI=true and is a warning on a developer machine.
audit: $(VENV)/.installed-test
	$(BIN)/bandit -c pyproject.toml -r $(BANDIT_TARGETS) --exit-zero
	$(BIN)/bandit -q -c pyproject.toml -r $(BANDIT_TARGETS) --severity-level high
	$(BIN)/python -m pip check
	@if $(BIN)/python -c "import urllib.request as r; r.urlopen('$(PIP_AUDIT_PROBE)', timeout=15)" \
		2>/dev/null; then \
		echo "$(BIN)/pip-audit --strict --local --skip-editable --progress-spinner off"; \
		$(BIN)/pip-audit --strict --local --skip-editable --progress-spinner off; \
	else \
		echo "pip-audit: vulnerability service unreachable ($(PIP_AUDIT_PROBE)), not audited"; \
		[ "$$CI" != true ]; \
	fi

# The independent readers the suite checks our output with (ical.js, the Nu Html
# Checker), from tests/js/package-lock.json; skipped where npm is missing (the tests that
# need them then skip locally and fail under CI=true).
READERS := tests/js/node_modules/.installed
$(READERS): tests/js/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix tests/js --no-audit --no-fund --ignore-scripts --loglevel=error \
		&& touch $@; \
	else echo "npm not found: calendar and HTML reader tests will skip"; fi

# One pytest-xdist worker per core (`TEST_WORKERS=0` runs in one process); each worker has
# its own PostgreSQL database, Chromium and SMTP servers, and steals work when idle.
TEST_WORKERS ?= auto
test: lint $(READERS)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# README's pictures of each role's main screens, desktop and phone, from a fresh demo.
screenshots: $(VENV)/.installed-test
	$(BIN)/python docs/screenshots/take.py

bench: $(VENV)/.installed-test
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk; } \
		|| { echo "make bench needs wrk: sudo apt-get install wrk"; exit 1; }
	$(BIN)/python -m bench.nudges
	$(BIN)/python -m bench.load

# A minute of mixed traffic (wrk) while gunicorn workers are SIGKILLed and PostgreSQL
# (a throwaway server) is restarted; exits 1 if an acknowledged write is lost, a row is
# half-written or a 5xx other than a clean 503 is served. A year of history keeps it
# within 4 minutes; `SOAK_ARGS=` runs the 1x history on SQLite. See bench/README.md.
SOAK_ARGS ?= --postgres --years 1
.PHONY: soak
soak: $(VENV)/.installed-test
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk; } \
		|| { echo "make soak needs wrk: sudo apt-get install wrk"; exit 1; }
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
