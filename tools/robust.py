"""Run every chapter under several (CPU kernel set, BOOK_SEED, threads) settings: `make robust`.

A claim the book asserts must be a claim about the mechanism, not about one seed or one CPU's
float rounding. torch picks its CPU kernels (default, AVX2, AVX-512) per process from
``ATEN_CPU_CAPABILITY``; ``BOOK_SEED`` moves every random generator of every chapter
(``companion.book_seed``); ``BOOK_THREADS`` sets torch's thread count (``companion.book_threads``).
Each setting runs nbval over all notebooks; the table says which chapter failed where.

    python tools/robust.py                      # the default matrix below
    python tools/robust.py avx2:1:1 default:5:2 # capability:seed:threads, as many as you like
    python tools/robust.py avx2:4 notebooks/06_pooling.ipynb   # some chapters only
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATRIX = [("avx2", 1, 1), ("avx512", 2, 2), ("default", 3, 1)]


def parse(spec: str) -> tuple[str, int, int]:
    cap, seed, threads = (spec.split(":") + ["1"])[:3]
    if cap not in {"default", "avx2", "avx512"}:
        raise SystemExit(f"capability: expected default, avx2 or avx512, got {cap!r}")
    return cap, int(seed), int(threads)


def run(cap: str, seed: int, threads: int, notebooks: list[Path]) -> tuple[dict[str, str], float]:
    """nbval over `notebooks` in one setting -> ({notebook: 'ok' | 'FAIL (cell ...)'}, seconds)."""
    # OMP_WAIT_POLICY=PASSIVE: with two torch threads in each of two nbval workers on two cores,
    # spinning threads would wait for each other for minutes; it changes no result, only scheduling.
    env = dict(os.environ, ATEN_CPU_CAPABILITY=cap, BOOK_SEED=str(seed), BOOK_THREADS=str(threads),
               OMP_WAIT_POLICY="PASSIVE")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-n", "2",
             "--dist", "loadfile", "-p", "no:cacheprovider", "-q", f"--junitxml={report}",
             *map(str, notebooks)],
            cwd=ROOT, env=env, check=False)
        seconds = time.perf_counter() - start
        result = {nb.stem: "not run" for nb in notebooks}
        if report.exists():
            for case in ET.parse(report).getroot().iter("testcase"):
                stem = Path(case.get("file") or case.get("classname", "").replace(".", "/")).stem
                stem = next((nb.stem for nb in notebooks if nb.stem in (case.get("classname") or "")), stem)
                failed = case.find("failure") is not None or case.find("error") is not None
                if stem in result:
                    if result[stem] == "not run":
                        result[stem] = "ok"
                    if failed and result[stem] == "ok":
                        result[stem] = f"FAIL ({case.get('name')})"
    return result, seconds


def main(argv: list[str]) -> int:
    chosen = [ROOT / a for a in argv if a.endswith(".ipynb")]
    matrix = [parse(a) for a in argv if not a.endswith(".ipynb")] or MATRIX
    notebooks = chosen or sorted((ROOT / "notebooks").glob("*.ipynb"))
    columns, results = [], []
    for cap, seed, threads in matrix:
        label = f"{cap} seed {seed} thr {threads}"
        print(f"\n=== nbval with ATEN_CPU_CAPABILITY={cap} BOOK_SEED={seed} BOOK_THREADS={threads}", flush=True)
        res, seconds = run(cap, seed, threads, notebooks)
        columns.append(f"{label} ({seconds:.0f} s)")
        results.append(res)
    width = max(len(nb.stem) for nb in notebooks)
    print("\n" + "chapter".ljust(width) + " | " + " | ".join(columns))
    print("-" * width + "-|-" + "-|-".join("-" * len(c) for c in columns))
    bad = 0
    for nb in notebooks:
        cells = [r[nb.stem].ljust(len(c)) for r, c in zip(results, columns)]
        bad += sum(not r[nb.stem] == "ok" for r in results)
        print(nb.stem.ljust(width) + " | " + " | ".join(cells))
    print(f"\nmake robust: {'OK' if not bad else f'{bad} chapter run(s) failed'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
