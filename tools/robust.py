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

import importlib.util
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# tools/nbval.py, loaded by path: the name nbval is also the pytest plugin's
_spec = importlib.util.spec_from_file_location("tools_nbval", Path(__file__).with_name("nbval.py"))
_nbval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_nbval)
MATRIX = [("avx2", 1, 1), ("avx512", 2, 2), ("default", 3, 1)]


def parse(spec: str) -> tuple[str, int, int]:
    cap, seed, threads = (spec.split(":") + ["1"])[:3]
    if cap not in {"default", "avx2", "avx512"}:
        raise SystemExit(f"capability: expected default, avx2 or avx512, got {cap!r}")
    return cap, int(seed), int(threads)


def run(cap: str, seed: int, threads: int, notebooks: list[Path]) -> tuple[dict[str, str], float]:
    """nbval over `notebooks` in one setting -> ({notebook: 'ok' | 'FAIL (cell ...)'}, seconds).

    Through ``tools/nbval.py``: the same JUnit reading, and a notebook whose kernel died while
    starting is run once more, alone.
    """
    # OMP_WAIT_POLICY=PASSIVE: with two torch threads in each of two nbval workers on two cores,
    # spinning threads would wait for each other for minutes; it changes no result, only scheduling.
    env = dict(os.environ, ATEN_CPU_CAPABILITY=cap, BOOK_SEED=str(seed), BOOK_THREADS=str(threads),
               OMP_WAIT_POLICY="PASSIVE")
    start = time.perf_counter()
    _, result = _nbval.run_notebooks(["-n", "2", "--dist", "loadfile", "-q"], [str(nb) for nb in notebooks],
                                     env=env, cwd=ROOT)
    seconds = time.perf_counter() - start
    return {Path(nb).stem: r for nb, r in result.items() if nb is not None}, seconds


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
