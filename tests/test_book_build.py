"""A failing cell fails the book build: `make book` never publishes a traceback.

The book's own `_config.yml` (``nb_execution_raise_on_error``) is used on a one-page book with a
planted failing claim: the build must exit non-zero, name the notebook and show the failing cell,
and write no HTML. A cell tagged ``raises-exception`` (an expected-error demonstration) must not
fail it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
JB = Path(sys.executable).with_name("jupyter-book")

pytestmark = pytest.mark.skipif(not JB.exists(), reason="jupyter-book is not installed in this environment")


def _book(tmp_path: Path, cells: list) -> Path:
    (tmp_path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(nb, tmp_path / "notebooks" / "01_planted.ipynb")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: notebooks/01_planted\n")
    config = (ROOT / "_config.yml").read_text()
    assert "nb_execution_raise_on_error: true" in config
    config = config.replace("offline_assets: book/_ext/", f"offline_assets: {ROOT / 'book' / '_ext'}/")
    config = config.replace('html_extra_path: ["_vendor/html"]', "html_extra_path: []")
    (tmp_path / "_config.yml").write_text(config)
    return tmp_path


def _build(book: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(JB), "build", str(book)], capture_output=True, text=True, timeout=300)


def test_a_failing_cell_fails_the_build_and_names_it(tmp_path):
    book = _book(tmp_path, [
        nbformat.v4.new_markdown_cell("# Planted"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell('assert x == 2, "planted failing claim"'),
        nbformat.v4.new_code_cell('print("never reached")'),
    ])
    result = _build(book)
    log = result.stdout + result.stderr
    assert result.returncode != 0, "the build succeeded although a cell raised"
    assert "01_planted.ipynb" in log and "planted failing claim" in log
    assert not (book / "_build" / "html" / "notebooks" / "01_planted.html").exists()


def test_an_expected_error_cell_does_not_fail_the_build(tmp_path):
    book = _book(tmp_path, [
        nbformat.v4.new_markdown_cell("# Planted"),
        nbformat.v4.new_code_cell('raise ValueError("shown on purpose")',
                                  metadata={"tags": ["raises-exception"]}),
        nbformat.v4.new_code_cell('print("reached")'),
    ])
    result = _build(book)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (book / "_build" / "html" / "notebooks" / "01_planted.html").read_text()
    assert "shown on purpose" in html and "reached" in html


def _preexecute(book: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "preexecute.py"), "notebooks/01_planted.ipynb"],
                          cwd=book, capture_output=True, text=True, timeout=300)


def test_the_parallel_pre_execution_feeds_the_build_and_never_hides_a_failure(tmp_path):
    """`make book` runs tools/preexecute.py before the build: a notebook that succeeds there is
    read from the cache (its output appears), and one that fails is not cached, so the build
    runs it again and stops on the failing cell."""
    book = _book(tmp_path, [nbformat.v4.new_markdown_cell("# Planted"),
                            nbformat.v4.new_code_cell('print("from the cache")')])
    pre = _preexecute(book)
    assert pre.returncode == 0 and "ok     01_planted.ipynb" in pre.stdout, pre.stdout + pre.stderr
    assert (book / "_build" / ".jupyter_cache").is_dir()
    result = _build(book)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "01_planted.ipynb: Using cached notebook" in result.stdout + result.stderr
    assert "from the cache" in (book / "_build" / "html" / "notebooks" / "01_planted.html").read_text()

    failing = tmp_path / "failing"
    failing.mkdir()
    book = _book(failing, [nbformat.v4.new_code_cell('assert 1 == 2, "planted failing claim"')])
    pre = _preexecute(book)
    assert "FAILED 01_planted.ipynb" in pre.stdout, pre.stdout + pre.stderr
    result = _build(book)
    assert result.returncode != 0 and "planted failing claim" in result.stdout + result.stderr
