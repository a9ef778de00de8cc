# Two commands matter: `make run` and `make test`. Everything else is what they use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install migrate lint bench demo screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m app serve

migrate: $(STAMP)
	$(BIN)/python -m app migrate

demo: $(STAMP)
	$(BIN)/python -m app demo

test: $(STAMP)
	$(BIN)/ruff check .
	./scripts/ensure-browsers
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

screenshots: $(STAMP)
	./scripts/ensure-browsers
	UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/test_dashboard_browser.py \
		tests/test_intake_browser.py tests/test_tablet_browser.py tests/test_nurse_browser.py

bench: $(STAMP)
	$(BIN)/python scripts/bench_dispatch.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
