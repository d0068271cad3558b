"""Benchmark: companion.convolution.correlate against torch.nn.functional.conv{1,2,3}d on the CPU.

Four representative cases (float32, stride 1, "same" padding):

* ``ct-2d``     a CT slice, 1x1x256x256, 8 filters of 3x3;
* ``batch-2d``  a batch with channels, 8x16x64x64 -> 32 channels, 3x3;
* ``volume-3d`` a small volume, 1x4x32x64x64 -> 8 channels, 3x3x3;
* ``signal-1d`` a batch of 1-D signals, 16x8x4096 -> 16 channels, kernel 9.

For each case it prints the CPU time per call (``time.process_time``, which counts every thread
of the process, the best of several repeats of a loop of calls) of ours and of torch, the ratio
ours/torch, and the geometric mean of the ratios. ``--variants`` also times two other ways to
vectorise (the im2col product through ``numpy.tensordot``, and a loop over kernel offsets).

By default both libraries run on ONE thread (OpenBLAS and torch's intra-op pool): that compares
the algorithms, and it is the fair setting on a machine whose cores are shared. ``--threads N``
gives both N threads.

A note on memory: each call allocates the column matrix (``prod(K)`` times the input) and frees
it. Depending on the heap's layout, glibc's malloc may hand that memory back to the kernel after
every call, and the next call then pays page faults (system time): in a fresh Python process
that has not loaded torch, ``ct-2d`` measured about 4.5 ms per call instead of 0.7 ms. Setting
``MALLOC_TRIM_THRESHOLD_=100000000`` in the environment removes the effect; so, here, does
importing torch first, which this script does (torch is the reference anyway).

Run with::

    .venv/bin/python benchmarks/bench_convolution.py [--threads 1] [--dtype float32] [--variants]
"""

from __future__ import annotations

import argparse
import os
import sys

if __name__ == "__main__":  # thread counts must be set before NumPy loads OpenBLAS
    _parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    _parser.add_argument("--threads", type=int, default=1)
    _parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    _parser.add_argument("--variants", action="store_true", help="also time other vectorisations")
    _parser.add_argument("--budget", type=float, default=0.1, help="seconds per timing loop")
    ARGS = _parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import time  # noqa: E402

import torch  # noqa: E402  (loaded before NumPy allocates: see the note on malloc above)
import torch.nn.functional as F  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from companion.convolution import correlate, output_size, window_view  # noqa: E402

CASES = [  # name, x shape, w shape, padding
    ("ct-2d", (1, 1, 256, 256), (8, 1, 3, 3), 1),
    ("batch-2d", (8, 16, 64, 64), (32, 16, 3, 3), 1),
    ("volume-3d", (1, 4, 32, 64, 64), (8, 4, 3, 3, 3), 1),
    ("signal-1d", (16, 8, 4096), (16, 8, 9), 4),
]


def cpu_time(f, budget: float = 0.1, repeats: int = 5) -> float:
    """Best-of-`repeats` CPU seconds per call, each repeat a loop of about `budget` seconds."""
    f()
    start = time.perf_counter()
    f()
    loops = max(1, int(budget / max(time.perf_counter() - start, 1e-6)))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(loops):
            f()
        best = min(best, (time.process_time() - t0) / loops)
    return best


def _pad(x, padding):
    return np.pad(x, [(0, 0), (0, 0)] + [(padding, padding)] * (x.ndim - 2))


def correlate_tensordot(x, w, padding):
    """Variant: the same window view, contracted with numpy.tensordot (then a transpose)."""
    nd = x.ndim - 2
    win = window_view(_pad(x, padding), w.shape[2:])
    out = np.tensordot(w, win, axes=([1] + list(range(2, 2 + nd)), [1] + list(range(2 + nd, 2 + 2 * nd))))
    return np.ascontiguousarray(np.moveaxis(out, 0, 1))


def correlate_offsets(x, w, padding):
    """Variant: a Python loop over the prod(K) kernel offsets, one (C_out, C_in) product each."""
    out_shape = output_size(x.shape[2:], w.shape[2:], padding=padding)
    xt = np.ascontiguousarray(_pad(x, padding).swapaxes(0, 1))  # (C_in, N, *S_pad)
    n, p = x.shape[0], int(np.prod(out_shape))
    out = np.zeros((w.shape[0], n * p), dtype=x.dtype)
    for k in np.ndindex(*w.shape[2:]):
        window = tuple(slice(kk, kk + o) for kk, o in zip(k, out_shape))
        out += w[(slice(None), slice(None)) + k] @ xt[(slice(None), slice(None)) + window].reshape(x.shape[1], -1)
    return np.ascontiguousarray(out.reshape((w.shape[0], n) + out_shape).swapaxes(0, 1))


def main(args) -> float:
    torch.set_num_threads(args.threads)
    conv = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(0)
    print(f"threads={args.threads} dtype={dtype.name} numpy {np.__version__} torch {torch.__version__}")
    header = f"{'case':<10} {'x':>20} {'w':>16} {'ours ms':>9} {'torch ms':>9} {'ratio':>6}"
    if args.variants:
        header += f" {'tensordot':>10} {'offsets':>8}"
    print(header)
    ratios = []
    for name, xs, ws, pad in CASES:
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal(ws).astype(dtype)
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        expected = conv[x.ndim](xt, wt, padding=pad).numpy()
        np.testing.assert_allclose(correlate(x, w, padding=pad), expected, rtol=1e-4, atol=1e-4)
        ours = cpu_time(lambda: correlate(x, w, padding=pad), args.budget)
        theirs = cpu_time(lambda: conv[x.ndim](xt, wt, padding=pad), args.budget)
        ratios.append(ours / theirs)
        line = (f"{name:<10} {str(xs):>20} {str(ws):>16} {1e3 * ours:9.3f} {1e3 * theirs:9.3f} "
                f"{ours / theirs:6.2f}")
        if args.variants:
            td = cpu_time(lambda: correlate_tensordot(x, w, pad), args.budget)
            off = cpu_time(lambda: correlate_offsets(x, w, pad), args.budget)
            line += f" {td / theirs:10.2f} {off / theirs:8.2f}"
        print(line)
    geo = float(np.exp(np.mean(np.log(ratios))))
    print(f"geometric mean of ours/torch: {geo:.2f}")
    return geo


if __name__ == "__main__":
    main(ARGS)
