"""nbval over notebooks, retrying once a notebook whose *kernel* failed to start.

Two pytest-xdist workers start Jupyter kernels at the same moment; now and then a kernel dies
before it answers (``Kernel died before replying to kernel_info``: a start-up race over its ports,
unrelated to the notebook). Such notebooks are run once more, alone, and the script says so. A
notebook whose cells fail is never re-run: a claim that fails, fails.

    python tools/nbval.py [pytest options] notebooks/*.ipynb
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

KERNEL_DIED = "Kernel died before replying to kernel_info"


def run(args: list[str], report: Path) -> int:
    return subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
                           "-p", "no:cacheprovider", f"--junitxml={report}", *args]).returncode


def classify(report: Path, notebooks: list[str]) -> tuple[set, set]:
    """Notebooks whose kernel died while starting, and notebooks with any other failure."""
    died, failed = set(), set()
    for case in ET.parse(report).getroot().iter("testcase"):
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if problem is None:
            continue
        text = (problem.get("message") or "") + (problem.text or "")
        where = (case.get("classname") or "") + " " + (case.get("file") or "")
        name = next((nb for nb in notebooks if Path(nb).stem in where), None)
        (died if KERNEL_DIED in text else failed).add(name)
    return died, failed


def main(argv: list[str]) -> int:
    notebooks = [a for a in argv if a.endswith(".ipynb")]
    options = [a for a in argv if not a.endswith(".ipynb")]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "first.xml"
        code = run(options + notebooks, report)
        if code == 0 or not report.exists():
            return code
        died, failed = classify(report, notebooks)
        if not died or None in died or failed:
            return code
        print(f"\nnbval: the kernel of {', '.join(sorted(died))} died while starting (not a failing cell); "
              "running it once more, alone", flush=True)
        options = [o for o in options if not o.startswith(("-n", "--dist"))]
        return run(options + sorted(died), Path(tmp) / "second.xml")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
