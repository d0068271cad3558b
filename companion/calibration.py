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
    "reliability_diagram", "top_label", "temperature_scale", "expected_report_losses", "optimal_reports",
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

    Parameters
    ----------
    confidence : array_like of float
        Confidence of each prediction, in ``[0, 1]``.
    correct : array_like of bool or 0/1
        Whether each prediction was right.
    n_bins : int, default 15
        Equal-width bins ``(lo, hi]`` on ``[0, 1]``; 15 as in Guo et al. 2017.

    Returns
    -------
    float
        ECE in ``[0, 1]``; 0 for a perfectly calibrated histogram.

    Shapes
    ------
    confidence, correct : any shape, same size

    Raises
    ------
    TypeError, ValueError
        As :func:`reliability_bins` (empty input, confidence outside ``[0, 1]`` or nan, sizes
        that differ, `correct` not 0/1, `n_bins` < 1).

    Examples
    --------
    >>> round(expected_calibration_error([0.5, 0.6, 0.9], [0, 1, 1], n_bins=2), 4)  # (0.5 + 2 * 0.25) / 3
    0.3333
    """
    counts, conf, acc = reliability_bins(confidence, correct, n_bins)
    full = counts > 0
    return float(np.sum(counts[full] * np.abs(acc[full] - conf[full])) / counts.sum())


def maximum_calibration_error(confidence: Any, correct: Any, n_bins: int = 15) -> float:
    """Maximum calibration error ``MCE = max_b |acc_b - conf_b|`` over non-empty bins (Guo et al. 2017).

    Parameters
    ----------
    confidence, correct, n_bins
        As in :func:`expected_calibration_error`.

    Returns
    -------
    float
        Equal to torchmetrics ``binary_calibration_error(norm="max")`` off the bin edges.

    Shapes
    ------
    confidence, correct : any shape, same size

    Raises
    ------
    TypeError, ValueError
        As :func:`reliability_bins`.

    >>> round(maximum_calibration_error([0.5, 0.6, 0.9], [0, 1, 1], n_bins=2), 4)
    0.5
    """
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

    Parameters
    ----------
    confidence, correct, n_bins
        As in :func:`expected_calibration_error`.

    Returns
    -------
    Reliability

    Raises
    ------
    TypeError, ValueError
        As :func:`reliability_bins`.

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

    Parameters
    ----------
    probs : ndarray of float
        Softmax probabilities (not logits).
    target : ndarray of int
        Labels in ``[0, K)``.

    Returns
    -------
    (ndarray of float, ndarray of bool)
        Confidence and correctness of every voxel.

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


# --------------------------------------------------------------------------------------------
# Proper scoring rules: which report minimises the expected loss?
# --------------------------------------------------------------------------------------------

def expected_report_losses(q: float, p: Any, n_voxels: int = 10, eps: float = 1e-5) -> dict[str, np.ndarray]:
    """Expected losses of reporting probability `p` for each of `n_voxels` voxels that are each lesion with probability `q`.

    The number of lesion voxels is ``S ~ Binomial(n_voxels, q)``; expectations are exact sums
    over ``S`` (the soft Dice of equal reports depends on ``S`` only). Three losses, each a
    function of the report ``p`` (a grid):

    - ``"cross-entropy"``: ``-(q log p + (1 - q) log(1 - p))`` per voxel — minimised at ``p = q``;
    - ``"soft Dice"``: ``1 - E[D_soft]`` of the lesion class — decreasing in ``p``;
    - ``"hard Dice"``: the same with the report thresholded at 0.5 — flat on each side of 0.5.

    Parameters
    ----------
    q : float
        True lesion probability of every voxel, in ``(0, 1)``.
    p : array_like
        Reports, in ``(0, 1)``.
    n_voxels : int, default 10
    eps : float, default 1e-5

    Returns
    -------
    dict of str to ndarray
        One array of the shape of `p` per loss.

    Shapes
    ------
    p : any shape;  each result : the shape of `p`

    Raises
    ------
    TypeError, ValueError
        For `q` or `p` outside ``(0, 1)``, or `n_voxels` < 1.

    References
    ----------
    gneiting2007strictly
    """
    from math import comb

    from companion.losses import cross_entropy, soft_dice

    q = as_positive_float(q, "q")
    if q >= 1:
        raise ValueError(f"q: expected a probability in (0, 1), got {q}")
    n = as_int(n_voxels, "n_voxels", minimum=1)
    p = as_float_array(p, "p").astype(np.float64).ravel()
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("p: expected reports in (0, 1)")
    logits = np.stack([np.zeros_like(p), np.log(p) - np.log1p(-p)], axis=1)  # (G, 2)
    ce = (q * cross_entropy(logits, np.ones(len(p), dtype=np.int64), reduction="none")
          + (1 - q) * cross_entropy(logits, np.zeros(len(p), dtype=np.int64), reduction="none"))
    s = np.arange(n + 1)
    w = np.array([comb(n, k) * q ** k * (1 - q) ** (n - k) for k in s])
    y = (np.arange(n)[None] < s[:, None]).astype(np.float64)  # (n+1, n): a mask with S lesion voxels
    out = {"cross-entropy": ce}
    for name, rep in (("soft Dice", p), ("hard Dice", (p > 0.5) * 1.0)):
        reports = np.broadcast_to(rep[:, None, None], (len(p), n + 1, n)).reshape(-1, 1, n)
        masks = np.broadcast_to(y[None], (len(p), n + 1, n)).reshape(-1, 1, n)
        d = soft_dice(reports, masks, eps).reshape(len(p), n + 1)
        out[name] = 1 - d @ w
    return out


def optimal_reports(q: Any, loss: str = "dice", *, n_draws: int = 4000, eps: float = 1e-5,
                    seed: int = 0) -> np.ndarray:
    """The reports ``p_i`` that minimise a loss in expectation over random labels ``y_i ~ Bernoulli(q_i)``.

    One image of ``len(q)`` voxels; its label maps are drawn `n_draws` times (seeded), and the
    reports, shared by all draws, minimise the mean loss over the draws (L-BFGS-B on the logits,
    with the analytic gradients of :mod:`companion.losses`). For ``"ce"`` the optimum is the
    empirical frequency of each voxel, ≈ ``q`` (cross-entropy is strictly proper); for ``"dice"``
    (soft Dice of the lesion class, background excluded) the optimum is pushed to 0 or 1.

    Parameters
    ----------
    q : array_like of float
        True lesion probability of each voxel, in ``[0, 1]``.
    loss : {"dice", "ce"}
    n_draws : int, default 4000
    eps : float, default 1e-5
    seed : int, default 0

    Returns
    -------
    ndarray of float64
        The optimal reports, shape of `q`.

    Shapes
    ------
    q : (V,);  result : (V,)

    Raises
    ------
    TypeError, ValueError
        For `q` not 1-D in ``[0, 1]``, an unknown `loss`, or `n_draws` < 1.

    References
    ----------
    gneiting2007strictly, bertels2019optimizing
    """
    from scipy.optimize import minimize

    from companion.losses import cross_entropy, cross_entropy_grad, dice_loss, dice_loss_grad

    qa = as_float_array(q, "q").astype(np.float64)
    if qa.ndim != 1 or not np.all((qa >= 0) & (qa <= 1)):
        raise ValueError(f"q: expected a 1-D array of probabilities in [0, 1], got shape {qa.shape}")
    if loss not in ("dice", "ce"):
        raise ValueError(f"loss: expected 'dice' or 'ce', got {loss!r}")
    m = as_int(n_draws, "n_draws", minimum=1)
    rng = np.random.default_rng(seed)
    target = (rng.uniform(size=(m, qa.size)) < qa).astype(np.int64)  # (M, n) label maps

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        logits = np.broadcast_to(np.stack([np.zeros_like(z), z])[None], (m, 2, z.size))
        if loss == "ce":
            value, grad = cross_entropy(logits, target), cross_entropy_grad(logits, target)
        else:
            value = dice_loss(logits, target, eps=eps, include_background=False)
            grad = dice_loss_grad(logits, target, eps=eps, include_background=False)
        return float(value), grad[:, 1].sum(axis=0)  # the class-0 logit is held at 0

    res = minimize(objective, np.zeros(qa.size), jac=True, method="L-BFGS-B",
                   bounds=[(-30.0, 30.0)] * qa.size, options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-10})
    return 1.0 / (1.0 + np.exp(-res.x))
