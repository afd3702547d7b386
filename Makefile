# Every target installs what it needs into .venv first and is safe to repeat.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run demo test lint bench services browser clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

services:
	scripts/ensure-services.sh

# Debian's Chromium, which the browser tests drive through Playwright.
browser:
	scripts/ensure-chromium.sh

run: install services
	$(BIN)/game-scheduler run

# With `make run` going in another terminal: a sample game to watch on the sandbox page.
demo: install
	$(BIN)/game-scheduler demo

# pytest exits 5 when it collects nothing; make fails on any non-zero exit, so that fails too.
test: install services browser lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install services
	$(BIN)/python bench/publish.py
	$(BIN)/python bench/scheduler.py
	$(BIN)/python bench/bot.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
