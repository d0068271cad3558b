"""tools/nbval.py: the one JUnit reading and kernel-start retry that `make test` and `make robust` share."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"tools_{name}", ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nbval = _load("nbval")
NBS = ["notebooks/01_a.ipynb", "notebooks/02_b.ipynb", "notebooks/03_c.ipynb"]
DIED = '<error message="RuntimeError: Kernel died before replying to kernel_info"/>'


def _report(path: Path, cases: list[tuple[str, str, str]]) -> None:
    """cases: (notebook stem, cell name, problem xml or '')."""
    body = "".join(f'<testcase classname="notebooks.{stem}" file="notebooks/{stem}.ipynb" name="{cell}">{problem}'
                   "</testcase>" for stem, cell, problem in cases)
    path.write_text(f'<?xml version="1.0"?><testsuites><testsuite>{body}</testsuite></testsuites>')


def test_outcomes_per_notebook(tmp_path):
    report = tmp_path / "r.xml"
    _report(report, [("01_a", "Cell 0", ""), ("01_a", "Cell 1", '<failure message="AssertionError"/>'),
                     ("01_a", "Cell 2", '<failure message="later"/>'), ("02_b", "Cell 0", DIED)])
    assert nbval.outcomes(report, NBS) == {NBS[0]: "FAIL (Cell 1)", NBS[1]: nbval.DIED, NBS[2]: "not run"}
    _report(report, [("99_other", "Cell 0", '<failure message="x"/>')])
    assert nbval.outcomes(report, NBS)[None].startswith("FAIL")


@pytest.mark.parametrize("options, kept", [
    (["-n", "2", "--dist", "loadfile", "-q"], ["-q"]),
    (["-n2", "--dist=loadfile", "-x"], ["-x"]),
    (["--numprocesses", "2", "-q"], ["-q"]),
])
def test_without_xdist_drops_options_and_their_values(options, kept):
    assert nbval._without_xdist(options) == kept


def _fake_runs(monkeypatch, reports):
    """run() writes the next planned report and returns its exit code; the calls are recorded."""
    calls = []

    def fake(args, report, *, env=None, cwd=None):
        cases, code = reports[len(calls)]
        calls.append(args)
        _report(report, cases)
        return code
    monkeypatch.setattr(nbval, "run", fake)
    return calls


def test_a_kernel_that_died_is_run_once_more_alone(monkeypatch):
    calls = _fake_runs(monkeypatch, [
        ([("01_a", "Cell 0", ""), ("02_b", "Cell 0", DIED), ("03_c", "Cell 0", "")], 1),
        ([("02_b", "Cell 0", ""), ("02_b", "Cell 1", "")], 0)])
    code, result = nbval.run_notebooks(["-n", "2", "--dist", "loadfile"], NBS)
    assert code == 0 and set(result.values()) == {"ok"}
    assert calls[1] == [NBS[1]]   # alone, without xdist


def test_a_failing_cell_is_never_rerun(monkeypatch):
    calls = _fake_runs(monkeypatch, [
        ([("01_a", "Cell 3", '<failure message="AssertionError"/>'), ("02_b", "Cell 0", DIED)], 1)])
    code, result = nbval.run_notebooks(["-n", "2"], NBS)
    assert code == 1 and len(calls) == 1 and result[NBS[0]] == "FAIL (Cell 3)"


def test_robust_reads_its_runs_through_nbval(monkeypatch):
    robust = _load("robust")
    _fake_runs_robust = []

    def fake(options, notebooks, *, env=None, cwd=None):
        _fake_runs_robust.append((options, env["BOOK_SEED"], env["ATEN_CPU_CAPABILITY"]))
        return 1, {notebooks[0]: "ok", notebooks[1]: "FAIL (Cell 2)"}
    monkeypatch.setattr(robust._nbval, "run_notebooks", fake)
    result, _ = robust.run("avx2", 4, 1, [Path(NBS[0]), Path(NBS[1])])
    assert result == {"01_a": "ok", "02_b": "FAIL (Cell 2)"}
    assert _fake_runs_robust[0][1:] == ("4", "avx2")
