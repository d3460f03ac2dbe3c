# Encaisse — the two commands of README: `make demo` and `make test`. Both set themselves up.
PYTHON ?= $(shell command -v python3.12 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv

venv: $(STAMP)

$(STAMP): requirements/dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# The demo turns the staff second factor off unless asked (ENCAISSE_STAFF_2FA=1 make demo); it says so.
demo: venv
	ENCAISSE_STAFF_2FA=$${ENCAISSE_STAFF_2FA:-0} $(BIN)/encaisse demo

test: venv
	scripts/test.sh

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
