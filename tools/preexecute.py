"""Execute the book's notebooks in parallel into the build's execution cache, before the build.

``jupyter-book build`` executes the notebooks one after another. With ``execute_notebooks:
cache`` it first looks each notebook up in the jupyter-cache at ``_build/.jupyter_cache`` and only
executes what it does not find there. This script empties that cache (so nothing stale is ever
reused: every build runs every chapter against the code as it is now), then executes all notebooks
over a pool of worker processes (one per CPU core; each chapter's torch uses ``BOOK_THREADS``
threads, 1 by default) and caches the successful ones. The build then reads them from the cache. A
notebook that fails here is not cached, so the build executes it again and stops on the failing
cell with its traceback (``nb_execution_raise_on_error``): nothing with a traceback is published.

Usage: ``python tools/preexecute.py [-n WORKERS] NOTEBOOK...`` (the Makefile's ``book`` and
``build-strict`` targets call it). Exit status 0 even when a notebook fails: the build reports it.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import shutil
import sys
import time
from pathlib import Path

from jupyter_cache import get_cache
from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

CACHE = Path("_build/.jupyter_cache")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("-n", "--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell, as _config.yml")
    args = parser.parse_args(argv)

    shutil.rmtree(CACHE, ignore_errors=True)
    cache = get_cache(str(CACHE))
    records = [cache.add_nb_to_project(str(nb.resolve())) for nb in args.notebooks]
    jobs = [ProcessData(r.pk, r.uri, cache, args.timeout, False) for r in records]
    logging.basicConfig(level=logging.WARNING, format="preexecute: %(message)s")

    start = time.perf_counter()
    failed = []
    # chunksize 1: a worker takes the next notebook when it is free (the chapters differ 10x in cost)
    with mp.get_context("fork").Pool(max(1, args.workers)) as pool:
        for status, uri in pool.imap_unordered(ExecutionWorkerLocalMProc(), jobs, chunksize=1):
            name = Path(uri).name
            print(f"preexecute: {'ok    ' if status == 0 else 'FAILED'} {name}", flush=True)
            if status != 0:
                failed.append(name)
    print(f"preexecute: {len(jobs)} notebooks on {args.workers} workers in "
          f"{time.perf_counter() - start:.0f} s; {len(failed)} failed"
          + (f" ({', '.join(failed)}: the build re-runs them and reports the failing cell)" if failed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
