"""Exercises of the pooling chapter (ids ``pool.*``).

Every numeric exercise draws its parameters through :func:`_distinct`: a draw is kept only if no
misconception gives (within the exercise's tolerance) the correct answer for it, so that a
learner who makes the mistake is never told "correct" and every misconception can be diagnosed.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from companion.data import load_ct_slice
from companion.exercises._engine import Exercise, Misconception, register
from companion.pooling import avg_pool, box_filter_response, max_pool, pool_output_size


def _distinct(draw: Callable[[np.random.Generator], dict], solve: Callable[[dict], float],
              misconceptions: tuple[Misconception, ...], *, rtol: float,
              atol: float = 1e-8) -> Callable[[np.random.Generator], dict]:
    """Wrap `draw` so that it redraws until every misconception's value differs from the answer.

    The tolerance is twice the exercise's own (a wrong answer must not pass ``check``); after 200
    draws it raises ``RuntimeError`` (a bank error: the parameter ranges leave no room).
    """
    def make_params(rng: np.random.Generator) -> dict:
        for _ in range(200):
            p = draw(rng)
            ref = float(solve(dict(p)))
            if all(abs(float(m.value(dict(p))) - ref) > 2 * (atol + rtol * abs(ref)) for m in misconceptions):
                return p
        raise RuntimeError("make_params: no draw keeps the misconceptions distinct from the answer")
    return make_params


def _size_params(rng):
    k = int(rng.integers(2, 5))
    return {"n": int(rng.integers(20, 130)), "k": k, "s": int(rng.integers(2, k + 1)),
            "p": int(rng.integers(1, k // 2 + 1))}      # p >= 1: with p = 0 "no padding" would be right


def _response_params(rng):
    k = int(rng.integers(2, 6))
    f = round(float(rng.uniform(0.05, 0.45)), 3)
    if abs(f * k - round(f * k)) < 0.05:  # keep away from the zeros of the response
        f = round(f + 0.03, 3)
    return {"k": k, "f": f}


def _noise_params(rng):
    return {"var": round(float(rng.uniform(4.0, 400.0)), 1), "k": int(rng.integers(2, 5)),
            "d": 3}                                      # in 2-D the "2-D always" mistake is right


def _noise_solve(p):
    # the variance of a mean of k^d independent samples: pool a unit impulse to get the box
    # weights w = 1/k^d of one output, then Var = var * sum(w^2)
    shape = (1, 1) + (p["k"],) * p["d"]
    weights = []
    for i in np.ndindex(shape[2:]):
        delta = np.zeros(shape)
        delta[(0, 0) + i] = 1.0
        weights.append(float(avg_pool(delta, p["k"]).ravel()[0]))
    return p["var"] * float(np.sum(np.square(weights)))


_SIZE_MISCONCEPTIONS = (
    Misconception("no-padding", lambda p: pool_output_size(p["n"], p["k"], p["s"], 0),
                  "You left out the padding: it is added on both sides (2p)."),
    Misconception("ceil", lambda p: -(-(p["n"] + 2 * p["p"] - p["k"]) // p["s"]) + 1,
                  "You rounded up: without ceil mode the last partial window is dropped (floor)."),
)


def _size_solve(p):
    return pool_output_size(p["n"], p["k"], p["s"], p["p"])


def _sinc_response(p):
    # the continuous-time box's sinc, |sin(pi f k) / (pi f k)|, instead of the discrete Dirichlet kernel
    return abs(np.sin(np.pi * p["f"] * p["k"]) / (np.pi * p["f"] * p["k"]))


_RESPONSE_MISCONCEPTIONS = (
    Misconception("no-1/k", lambda p: p["k"] * float(box_filter_response(p["k"], p["f"])),
                  "You forgot the 1/k of the mean: the response at f = 0 must be 1."),
    Misconception("sinc", _sinc_response,
                  "That is the sinc of a continuous box, sin(pi f k) / (pi f k). The sampled box sums k "
                  "complex exponentials (a geometric series): its denominator is k sin(pi f), which differs "
                  "from k pi f once f is not small."),
)


def _response_solve(p):
    return float(box_filter_response(p["k"], p["f"]))


_NOISE_MISCONCEPTIONS = (
    Misconception("k-not-k^d", lambda p: p["var"] / p["k"],
                  "A window holds k voxels per axis, and there are d axes."),
    Misconception("2d-always", lambda p: p["var"] / p["k"] ** 2,
                  "k^2 is right for 2-D windows only: count the axes of this image."),
    Misconception("std", lambda p: p["var"] / np.sqrt(p["k"] ** p["d"]),
                  "Averaging m samples divides the standard deviation by sqrt(m), so the variance by m."),
)


# ---- pool.alias-frequency: where a frequency lands after decimation --------------------------

_ALIAS_N_OUT = 1000    # output samples; f0 = m / 1000 gives whole numbers of cycles, no leakage


def _alias_params(rng):
    k = int(rng.integers(2, 5))
    for _ in range(1000):  # a bounded redraw: a bank that never accepts fails its tests
        m = int(rng.integers(int(_ALIAS_N_OUT / (2 * k)) + 10, _ALIAS_N_OUT // 2 - 10))
        f0 = m / _ALIAS_N_OUT
        folded = abs(k * f0 - round(k * f0))
        if box_filter_response(k, f0) > 0.1 and 0.02 < folded < 0.48:   # visible, and not at 0 or Nyquist
            return {"k": k, "f0": f0}
    raise RuntimeError("redraw: no acceptable parameters in 1000 draws")


def _alias_solve(p):
    """Pool the cosine with companion code and read the output's spectral peak."""
    k, f0 = p["k"], p["f0"]
    x = np.cos(2 * np.pi * f0 * np.arange(k * _ALIAS_N_OUT))[None, None]
    y = avg_pool(x, k)[0, 0]
    spectrum = np.abs(np.fft.rfft(y - y.mean()))
    return float(np.fft.rfftfreq(y.size)[np.argmax(spectrum)])


_ALIAS_MISCONCEPTIONS = (
    Misconception("no-fold", lambda p: p["k"] * p["f0"] - np.floor(p["k"] * p["f0"]),
                  "k f0 is the frequency in cycles per output sample before folding: a sampled cosine only "
                  "exists between 0 and 0.5 cycles per sample; fold it back (distance to the nearest integer)."),
    Misconception("input-units", lambda p: _alias_solve(p) / p["k"],
                  "That is the folded frequency in cycles per *input* sample; the question asks per output "
                  "sample (one output sample spans k input samples)."),
    Misconception("unchanged", lambda p: p["f0"],
                  "Pooling does not leave the frequency alone: decimation by k multiplies it by k (per "
                  "output sample), and then it folds."),
)


# ---- pool.measure-shift: run the chapter's shift experiment with your own window and shift ----

_CT = None


def _ct():
    global _CT
    if _CT is None:
        _CT = load_ct_slice().pixels.astype(np.float64)[None, None]
    return _CT


def _shift_params(rng):
    k = int(rng.integers(2, 5))
    return {"k": k, "d": int(rng.integers(1, k)), "axis": str(rng.choice(["columns", "rows"]))}


def _unchanged(p, *, pool=max_pool, axis=None):
    ax = {"columns": -1, "rows": -2}[axis or p["axis"]]
    x0 = _ct()
    x1 = np.roll(x0, p["d"], axis=ax)
    keep = (Ellipsis, slice(1, None)) if ax == -1 else (Ellipsis, slice(1, None), slice(None))
    a, b = pool(x0, p["k"])[keep], pool(x1, p["k"])[keep]
    return float(np.mean(a == b) if pool is max_pool else np.mean(np.isclose(a, b)))


_SHIFT_MISCONCEPTIONS = (
    Misconception("avg-pool", lambda p: _unchanged(p, pool=avg_pool),
                  "That is the fraction for average pooling; the question is about max pooling."),
    Misconception("other-axis", lambda p: _unchanged(p, axis="rows" if p["axis"] == "columns" else "columns"),
                  "You shifted along the other axis: np.roll's axis -1 moves columns (left-right), -2 rows."),
)


register(
    Exercise(
        id="pool.output-size",
        title="Output size of a pooling layer",
        prompt=("A feature map of length {n} is pooled with a window of {k}, stride {s} and padding {p} "
                "on both sides (no ceil mode). How many outputs does it give?"),
        make_params=_distinct(_size_params, _size_solve, _SIZE_MISCONCEPTIONS, rtol=0.0, atol=0.4),
        solve=_size_solve,
        integer=True,
        hint="floor((n + 2p - k) / s) + 1.",
        misconceptions=_SIZE_MISCONCEPTIONS,
    ),
    Exercise(
        id="pool.box-response",
        title="Frequency response of average pooling",
        prompt=("Average pooling with window k = {k} filters with the box kernel h[n] = 1/{k}. "
                "What is its magnitude response |H(f)| at f = {f} cycles per sample?"),
        make_params=_distinct(_response_params, _response_solve, _RESPONSE_MISCONCEPTIONS, rtol=1e-3),
        solve=_response_solve,
        rtol=1e-3,
        hint="|H(f)| = |sin(pi f k) / (k sin(pi f))|; use radians.",
        misconceptions=_RESPONSE_MISCONCEPTIONS,
    ),
    Exercise(
        id="pool.noise-variance",
        title="Noise variance after average pooling",
        prompt=("White noise of variance {var} (independent voxels) in a {d}-D image is average-pooled "
                "with a window of {k} along every axis (stride {k}). What is the noise variance of the output?"),
        make_params=_distinct(_noise_params, _noise_solve, _NOISE_MISCONCEPTIONS, rtol=1e-3),
        solve=_noise_solve,
        rtol=1e-3,
        hint="The mean of m independent samples has variance sigma^2 / m; how many voxels are in a window?",
        misconceptions=_NOISE_MISCONCEPTIONS,
    ),
    Exercise(
        id="pool.alias-frequency",
        title="Where does a frequency land after pooling?",
        prompt=("The cosine x[n] = cos(2 pi f0 n) with f0 = {f0} cycles per sample is average-pooled with "
                "window and stride k = {k}. At which frequency, in cycles per *output* sample (between 0 and "
                "0.5), does it appear in the pooled signal? (Predict it; then check with avg_pool and np.fft.)"),
        make_params=_distinct(_alias_params, _alias_solve, _ALIAS_MISCONCEPTIONS, rtol=0.0, atol=2e-3),
        solve=_alias_solve,
        rtol=0.0,
        atol=2e-3,
        hint="Decimation by k turns f0 into k f0 cycles per output sample; a sampled cosine at f and at "
             "f + 1 (or 1 - f) is the same cosine.",
        misconceptions=_ALIAS_MISCONCEPTIONS,
    ),
    Exercise(
        id="pool.measure-shift",
        kind="experiment",  # run the chapter's experiment with your settings
        title="Run it: how many max-pooled outputs survive a shift?",
        prompt=("Repeat the chapter's shift experiment with your own window and shift. Take the CT slice "
                "x0 = load_ct_slice().pixels[None, None] (as float64), shift it by {d} pixels along the "
                "{axis} with np.roll (axis -1 moves columns, -2 rows), max-pool x0 and the shifted copy with "
                "a {k} x {k} window (stride {k}), leave out the first output {axis} (it holds the wrapped "
                "pixels), and compare. What fraction of the remaining outputs is exactly unchanged? "
                "(Three decimals.)"),
        make_params=_distinct(_shift_params, _unchanged, _SHIFT_MISCONCEPTIONS, rtol=0.0, atol=5e-3),
        solve=_unchanged,
        rtol=0.0,
        atol=5e-3,
        hint="np.mean(max_pool(x1, k)[keep] == max_pool(x0, k)[keep]), with keep = (..., slice(1, None)) for "
             "columns or (..., slice(1, None), slice(None)) for rows.",
        misconceptions=_SHIFT_MISCONCEPTIONS,
    ),
)


# ---- pool.choose-downsampling (choice): anisotropic data --------------------------------------

_CHOICES = (
    "1 x 2 x 2: the slices are already much coarser than the pixels; pooling them now would discard "
    "through-plane detail the scan does not have, while in-plane pooling brings the voxels closer to cubic",
    "2 x 2 x 2: the spacing is nearly isotropic, so halving every axis keeps the voxels roughly cubic and "
    "grows the receptive field equally in all directions",
    "2 x 1 x 1: pool the coarse through-plane axis first, so that the volume becomes isotropic sooner",
    "no pooling at all: with 3-D convolutions the receptive field grows fast enough without downsampling",
)


def _choose_params(rng):
    in_plane = float(rng.choice([0.6, 0.7, 0.8]))
    thick = float(rng.choice([3.0, 4.0, 5.0])) if rng.random() < 0.5 else round(in_plane * float(rng.choice([1.0, 1.25, 1.5])), 2)
    return {"spacing": [thick, in_plane, in_plane]}


def _choose_solve(p):
    sp = np.array(p["spacing"])
    window = tuple(2 if v < 2 * sp.min() else 1 for v in sp)      # nnU-Net's rule, as in the chapter
    return _CHOICES[0] if window == (1, 2, 2) else _CHOICES[1]


register(Exercise(
    id="pool.choose-downsampling",
    title="Choose and justify: the first downsampling of a 3-D CT network",
    prompt=("A 3-D segmentation network is trained on CT volumes with voxel spacing (d, h, w) = {spacing} mm. "
            "Which window should its first pooling (or strided convolution) use, and why?"),
    make_params=_choose_params,
    solve=_choose_solve,
    kind="choice",
    choices=_CHOICES,
    hint="Compare each axis's spacing with the finest one: an axis at more than twice the finest spacing is "
         "already coarse.",
    misconceptions=(
        Misconception("isotropic-habit", lambda p: _CHOICES[1] if _choose_solve(p) == _CHOICES[0] else _CHOICES[0],
                      "Look at the spacing again: compare the slice spacing with twice the pixel spacing."),
        Misconception("coarse-first", lambda p: _CHOICES[2],
                      "Pooling the coarse axis makes the anisotropy worse, not better: it doubles the largest "
                      "spacing."),
        Misconception("no-pooling", lambda p: _CHOICES[3],
                      "Without downsampling the receptive field grows by only k - 1 voxels per layer, and every "
                      "layer runs on the full-size volume: 3-D networks need downsampling for both reach and cost."),
    ),
))
