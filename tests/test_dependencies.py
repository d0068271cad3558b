"""requirements.txt (the lock) satisfies the direct dependencies that pyproject.toml lists once,
and both state the same Python version as the README and the Makefile."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _lock() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"requirements.txt: {line!r} is not pinned with =="
        pins[canonicalize_name(name)] = Version(version)
    return pins


DIRECT = [Requirement(r) for r in PYPROJECT["dependencies"]] + [
    Requirement(r) for extra in PYPROJECT["optional-dependencies"].values() for r in extra]


@pytest.mark.parametrize("req", DIRECT, ids=str)
def test_lock_satisfies_each_direct_dependency(req):
    lock = _lock()
    name = canonicalize_name(req.name)
    assert name in lock, f"{req.name} is a dependency in pyproject.toml but not pinned in requirements.txt"
    assert req.specifier.contains(lock[name], prereleases=True), f"requirements.txt pins {name}=={lock[name]}, pyproject wants {req}"


def test_lock_has_no_duplicates():
    names = [canonicalize_name(l.split("==")[0]) for l in (ROOT / "requirements.txt").read_text().split()]
    assert len(names) == len(set(names))


def test_one_python_version_everywhere():
    assert PYPROJECT["requires-python"] == ">=3.11"
    assert "Python 3.11" in (ROOT / "README.md").read_text()
    assert "(3, 11)" in (ROOT / "Makefile").read_text()
    assert re.search(r"Python 3\.11", (ROOT / "book" / "setup.md").read_text())
