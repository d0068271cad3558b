"""The package's layering: the NumPy cores import no torch, matplotlib or ipywidgets.

Each core module is imported in a fresh interpreter in which importing torch, matplotlib or
ipywidgets raises; the test fails on any such import, direct or indirect. The torch modules
(``companion.models``, and the aliases ``companion.train`` and ``companion.explain`` of two of its
modules) and the widgets are the only places those libraries may be imported at module level. ``import companion`` stays cheap.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TORCH_MODULES = {"train", "explain"}  # aliases of companion.models.train / .explain (public names)
CORES = sorted(p.stem for p in (ROOT / "companion").glob("*.py")
               if not p.stem.startswith("_") and p.stem not in TORCH_MODULES)
BLOCKER = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = ("torch", "matplotlib", "ipywidgets")
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"layering: {{name}} imported while importing {module}")
            return None
    sys.meta_path.insert(0, Block())
    import {module}
""")


def _import_blocked(module: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER.format(module=module)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_there_are_cores():
    assert {"convolution", "geometry", "losses", "normalization", "pooling", "unet"} <= set(CORES)


@pytest.mark.parametrize("name", CORES + ["companion", "exercises"])
def test_core_module_imports_without_torch_matplotlib_ipywidgets(name):
    module = "companion" if name == "companion" else f"companion.{name}"
    done = _import_blocked(module)
    assert done.returncode == 0, done.stderr[-1500:]


def test_the_blocker_catches_a_core_that_imports_torch(tmp_path):
    """The test can fail: a module that imports torch is caught."""
    bad = tmp_path / "badcore.py"
    bad.write_text("import numpy\nimport torch\n")
    done = subprocess.run([sys.executable, "-c", BLOCKER.format(module="badcore")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "layering: torch imported" in done.stderr


@pytest.mark.parametrize("name", sorted(TORCH_MODULES))
def test_torch_aliases_are_the_models_modules(name):
    """``companion.train``/``companion.explain`` are the modules under ``companion/models/``,
    not copies: a file at the top level holds no torch code of its own."""
    import importlib

    alias = importlib.import_module(f"companion.{name}")
    assert alias is importlib.import_module(f"companion.models.{name}")
    source = (ROOT / "companion" / f"{name}.py").read_text()
    assert "import torch" not in source and len(source.splitlines()) < 15


def test_every_module_is_listed_in_the_package_table():
    """``companion/__init__`` lists every public module (lazy attribute and the table in its
    docstring), so ``companion.<module>`` works and a reader finds each mechanism there."""
    import companion

    modules = sorted(p.stem for p in (ROOT / "companion").glob("*.py") if not p.stem.startswith("_"))
    packages = sorted(p.parent.name for p in (ROOT / "companion").glob("*/__init__.py"))
    for name in modules + packages:
        assert name in companion._SUBMODULES, f"{name} missing from companion._SUBMODULES"
        assert f"``{name}``" in companion.__doc__, f"{name} missing from the module table"
