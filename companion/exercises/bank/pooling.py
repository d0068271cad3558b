"""Exercises of the pooling chapter (ids ``pool.*``)."""

from __future__ import annotations

import numpy as np

from companion.exercises._engine import Exercise, Misconception, register
from companion.pooling import avg_pool, box_filter_response, pool_output_size


def _size_params(rng):
    k = int(rng.integers(2, 5))
    return {"n": int(rng.integers(20, 130)), "k": k, "s": int(rng.integers(1, k + 1)),
            "p": int(rng.integers(0, k // 2 + 1))}


def _response_params(rng):
    k = int(rng.integers(2, 6))
    f = round(float(rng.uniform(0.05, 0.45)), 3)
    if abs(f * k - round(f * k)) < 0.05:  # keep away from the zeros of the response
        f = round(f + 0.03, 3)
    return {"k": k, "f": f}


def _noise_params(rng):
    return {"var": round(float(rng.uniform(4.0, 400.0)), 1), "k": int(rng.integers(2, 5)),
            "d": int(rng.integers(2, 4))}


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


register(
    Exercise(
        id="pool.output-size",
        title="Output size of a pooling layer",
        prompt=("A feature map of length {n} is pooled with a window of {k}, stride {s} and padding {p} "
                "on both sides (no ceil mode). How many outputs does it give?"),
        make_params=_size_params,
        solve=lambda p: pool_output_size(p["n"], p["k"], p["s"], p["p"]),
        integer=True,
        hint="floor((n + 2p - k) / s) + 1.",
        misconceptions=(
            Misconception("no-padding", lambda p: pool_output_size(p["n"], p["k"], p["s"], 0),
                          "You left out the padding: it is added on both sides (2p)."),
            Misconception("ceil", lambda p: -(-(p["n"] + 2 * p["p"] - p["k"]) // p["s"]) + 1,
                          "You rounded up: without ceil mode the last partial window is dropped (floor)."),
        ),
    ),
    Exercise(
        id="pool.box-response",
        title="Frequency response of average pooling",
        prompt=("Average pooling with window k = {k} filters with the box kernel h[n] = 1/{k}. "
                "What is its magnitude response |H(f)| at f = {f} cycles per sample?"),
        make_params=_response_params,
        solve=lambda p: float(box_filter_response(p["k"], p["f"])),
        rtol=1e-3,
        hint="|H(f)| = |sin(pi f k) / (k sin(pi f))|; use radians.",
        misconceptions=(
            Misconception("no-1/k", lambda p: p["k"] * float(box_filter_response(p["k"], p["f"])),
                          "You forgot the 1/k of the mean: the response at f = 0 must be 1."),
            Misconception("degrees", lambda p: abs(np.sin(np.deg2rad(np.pi * p["f"] * p["k"]))
                                                   / (p["k"] * np.sin(np.deg2rad(np.pi * p["f"])))),
                          "Your calculator is in degrees: the sines take radians."),
        ),
    ),
    Exercise(
        id="pool.noise-variance",
        title="Noise variance after average pooling",
        prompt=("White noise of variance {var} (independent voxels) in a {d}-D image is average-pooled "
                "with a window of {k} along every axis (stride {k}). What is the noise variance of the output?"),
        make_params=_noise_params,
        solve=_noise_solve,
        rtol=1e-3,
        hint="The mean of m independent samples has variance sigma^2 / m; how many voxels are in a window?",
        misconceptions=(
            Misconception("k-not-k^d", lambda p: p["var"] / p["k"],
                          "A window holds k voxels per axis, and there are d axes."),
            Misconception("2d-always", lambda p: p["var"] / p["k"] ** 2,
                          "k^2 is right for 2-D windows only: count the axes of this image."),
            Misconception("std", lambda p: p["var"] / np.sqrt(p["k"] ** p["d"]),
                          "Averaging m samples divides the standard deviation by sqrt(m), so the variance by m."),
        ),
    ),
)
