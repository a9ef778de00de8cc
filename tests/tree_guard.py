"""Tests write nothing into the project's tree: their databases, servers' logs and data live in
temporary folders, and the test tools keep nothing here (no pytest cache: pyproject.toml;
Hypothesis's folder in a temporary one: conftest). A run that leaves a new file in the tree
fails, however the file got there (the listing is taken before collection)."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Made by installing and by Python itself, not by the tests.
NOT_OURS = {".git", ".venv", "__pycache__", ".ruff_cache", ".mypy_cache", "street_triage.egg-info"}
_BEFORE = pytest.StashKey[set[str]]()


def files_in_tree(root: Path = ROOT) -> set[str]:
    found = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in NOT_OURS]
        found |= {os.path.relpath(os.path.join(folder, name), root) for name in files}
    return found


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_BEFORE] = files_in_tree()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    written = sorted(files_in_tree() - session.config.stash[_BEFORE])
    if written:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"tests wrote into the project's tree: {written[:20]}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
