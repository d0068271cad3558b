"""The chapters' sources: each notebook is paired with its MyST Markdown twin, stored stripped,
and draws its randomness from ``companion.book_seed``.

``notebooks/NN_name.md`` (MyST, jupytext) is where a chapter is written; ``NN_name.ipynb`` is
the same chapter as a notebook, for nbval, the book build and readers. ``jupytext --sync`` keeps
them equal, and this test fails the moment they drift apart.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
SEEDLESS = re.compile(r"#.*no random.*book_seed|#.*book_seed.*no random", re.IGNORECASE)


def _cells(nb) -> list[tuple[str, str, dict]]:
    return [(c.cell_type, c.source.rstrip(), dict(c.metadata)) for c in nb.cells]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 12


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_equals_its_markdown_twin(path):
    twin = path.with_suffix(".md")
    assert twin.exists(), f"{path.name}: no MyST twin {twin.name} (jupytext --set-formats ipynb,md:myst)"
    nb, md = jupytext.read(path), jupytext.read(twin)
    assert nb.metadata.get("jupytext", {}).get("formats") == "ipynb,md:myst", f"{path.name}: not paired"
    a, b = _cells(nb), _cells(md)
    assert len(a) == len(b), f"{path.name}: {len(a)} cells, {twin.name}: {len(b)}; run jupytext --sync"
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, f"{path.name}: cell {i} differs from {twin.name}; run jupytext --sync {twin}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(raw["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name}: cell {i} has outputs (strip them)"
            assert cell.get("execution_count") is None, f"{path.name}: cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_derives_its_randomness_from_book_seed(path):
    code = "\n".join(c.source for c in jupytext.read(path).cells if c.cell_type == "code")
    if SEEDLESS.search(code):
        return
    assert "book_seed(" in code, f"{path.name}: calls no companion.book_seed (or say '# no randomness: book_seed unused')"
    # A generator seeded with a literal number is the same on every run of the book: not allowed.
    literal = re.findall(
        r"(?:default_rng|manual_seed|RandomState|np\.random\.seed)\(\s*\d+\s*\)|seed\s*=\s*\d+\b", code)
    assert not literal, f"{path.name}: literal seeds {literal[:5]}; derive them from book_seed()"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_name_per_chapter(path):
    """A chapter's topic names its notebook (``NN_<topic>``), its label (``chap-<topic>``) and,
    where it has them, its widget (``companion/widgets/<topic>.py``) and exercise bank
    (``companion/exercises/bank/<topic>.py``)."""
    topic = path.stem.split("_", 1)[1]
    text = path.with_suffix(".md").read_text()
    assert f"(chap-{topic})=" in text, f"{path.name}: expected the label chap-{topic}"
    root = path.parents[1] / "companion"
    imports = set(re.findall(r"companion\.(widgets|exercises\.bank)\.(\w+)", text))
    for package, module in imports:
        assert module == topic or package == "exercises.bank", \
            f"{path.name} uses companion.{package}.{module}: widgets are named after their chapter"
    assert (root / "exercises" / "bank" / f"{topic}.py").exists() or topic == "capstone", \
        f"{path.name}: expected its exercise bank companion/exercises/bank/{topic}.py"


FIGURE = re.compile(r"figsize=\(([0-9.]+),\s*[0-9.]+\)(?P<rest>[^\n]*(?:\n[^\n]*dpi=[0-9]+)?)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_figures_fit_the_page_column(path):
    """A chapter figure is at most 672 CSS px wide (the book's column), so the browser never
    shrinks it (panel titles would become unreadable): width in inches x dpi (100 unless given)."""
    for match in FIGURE.finditer(path.with_suffix(".md").read_text()):
        dpi = re.search(r"dpi=([0-9]+)", match.group("rest"))
        width = float(match.group(1)) * (int(dpi.group(1)) if dpi else 100)
        assert width <= 680, f"{path.name}: a figure {width:.0f} px wide ({match.group(0).splitlines()[0]})"
