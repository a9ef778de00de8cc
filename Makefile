# Two commands matter: `make run` and `make test`. Everything else is what they use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package, direct and indirect, pinned with its hashes, wheels only (no build script runs):
# requirements-dev.lock for run and test (with the embedded PostgreSQL and the test tools),
# requirements.lock for the production image. `make lock` refreshes both (docs/security.md).
PIP_INSTALL := $(BIN)/python -m pip install --quiet --require-hashes --only-binary=:all:
UV_VERSION := 0.13.9
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --generate-hashes --python-version 3.11 \
	--custom-compile-command "make lock" --quiet

.PHONY: run test install lock migrate lint bench demo screenshots clean

# The project itself runs from this folder (a .pth file, as an editable install makes, with no
# build step and so nothing fetched outside the lock).
$(STAMP): requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements-dev.lock
	@$(BIN)/python -c "import pathlib, sysconfig; \
		pathlib.Path(sysconfig.get_path('purelib'), 'street_triage.pth').write_text('$(CURDIR)\n')"
	touch $(STAMP)

install: $(STAMP)

# Resolve pyproject.toml again (newest versions its ranges allow) into both lock files; the
# runtime lock is held to the development lock's versions so the two never disagree.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(LOCK) --upgrade --extra dev --extra embedded -o requirements-dev.lock
	$(LOCK) --constraint requirements-dev.lock -o requirements.lock

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
