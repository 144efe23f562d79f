# Two commands for a new user: `make demo` and `make test`. Each installs what it needs first.
SHELL := /bin/bash
UV_VERSION := 0.13.8
PYTHON ?= python3.11
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen --no-sync

.PHONY: demo test lint typecheck unit e2e integration browser install up down ps status airflow-ui mlflow-ui clean help

help:
	@echo "make demo        run the churn lifecycle on the embedded default (Airflow + MLflow on SQLite)"
	@echo "make test        lint, type-check and run the whole test suite (unit, e2e, integration on the local"
	@echo "                 PostgreSQL and Redis, browser tests in Debian's chromium, installed when missing)"
	@echo "make up          start Airflow (scheduler, DAG processor, triggerer, API server on :8080) and the MLflow"
	@echo "                 UI (:5000) in the background on the embedded default; unpauses the pipelines' DAGs"
	@echo "make down        stop them; make ps: what runs; make status: champion, runs, drift, alerts"
	@echo "make airflow-ui  alias of make up"
	@echo "make mlflow-ui   serve the MLflow UI on the demo's store (http://localhost:5000)"
	@echo "make clean       remove all local state (.local/)"

$(CURDIR)/.tools/bin/uv:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	@touch $@

install: .venv/.synced

demo: install
	$(RUN) ml-lifecycle demo $(ARGS)

lint: install
	$(RUN) ruff check plugins dags tests benchmarks
	$(RUN) lint-imports --no-cache

typecheck: install
	$(RUN) mypy plugins dags

unit: install
	$(RUN) pytest tests -m "not e2e and not integration and not browser"

integration: install
	$(RUN) pytest tests -m integration

browser: install browser-deps
	$(RUN) pytest tests -m browser

e2e: install
	$(RUN) pytest tests -m e2e

test: lint typecheck browser-deps
	$(RUN) pytest tests --durations=12

up: install
	$(RUN) ml-lifecycle up

down: install
	$(RUN) ml-lifecycle down

ps: install
	$(RUN) ml-lifecycle ps

status: install
	$(RUN) ml-lifecycle status

airflow-ui: up

mlflow-ui: install
	$(RUN) ml-lifecycle mlflow-ui

clean:
	rm -rf .local

# Debian's chromium for the browser tests (tests/browser/, driven by Playwright's Python package through
# executable_path=/usr/bin/chromium; `playwright install` is never needed). Installs only when missing.
.PHONY: browser-deps
browser-deps:
	@if [ -x /usr/bin/chromium ]; then echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	else $(if $(filter 0,$(shell id -u)),,sudo) apt-get update && \
	     $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y chromium chromium-driver; fi
