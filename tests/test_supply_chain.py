"""The supply chain: every package pinned with hashes in lock files that `make` and the Dockerfile
install from; the production image's set holds no embedded PostgreSQL and no test tool; the base
image is pinned by digest."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
LINUX_311 = {"sys_platform": "linux", "python_version": "3.11", "implementation_name": "cpython"}
NEVER_IN_PRODUCTION = {"pgserver", "pytest", "pytest-asyncio", "hypothesis", "ruff", "playwright"}


def read_lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name → (pinned version, hashes), for the packages installed on Linux with Python 3.11."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = re.sub(r"\\\n\s*", " ", path.read_text())  # join continuation lines
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        spec, *options = line.split(" --hash=")
        requirement = Requirement(spec.strip())
        if requirement.marker is not None and not requirement.marker.evaluate(LINUX_311):
            continue
        pins = [s for s in requirement.specifier if s.operator == "=="]
        assert len(pins) == 1, f"{path.name}: {requirement.name} is not pinned exactly"
        entries[canonicalize_name(requirement.name)] = (pins[0].version, options)
    return entries


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_every_package_is_pinned_with_hashes(lock):
    entries = read_lock(lock)
    assert entries
    for name, (_, hashes) in entries.items():
        assert hashes, f"{lock.name}: {name} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h.strip()) for h in hashes), name


def test_the_production_set_has_no_embedded_postgres_nor_test_tools():
    runtime = read_lock(RUNTIME_LOCK)
    assert not NEVER_IN_PRODUCTION & set(runtime), NEVER_IN_PRODUCTION & set(runtime)
    assert "pgserver" not in names(project()["dependencies"])
    extras = project()["optional-dependencies"]
    assert "pgserver" in names(extras["embedded"])
    assert {"fastapi", "uvicorn", "sqlalchemy", "asyncpg"} <= set(runtime)


def test_the_locks_satisfy_pyproject_and_agree_with_each_other():
    runtime, dev = read_lock(RUNTIME_LOCK), read_lock(DEV_LOCK)
    extras = project()["optional-dependencies"]
    for lock, requirements in (
        (runtime, project()["dependencies"]),
        (dev, project()["dependencies"] + extras["dev"] + extras["embedded"]),
    ):
        for text in requirements:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            assert name in lock, f"{name} is missing from a lock: run `make lock`"
            assert requirement.specifier.contains(lock[name][0], prereleases=True), (
                f"{name} {lock[name][0]} is outside {requirement.specifier}: run `make lock`"
            )
    for name, (version, _) in runtime.items():
        assert dev.get(name, (version,))[0] == version, f"the locks disagree on {name}"
    assert set(runtime) <= set(dev)


def test_minimum_versions_are_stated_for_every_dependency():
    extras = project()["optional-dependencies"]
    for text in project()["dependencies"] + extras["dev"] + extras["embedded"]:
        specifier = Requirement(text).specifier
        assert any(s.operator in (">=", "==", "~=") for s in specifier), text


def test_make_and_the_dockerfile_install_from_the_locks_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"--require-hashes", makefile)
    assert re.search(r"\$\(PIP_INSTALL\) -r requirements-dev\.lock", makefile)
    assert "pip install --quiet -e" not in makefile, "an install that bypasses the lock"
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"^RUN pip install .*$", dockerfile, flags=re.MULTILINE)
    assert installs == [
        "RUN pip install --require-hashes --only-binary=:all: -r requirements.lock"
    ], installs
    assert "requirements-dev.lock" not in dockerfile


def test_the_base_image_is_pinned_by_digest():
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG BASE=(\S+)$", dockerfile, flags=re.MULTILINE)
    assert base and re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", base.group(1))
    froms = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert froms and all(f == "${BASE}" for f in froms), froms


def test_markers_in_the_locks_are_ones_pip_understands():
    for lock in (RUNTIME_LOCK, DEV_LOCK):
        for marker in re.findall(r" ; (.+?) \\", lock.read_text()):
            Marker(marker)
