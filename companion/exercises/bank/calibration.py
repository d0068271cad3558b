"""Exercises of chapter ``chap-calibration``: ECE of a binned table; which loss is a proper scoring rule."""

from __future__ import annotations

import numpy as np

from companion.calibration import expected_calibration_error, maximum_calibration_error
from companion.exercises._engine import Exercise, Misconception, register

# ---- calib.ece-table ----------------------------------------------------------------------------

_CENTRES = (0.1, 0.3, 0.5, 0.7, 0.9)


def _table_params(rng: np.random.Generator) -> dict:
    counts = rng.integers(2, 21, size=5)
    conf = np.round(np.array(_CENTRES) + rng.uniform(-0.08, 0.08, 5), 2)
    correct = np.array([rng.integers(0, c + 1) for c in counts])
    rows = [(int(n), float(c), int(k)) for n, c, k in zip(counts, conf, correct)]
    return {"rows": rows, "table": "\n".join(
        f"  bin {i + 1} ({0.2 * i:.1f}, {0.2 * (i + 1):.1f}]: {n} predictions, mean confidence {c:.2f}, {k} correct"
        for i, (n, c, k) in enumerate(rows))}


def _expand(p: dict) -> tuple[np.ndarray, np.ndarray]:
    conf = np.concatenate([np.full(n, c) for n, c, _ in p["rows"]])
    correct = np.concatenate([np.arange(n) < k for n, _, k in p["rows"]])
    return conf, correct


def _table_solve(p: dict) -> float:
    return expected_calibration_error(*_expand(p), n_bins=5)


def _gaps(p: dict) -> np.ndarray:
    return np.array([k / n - c for n, c, k in p["rows"]])


register(Exercise(
    id="calib.ece-table",
    title="ECE of a reliability table",
    prompt=("A model's predictions, sorted into 5 equal-width confidence bins:\n{table}\n"
            "What is its expected calibration error (ECE)?"),
    make_params=_table_params,
    solve=_table_solve,
    rtol=1e-3,
    atol=1e-6,
    hint="Per bin: accuracy = correct / predictions, gap = |accuracy - mean confidence|; weight each gap by its share of all predictions.",
    misconceptions=(
        Misconception("unweighted", lambda p: float(np.mean(np.abs(_gaps(p)))),
                      "That averages the bins equally; ECE weights each bin by its number of predictions."),
        Misconception("mce", lambda p: maximum_calibration_error(*_expand(p), n_bins=5),
                      "That is the largest gap (the maximum calibration error, MCE), not the weighted mean."),
        Misconception("signed", lambda p: float(abs(np.sum([n * g for (n, _, _), g in zip(p["rows"], _gaps(p))])
                                                    / sum(n for n, _, _ in p["rows"]))),
                      "The gaps are absolute values per bin: over- and under-confident bins must not cancel."),
    ),
))


# ---- calib.proper-loss (choice) -----------------------------------------------------------------

PROPER_CHOICES = (
    "cross-entropy (log loss)",
    "soft Dice loss of the region",
    "hard Dice after thresholding at 0.5",
    "none of these",
)
_GRID = np.round(np.linspace(0.05, 0.95, 19), 2)


def expected_losses(q: float, p: np.ndarray, n: int = 10) -> dict[str, np.ndarray]:
    """Expected loss of each option's rule for reports `p` (:func:`companion.calibration.expected_report_losses`)."""
    from companion.calibration import expected_report_losses

    losses = expected_report_losses(q, p, n_voxels=n)
    return {PROPER_CHOICES[0]: losses["cross-entropy"], PROPER_CHOICES[1]: losses["soft Dice"],
            PROPER_CHOICES[2]: losses["hard Dice"]}


def _proper_params(rng: np.random.Generator) -> dict:
    return {"q": float(rng.choice([0.2, 0.3, 0.35, 0.4, 0.6, 0.65, 0.7]))}


def _proper_solve(p: dict) -> str:
    losses = expected_losses(p["q"], _GRID)
    i = int(np.argmin(np.abs(_GRID - p["q"])))
    # strictly proper: reporting q is the unique minimiser of the expected loss
    proper = [k for k, v in losses.items() if np.all(v[i] < np.delete(v, i))]
    return proper[0] if len(proper) == 1 else PROPER_CHOICES[-1]


register(Exercise(
    id="calib.proper-loss",
    title="Which loss rewards honest probabilities?",
    prompt=("In a region of 10 voxels that look alike, each is lesion with probability q = {q}, "
            "independently. The network reports the same probability p for all of them. For which "
            "loss is the expected loss smallest exactly when p = q (a strictly proper scoring rule)?"),
    make_params=_proper_params,
    solve=_proper_solve,
    kind="choice",
    choices=PROPER_CHOICES,
    hint="Write each expected loss as a function of p and find where it is smallest.",
    misconceptions=(
        Misconception("soft-dice", lambda p: PROPER_CHOICES[1],
                      "The expected soft Dice of the lesion class keeps improving as p grows: it rewards over-confidence."),
        Misconception("hard-dice", lambda p: PROPER_CHOICES[2],
                      "After thresholding, every p on the same side of 0.5 scores the same: the loss cannot single out q."),
    ),
))


# ---- calib.measure-ece (experiment) ---------------------------------------------------------------

def _mece_params(rng: np.random.Generator) -> dict:
    return {"seed": int(rng.integers(0, 10_000)), "m": int(rng.choice([2000, 5000, 10000])),
            "a": int(rng.choice([4, 6, 8])), "gamma": float(rng.choice([1.5, 2.0, 3.0])),
            "bins": int(rng.choice([10, 15, 20]))}


def _mece_data(p: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(p["seed"])
    conf = rng.beta(p["a"], 1.0, p["m"])
    correct = rng.random(p["m"]) < conf ** p["gamma"]
    return conf, correct


register(Exercise(
    id="calib.measure-ece",
    title="Run it and measure: the calibration error of an over-confident model",
    kind="experiment",  # run the chapter's experiment with your settings
    prompt=("Simulate an over-confident model exactly as follows: `rng = np.random.default_rng({seed})`, "
            "`conf = rng.beta({a}, 1.0, {m})`, `correct = rng.random({m}) < conf ** {gamma}` (a prediction of "
            "confidence c is right with probability c^{gamma}, less than c). Measure its expected calibration error "
            "with {bins} equal-width bins (companion.calibration.expected_calibration_error)."),
    make_params=_mece_params,
    solve=lambda p: expected_calibration_error(*_mece_data(p), n_bins=p["bins"]),
    rtol=1e-6,
    hint="Draw conf first, then the uniform numbers for correct, from the same generator, in that order.",
    misconceptions=(
        Misconception("mce", lambda p: maximum_calibration_error(*_mece_data(p), n_bins=p["bins"]),
                      "That is the maximum calibration error (the worst bin), not the expected one (the "
                      "sample-weighted mean of the bins' gaps)."),
    ),
))
