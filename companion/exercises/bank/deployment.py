"""Exercises of chapter chap-deployment (ids ``deploy.*``): z-score normalisation after an intensity
shift, which shift normalisation undoes. (The occlusion exercise moved to chap-explainability:
``xai.occlusion-linear``.)

The answers come from companion code: :func:`companion.intensity.zscore` and
:func:`~companion.intensity.shift_image`.
"""

from __future__ import annotations

import numpy as np

from companion.exercises._engine import Exercise, Misconception, register


# --------------------------------------------------------------------------- deploy.zscore-shift
def _zscore_params(rng: np.random.Generator) -> dict:
    values = np.round(rng.uniform(0.0, 1.0, 6), 1)
    while np.ptp(values) == 0:
        values = np.round(rng.uniform(0.0, 1.0, 6), 1)
    return {"values": [float(v) for v in values], "a": float(rng.choice([0.5, 0.8, 1.5, 2.0, 3.0])),
            "b": float(np.round(rng.uniform(-0.3, 0.4), 2)), "k": int(rng.integers(0, 6))}


def _zscore_solve(p: dict) -> float:
    from companion.intensity import zscore

    x = np.array(p["values"])
    return float(zscore(p["a"] * x + p["b"])[p["k"]])


def _shifted(p: dict) -> float:
    return p["a"] * p["values"][p["k"]] + p["b"]


register(Exercise(
    id="deploy.zscore-shift",
    title="Z-score after an intensity shift",
    prompt=("A tiny image has the pixel values {values}. Another scanner delivers x' = a x + b with "
            "a = {a} and b = {b}. After per-image z-score normalisation, (x' - mean(x')) / std(x') with "
            "the population standard deviation, what is the value of pixel number {k} (counting from 0)?"),
    make_params=_zscore_params,
    solve=_zscore_solve,
    rtol=1e-3,
    atol=1e-6,
    hint="The mean of a x + b is a mean(x) + b and its standard deviation is a std(x).",
    misconceptions=(
        Misconception("raw", _shifted, "That is the shifted pixel before any normalisation."),
        Misconception("old-statistics", lambda p: (_shifted(p) - np.mean(p["values"])) / np.std(p["values"]),
                      "That normalises the shifted pixel with the statistics of the original image; "
                      "the z-score uses the statistics of the image it is given."),
        Misconception("sample-std", lambda p: _zscore_solve(p) * np.sqrt(5 / 6),
                      "That divides by the sample standard deviation (n - 1 = 5); here it is the population one (n = 6)."),
    ),
))


# --------------------------------------------------------------------------- deploy.which-shift
WHICH_CHOICES = ("gain", "bias field", "noise", "blur", "spacing", "none of them")
_KINDS = ("gain", "bias", "noise", "blur", "spacing")


def _which_params(rng: np.random.Generator) -> dict:
    return {"strength": float(rng.choice([0.4, 0.6, 0.8, 1.0])), "seed": int(rng.integers(0, 50))}


def _which_solve(p: dict) -> str:
    from companion.data import phantom_2d
    from companion.intensity import shift_image, zscore

    image, mask = phantom_2d(32, n_lesions=1, seed=p["seed"])
    undone = []
    for kind, choice in zip(_KINDS, WHICH_CHOICES):
        shifted, _ = shift_image(image, mask, kind, p["strength"], seed=p["seed"])
        if shifted.shape == image.shape and np.allclose(zscore(shifted), zscore(image), atol=1e-4):
            undone.append(choice)
    return undone[0] if len(undone) == 1 else WHICH_CHOICES[-1]


register(Exercise(
    id="deploy.which-shift",
    title="Which shift does a z-score undo?",
    prompt=("Each of the chapter's shifts is applied with strength {strength} to a phantom. The shifted "
            "image and the original are both z-score normalised per image. For which shift are the two "
            "normalised images equal (up to rounding)?"),
    make_params=_which_params,
    solve=_which_solve,
    kind="choice",
    choices=WHICH_CHOICES,
    hint="Write each shift as a map x -> x' and ask whether z(x') can depend on anything but z(x).",
    misconceptions=(
        Misconception("bias", lambda p: WHICH_CHOICES[1],
                      "A bias field is a gain that varies across the image: one mean and one standard deviation "
                      "per image cannot undo a different factor at every pixel."),
        Misconception("noise", lambda p: WHICH_CHOICES[2],
                      "Noise adds a new random value to every pixel: no rescaling of the whole image removes it."),
        Misconception("blur", lambda p: WHICH_CHOICES[3],
                      "Blur mixes neighbouring pixels: the z-score rescales the image but cannot un-mix them."),
    ),
))
