"""nbval over notebooks, retrying once a notebook whose *kernel* failed to start.

Two pytest-xdist workers start Jupyter kernels at the same moment; now and then a kernel dies
before it answers (``Kernel died before replying to kernel_info``: a start-up race over its ports,
unrelated to the notebook). Such notebooks are run once more, alone, and the script says so. A
notebook whose cells fail is never re-run: a claim that fails, fails.

    python tools/nbval.py [pytest options] notebooks/*.ipynb

``tools/robust.py`` runs its settings through :func:`run_notebooks` too, so both read the JUnit
report and retry the same way.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

KERNEL_DIED = "Kernel died before replying to kernel_info"
DIED = "kernel died while starting"


def run(args: list[str], report: Path, *, env: dict | None = None, cwd: Path | None = None) -> int:
    return subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
                           "-p", "no:cacheprovider", f"--junitxml={report}", *args],
                          env=env, cwd=cwd).returncode


def outcomes(report: Path, notebooks: list[str]) -> dict[str | None, str]:
    """Each notebook's outcome in a JUnit report: 'ok', 'not run', DIED or 'FAIL (<first failing case>)'.

    A failing case that belongs to none of `notebooks` is kept under the key None.
    """
    result: dict[str | None, str] = {nb: "not run" for nb in notebooks}
    for case in ET.parse(report).getroot().iter("testcase"):
        where = (case.get("classname") or "") + " " + (case.get("file") or "")
        name = next((nb for nb in notebooks if Path(nb).stem in where), None)
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if result.get(name, "not run") == "not run":
            result[name] = "ok"
        if problem is not None and result[name] == "ok":
            text = (problem.get("message") or "") + (problem.text or "")
            result[name] = DIED if KERNEL_DIED in text else f"FAIL ({case.get('name')})"
    if result.get(None) == "ok":
        del result[None]
    return result


def _without_xdist(options: list[str]) -> list[str]:
    """`options` less pytest-xdist's ``-n N`` and ``--dist MODE`` (in any of their spellings)."""
    out, skip = [], False
    for o in options:
        if skip:
            skip = False
        elif o in ("-n", "--numprocesses", "--dist"):
            skip = True
        elif not o.startswith(("-n", "--numprocesses=", "--dist=")):
            out.append(o)
    return out


def run_notebooks(options: list[str], notebooks: list[str], *, env: dict | None = None,
                  cwd: Path | None = None) -> tuple[int, dict[str | None, str]]:
    """nbval over `notebooks` -> (exit code, outcome per notebook), with the one retry.

    Only when every problem is a kernel that died while starting are those notebooks run once
    more, alone (without xdist); their outcomes and the exit code then come from that run.
    """
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "first.xml"
        code = run(options + notebooks, report, env=env, cwd=cwd)
        if not report.exists():
            return code, {nb: "not run" for nb in notebooks}
        result = outcomes(report, notebooks)
        died = sorted(nb for nb, r in result.items() if r == DIED)
        if code == 0 or not died or any(r.startswith("FAIL") for r in result.values()) or None in result:
            return code, result
        print(f"\nnbval: the kernel of {', '.join(died)} died while starting (not a failing cell); "
              "running it once more, alone", flush=True)
        second = Path(tmp) / "second.xml"
        code = run(_without_xdist(options) + died, second, env=env, cwd=cwd)
        result.update(outcomes(second, died) if second.exists() else {nb: "not run" for nb in died})
        return code, result


def main(argv: list[str]) -> int:
    notebooks = [a for a in argv if a.endswith(".ipynb")]
    options = [a for a in argv if not a.endswith(".ipynb")]
    return run_notebooks(options, notebooks)[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
