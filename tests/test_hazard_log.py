"""The hazard log names, for each mitigation, the tests that fail without it: every node id it
names must exist, so the log cannot drift from the code."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "docs" / "safety" / "hazard-log.md"
NODE_ID = re.compile(r"tests/[\w/]+\.py::\w+")
HAZARD = re.compile(r"^### (H\d{2})\b", re.MULTILINE)


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_test_the_hazard_log_names_exists():
    text = LOG.read_text(encoding="utf-8")
    named = sorted(set(NODE_ID.findall(text)))
    assert named, "the hazard log names no tests"
    missing = []
    for node_id in named:
        file, name = node_id.split("::")
        path = ROOT / file
        if not path.exists() or name not in _tests_in(path):
            missing.append(node_id)
    assert missing == []


def test_every_hazard_has_an_id_and_names_tests():
    text = LOG.read_text(encoding="utf-8")
    ids = HAZARD.findall(text)
    assert len(ids) == len(set(ids)), "hazard ids repeat"
    sections = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    for section in sections:
        assert NODE_ID.search(section), f"hazard {section.split()[0]} names no test"
