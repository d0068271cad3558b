"""Calibration of predicted probabilities: reliability diagrams, ECE and temperature scaling.

A classifier is *calibrated* when, among all predictions made with confidence 0.8, 80 % are
right. Guo et al. (2017) measure the gap by sorting predictions into equal-width confidence
bins and averaging ``|accuracy - mean confidence|`` over bins, weighted by bin size.

- :func:`reliability_bins` — counts, mean confidence and accuracy per bin ``(lo, hi]``.
- :func:`expected_calibration_error`, :func:`maximum_calibration_error` — ECE and MCE.
- :func:`reliability_diagram` — everything a reliability plot needs, as a :class:`Reliability`.
- :func:`top_label` — per-voxel (confidence, correct) of a segmentation's softmax output.
- :func:`temperature_scale` — the one-parameter post-hoc fix: ``softmax(z / T)`` with ``T``
  chosen to minimise the negative log-likelihood on held-out data.

References
----------
guo2017calibration, mehrtash2020confidence, naeini2015obtaining
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from companion._validation import as_float_array, as_int, as_positive_float

__all__ = [
    "reliability_bins", "expected_calibration_error", "maximum_calibration_error", "Reliability",
    "reliability_diagram", "top_label", "temperature_scale",
]


# --------------------------------------------------------------------------------------------
# Private checkers
# --------------------------------------------------------------------------------------------

def _as_confidence_correct(confidence: Any, correct: Any) -> tuple[np.ndarray, np.ndarray]:
    c = as_float_array(confidence, "confidence").ravel()
    if c.size == 0:
        raise ValueError("confidence: expected at least one prediction, got an empty array")
    if not np.all((c >= 0) & (c <= 1)):  # also refuses nan
        bad = c[~((c >= 0) & (c <= 1))][0]
        raise ValueError(f"confidence: expected probabilities in [0, 1], got {bad}")
    if hasattr(correct, "detach") and hasattr(correct, "numpy"):
        correct = correct.detach().cpu().numpy()
    if correct is None or isinstance(correct, (str, bytes)):
        raise TypeError(f"correct: expected an array of 0/1 or bool, got {type(correct).__name__}")
    k = np.asarray(correct)
    if k.dtype.kind not in "biuf":
        raise TypeError(f"correct: expected an array of 0/1 or bool, got dtype {k.dtype}")
    if k.size != c.size:
        raise ValueError(f"correct: expected {c.size} entries (one per confidence), got shape {k.shape}")
    k = k.ravel().astype(np.float64)
    if not np.all((k == 0) | (k == 1)):
        raise ValueError(f"correct: expected 0/1 or bool values, got {k[(k != 0) & (k != 1)][0]}")
    return c, k


# --------------------------------------------------------------------------------------------
# Bins and calibration errors
# --------------------------------------------------------------------------------------------

def reliability_bins(confidence: Any, correct: Any, n_bins: int = 15) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort predictions into equal-width confidence bins and summarise each bin.

    Bin ``b`` (``b = 1 … M``) holds the confidences in ``((b-1)/M, b/M]``, as in Guo et al.
    (2017); the first bin also holds 0. (torchmetrics uses ``[lo, hi)`` and a separate bin for
    1.0: the two agree except for values exactly on an edge.)

    Parameters
    ----------
    confidence : ndarray of float
        Predicted probability of the predicted (or of a fixed) class, in ``[0, 1]``.
    correct : ndarray of bool or 0/1
        Whether that prediction was right (or whether that class occurred).
    n_bins : int, default 15
        Number ``M`` of equal-width bins on ``[0, 1]``.

    Returns
    -------
    counts : ndarray of int64
        Predictions per bin.
    mean_confidence, accuracy : ndarray of float64
        Mean confidence and fraction correct per bin; nan for an empty bin.

    Shapes
    ------
    confidence, correct : any shape, same size (flattened);  each result : (n_bins,)

    Raises
    ------
    TypeError
        Non-numeric `confidence` or `correct`.
    ValueError
        `confidence` outside ``[0, 1]`` or nan, `correct` not 0/1, sizes differ, ``n_bins < 1``.

    Examples
    --------
    >>> counts, conf, acc = reliability_bins([0.5, 0.6, 0.9], [0, 1, 1], n_bins=2)
    >>> counts, conf.round(3), acc
    (array([1, 2]), array([0.5 , 0.75]), array([0., 1.]))
    """
    n_bins = as_int(n_bins, "n_bins", minimum=1)
    c, k = _as_confidence_correct(confidence, correct)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, c, side="left") - 1, 0, n_bins - 1)  # (lo, hi], 0 -> bin 0
    counts = np.bincount(idx, minlength=n_bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, weights=c.astype(np.float64), minlength=n_bins) / counts
        accuracy = np.bincount(idx, weights=k, minlength=n_bins) / counts
    return counts, mean_conf, accuracy


def expected_calibration_error(confidence: Any, correct: Any, n_bins: int = 15) -> float:
    """Expected calibration error ``ECE = Σ_b (n_b / n) |acc_b - conf_b|`` (Guo et al. 2017).

    Equal to torchmetrics ``binary_calibration_error(preds=confidence, target=correct,
    n_bins=n_bins, norm="l1")`` when no confidence lies exactly on a bin edge (see
    :func:`reliability_bins`).

    Returns
    -------
    float
        ECE in ``[0, 1]``; 0 for a perfectly calibrated histogram.

    Shapes
    ------
    confidence, correct : any shape, same size

    Examples
    --------
    >>> round(expected_calibration_error([0.5, 0.6, 0.9], [0, 1, 1], n_bins=2), 4)  # (0.5 + 2 * 0.25) / 3
    0.3333
    """
    counts, conf, acc = reliability_bins(confidence, correct, n_bins)
    full = counts > 0
    return float(np.sum(counts[full] * np.abs(acc[full] - conf[full])) / counts.sum())


def maximum_calibration_error(confidence: Any, correct: Any, n_bins: int = 15) -> float:
    """Maximum calibration error ``MCE = max_b |acc_b - conf_b|`` over non-empty bins (Guo et al. 2017)."""
    counts, conf, acc = reliability_bins(confidence, correct, n_bins)
    full = counts > 0
    return float(np.max(np.abs(acc[full] - conf[full])))


class Reliability(NamedTuple):
    """What a reliability diagram draws: per-bin statistics and the summary errors."""

    edges: np.ndarray            # (n_bins + 1,) bin edges on [0, 1]
    counts: np.ndarray           # (n_bins,) predictions per bin
    mean_confidence: np.ndarray  # (n_bins,) nan where empty
    accuracy: np.ndarray         # (n_bins,) nan where empty
    ece: float
    mce: float


def reliability_diagram(confidence: Any, correct: Any, n_bins: int = 15) -> Reliability:
    """Data for a reliability diagram: edges, per-bin counts, confidence, accuracy, ECE and MCE.

    A calibrated model has ``accuracy ≈ mean_confidence`` in every bin (the diagonal); bars below
    the diagonal mean over-confidence. Plotting lives in :mod:`companion.widgets.calibration`.

    Shapes
    ------
    confidence, correct : any shape, same size;  per-bin fields : (n_bins,)
    """
    counts, conf, acc = reliability_bins(confidence, correct, n_bins)
    full = counts > 0
    gaps = np.abs(acc[full] - conf[full])
    return Reliability(np.linspace(0.0, 1.0, len(counts) + 1), counts, conf, acc,
                       float(np.sum(counts[full] * gaps) / counts.sum()), float(gaps.max()))


def top_label(probs: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    """Top-label confidence and correctness of every voxel of a softmax output.

    ``confidence_i = max_k p_ik`` and ``correct_i = [argmax_k p_ik == y_i]``, flattened over
    N and the spatial axes: the input of :func:`reliability_bins` for a segmentation.

    Shapes
    ------
    probs : (N, K, *S);  target : (N, *S);  results : (N·S,)

    Raises
    ------
    TypeError, ValueError
        As :func:`companion.losses.cross_entropy` for `target`; `probs` outside ``[0, 1]``.
    """
    from companion.losses import _as_logits, _as_target

    p = _as_logits(probs, min_dims=2)
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("probs: expected probabilities in [0, 1] (apply softmax to logits first)")
    t = _as_target(target, p)
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == t
    return conf.ravel(), correct.ravel()


def temperature_scale(logits: Any, target: Any, *, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """Fit the temperature ``T`` of ``softmax(logits / T)`` by minimising the mean cross-entropy.

    One scalar for the whole network (Guo et al. 2017): ``T > 1`` softens over-confident
    predictions, ``T < 1`` sharpens under-confident ones; the arg-max, hence the segmentation
    and its Dice, is unchanged. The minimisation runs over ``log T`` (bounded scalar search with
    :func:`scipy.optimize.minimize_scalar`). Fit on held-out data, never on the test set.

    Parameters
    ----------
    logits : ndarray of float32 or float64
        Raw network outputs on a validation set.
    target : ndarray of int
        The labels of the same voxels.
    bounds : (float, float), default (0.05, 20.0)
        Search interval for ``T``.

    Returns
    -------
    float
        The temperature minimising ``cross_entropy(logits / T, target)``.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S)

    Raises
    ------
    ValueError
        Bad `bounds`, or as :func:`companion.losses.cross_entropy`.
    """
    from scipy.optimize import minimize_scalar

    from companion.losses import cross_entropy

    lo = as_positive_float(bounds[0], "bounds")
    hi = as_positive_float(bounds[1], "bounds")
    if not lo < hi:
        raise ValueError(f"bounds: expected (low, high) with 0 < low < high, got {bounds}")
    z = as_float_array(logits, "logits").astype(np.float64)
    cross_entropy(z, target)  # checks logits and target before the search

    def nll(log_t: float) -> float:
        return float(cross_entropy(z / np.exp(log_t), target))

    res = minimize_scalar(nll, bounds=(np.log(lo), np.log(hi)), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))
