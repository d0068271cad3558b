"""Exercises of chapter chap-segmentation (ids ``seg.*``): an honest split of one brain's slices,
the sensitivity of a detector pooled over images, and the nearest-slice memoriser measured on the
MNI152 template.

The answers come from companion code: :func:`companion.segmentation.slab_split`,
:func:`~companion.segmentation.nearest_slice_labels` and :func:`companion.metrics.dice_score`.
"""

from __future__ import annotations

import numpy as np

from companion.exercises._engine import Exercise, Misconception, redraw, register

# --------------------------------------------------------------------------- seg.split (choice)
SPLIT_CHOICES = (
    "test on slices drawn at random, train on all the others",
    "test on every k-th slice, train on the slices in between",
    "test on a slab of consecutive slices, train only on slices more than a few slices away from it",
    "train and test on all slices, and report the training Dice",
)


def _split_params(rng: np.random.Generator) -> dict:
    return {"n": int(rng.choice([60, 72, 80, 96])), "mm": float(rng.choice([1.0, 1.5, 2.0])),
            "n_test": int(rng.choice([10, 12, 16])), "gap": int(rng.choice([3, 4, 5, 6])),
            "every": int(rng.choice([4, 5, 6]))}


def _split_choices(p: dict) -> tuple[str, ...]:
    return SPLIT_CHOICES


def _split_solve(p: dict) -> str:
    from companion.segmentation import slab_split

    slices = np.arange(p["n"])
    start = (p["n"] - p["n_test"]) // 2
    train, test = slab_split(slices, start, start + p["n_test"], gap=p["gap"])
    assert np.min(np.abs(train[:, None] - test[None])) == p["gap"] + 1   # no near-copy in training
    return _split_choices(p)[2]


register(Exercise(
    id="seg.split",
    title="Splitting one brain honestly",
    prompt=("You have one labelled brain MRI with {n} axial slices of {mm} mm and want to estimate how well a "
            "2-D U-Net segments slices it has never seen, with about {n_test} test slices. Which split gives an "
            "honest estimate?"),
    make_params=_split_params,
    solve=_split_solve,
    kind="choice",
    choices=SPLIT_CHOICES,
    hint="How similar is a test slice to the closest slice the network was trained on, in each split?",
    misconceptions=(
        Misconception("random", lambda p: _split_choices(p)[0],
                      "A random split puts most test slices next to a training slice, one slice away and almost "
                      "identical: the score measures memory as much as generalisation."),
        Misconception("interleaved", lambda p: _split_choices(p)[1],
                      "Every test slice then has training slices one slice away on both sides: the same leak as a "
                      "random split, only regular."),
        Misconception("training", lambda p: _split_choices(p)[3],
                      "The training Dice measures how well the network fits what it has seen, not new slices."),
    ),
))


# --------------------------------------------------------------------------- seg.froc-point (number)
def _froc_params(rng: np.random.Generator) -> dict:
    def draw() -> dict:
        n_img = int(rng.integers(3, 6))
        lesions = [int(v) for v in rng.integers(1, 7, n_img)]
        found = [int(rng.integers(0, k + 1)) for k in lesions]
        fps = [int(v) for v in rng.integers(0, 4, n_img)]
        return {"lesions": lesions, "found": found, "fps": fps, "n_img": n_img}

    def distinct(p: dict) -> bool:
        # images with unequal lesion counts make the per-image mean differ from the pooled value;
        # every misconception must be told apart from the answer
        right = _froc_solve(p)
        return sum(p["found"]) > 0 and all(abs(m.value(p) - right) > 0.02 for m in _FROC_MISCONCEPTIONS)

    p = redraw(draw, distinct)
    p["table"] = "\n".join(f"  image {i + 1}: {k} lesions, {f} of them found, {fp} false-positive marks"
                           for i, (k, f, fp) in enumerate(zip(p["lesions"], p["found"], p["fps"])))
    return p


def _froc_solve(p: dict) -> float:
    return sum(p["found"]) / sum(p["lesions"])


_FROC_MISCONCEPTIONS = (
    Misconception("per-image-mean", lambda p: float(np.mean([f / k for f, k in zip(p["found"], p["lesions"])])),
                  "That averages the images' sensitivities, so an image with one lesion counts as much as one "
                  "with six; the FROC pools the lesions."),
    Misconception("fp-per-image", lambda p: sum(p["fps"]) / p["n_img"],
                  "That is the curve's other axis, the false positives per image."),
    Misconception("precision", lambda p: sum(p["found"]) / max(1, sum(p["found"]) + sum(p["fps"])),
                  "That is the share of marks that are lesions (precision), not the share of lesions found."),
)


register(Exercise(
    id="seg.froc-point",
    title="Sensitivity of a lesion detector over several images",
    prompt=("A detector is run at one threshold on {n_img} images with inserted lesions:\n{table}\n"
            "What is its sensitivity at this threshold, as an FROC curve counts it (lesions pooled over the "
            "images)?"),
    make_params=_froc_params,
    solve=_froc_solve,
    rtol=1e-3,
    atol=1e-6,
    hint="Sensitivity = all detected lesions / all lesions; false positives are what is averaged per image.",
    misconceptions=_FROC_MISCONCEPTIONS,
))


# --------------------------------------------------------------------------- seg.measure-memoriser (experiment)
def _memo_params(rng: np.random.Generator) -> dict:
    start = int(rng.integers(25, 45))
    return {"start": start, "stop": start + int(rng.choice([8, 10, 12])), "gap": int(rng.choice([0, 2, 3, 5, 6]))}


def _memo_dice(p: dict, gap: int) -> float:
    from companion.data import load_brain_tissue
    from companion.metrics import dice_score
    from companion.segmentation import nearest_slice_labels, slab_split

    _, labels, _ = load_brain_tissue(2)
    slices = np.flatnonzero((labels > 0).reshape(len(labels), -1).sum(axis=1) >= 500)
    train, test = slab_split(slices, p["start"], p["stop"], gap=gap)
    pred, _ = nearest_slice_labels(labels, train, test)
    return float(np.mean(dice_score(pred, labels[test], 4)))


register(Exercise(
    id="seg.measure-memoriser",
    title="Run it and measure: how much a gap removes from a memoriser's score",
    kind="experiment",
    prompt=("Load `labels` with `companion.data.load_brain_tissue(2)` and take as candidate slices the axial "
            "slices (axis 0) with at least 500 brain voxels (`labels > 0`). Split them with "
            "`companion.segmentation.slab_split(slices, {start}, {stop}, gap={gap})`, label each test slice with "
            "`nearest_slice_labels` and report the mean over CSF, grey and white matter of "
            "`companion.metrics.dice_score(pred, labels[test], 4)`."),
    make_params=_memo_params,
    solve=lambda p: _memo_dice(p, p["gap"]),
    rtol=1e-6,
    hint="The candidate slices come from the whole volume (no crop); the Dice is over the whole test slab at once.",
    misconceptions=(
        Misconception("no-gap", lambda p: _memo_dice(p, 0) if p["gap"] else _memo_dice(p, 3),
                      "That is the memoriser with a different gap; use the gap of the prompt."),
    ),
))
