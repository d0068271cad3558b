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
- :func:`brier_score` — the mean squared distance between the probability vector and the one-hot
  label (Brier 1950), a strictly proper score that needs no bins.
- :func:`classwise_calibration_error` — the ECE of every class's own probability, averaged over
  classes (Kull et al. 2019); :func:`region_of_interest` — the voxels near the structure, so
  that the easy background does not dilute the calibration error.

References
----------
guo2017calibration, mehrtash2020confidence, naeini2015obtaining, brier1950verification,
kull2019beyond
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from companion._validation import (as_choice, as_class_labels, as_class_scores, as_float_array, as_int,
                                  as_positive_float, as_typed_array, to_numpy)

__all__ = [
    "reliability_bins", "expected_calibration_error", "maximum_calibration_error", "Reliability",
    "reliability_diagram", "top_label", "temperature_scale", "expected_report_losses", "optimal_reports",
    "brier_score", "classwise_calibration_error", "region_of_interest",
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
    k = as_typed_array(correct, "correct", "biuf", "an array of 0/1 or bool")
    if k.size != c.size:
        raise ValueError(f"correct: expected {c.size} entries (one per confidence), got shape {k.shape}")
    k = k.ravel().astype(np.float64)
    if not np.all((k == 0) | (k == 1)):
        raise ValueError(f"correct: expected 0/1 or bool values, got {k[(k != 0) & (k != 1)][0]}")
    return c, k


def _as_probs(probs: Any, *, min_classes: int = 1) -> np.ndarray:
    """Probabilities ``(N, K, *S)`` in [0, 1] with at least `min_classes` classes."""
    p = as_class_scores(probs, "probs", min_dims=2)
    if p.shape[1] < min_classes:
        raise ValueError(f"probs: expected (N, K, *S) with K >= {min_classes} classes on axis 1, got shape {p.shape}")
    if not np.all((p >= 0) & (p <= 1)):  # also refuses nan
        raise ValueError("probs: expected probabilities in [0, 1] (apply softmax to logits first)")
    return p


def _as_probs_target(probs: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities ``(N, K >= 2, *S)`` in [0, 1] and integer labels ``(N, *S)`` in ``[0, K)``."""
    p = _as_probs(probs, min_classes=2)
    if p.size == 0:
        raise ValueError(f"probs: expected at least one voxel, got shape {p.shape}")
    return p, as_class_labels(target, p, scores_name="probs")


def _as_mask(mask: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    if mask is None:
        return None
    m = np.asarray(to_numpy(mask))
    if m.dtype != np.bool_:
        raise TypeError(f"mask: expected a boolean array, got dtype {m.dtype}")
    if m.shape != shape:
        raise ValueError(f"mask: expected shape {shape} = (N, *S), got {m.shape}")
    if not m.any():
        raise ValueError("mask: expected at least one selected voxel, got none")
    return m


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


def top_label(probs: Any, target: Any, *, mask: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-label confidence and correctness of every voxel of a softmax output.

    ``confidence_i = max_k p_ik`` and ``correct_i = [argmax_k p_ik == y_i]``, flattened over
    N and the spatial axes: the input of :func:`reliability_bins` for a segmentation.

    Parameters
    ----------
    probs : ndarray of float
        Softmax probabilities (not logits).
    target : ndarray of int
        Labels in ``[0, K)``.
    mask : ndarray of bool, optional
        Keep only the voxels where `mask` is True (e.g. :func:`region_of_interest`).

    Returns
    -------
    (ndarray of float, ndarray of bool)
        Confidence and correctness of every (selected) voxel.

    Shapes
    ------
    probs : (N, K, *S);  target, mask : (N, *S);  results : (N·S,) or (mask.sum(),)

    Raises
    ------
    TypeError, ValueError
        As :func:`companion.losses.cross_entropy` for `target`; `probs` outside ``[0, 1]``;
        a `mask` that is not boolean, has another shape or selects nothing.
    """
    p = _as_probs(probs)
    t = as_class_labels(target, p, scores_name="probs")
    m = _as_mask(mask, t.shape)
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == t
    if m is not None:
        return conf[m], correct[m]
    return conf.ravel(), correct.ravel()


def brier_score(probs: Any, target: Any) -> float:
    """Brier score ``mean over voxels of Σ_k (p_k - [y = k])²`` (Brier 1950).

    The squared distance between the predicted probability vector and the one-hot label,
    averaged over N and the spatial axes. Like cross-entropy it is a strictly proper scoring rule
    (its expectation is smallest when ``p`` is the true class distribution), but it is bounded
    (between 0 and 2) and needs no bins. It mixes calibration with sharpness: a calibrated model
    that cannot tell the classes apart still scores badly. For ``K = 2`` it is twice
    scikit-learn's ``brier_score_loss`` of the foreground probability.

    Parameters
    ----------
    probs : ndarray of float32 or float64
        Class probabilities in ``[0, 1]`` (softmax outputs), ``K >= 2`` classes on axis 1.
    target : ndarray of int
        Labels in ``[0, K)``.

    Returns
    -------
    float
        The mean Brier score, in ``[0, 2]``.

    Shapes
    ------
    probs : (N, K, *S);  target : (N, *S)

    Raises
    ------
    TypeError
        Non-numeric `probs` or non-integer `target`.
    ValueError
        `probs` not ``(N, K, *S)`` with ``K >= 2`` or outside ``[0, 1]``; `target` of another
        shape or with labels outside ``[0, K)``.

    References
    ----------
    brier1950verification

    Examples
    --------
    >>> p = np.array([[0.9, 0.4], [0.1, 0.6]])[None]   # (1, 2 classes, 2 voxels)
    >>> round(brier_score(p, np.array([[0, 0]])), 4)     # (0.01 + 0.01 + 0.36 + 0.36) / 2
    0.37
    """
    p, t = _as_probs_target(probs, target)
    onehot = np.moveaxis(np.eye(p.shape[1], dtype=np.float64)[t], -1, 1)
    return float(np.mean(np.sum((p.astype(np.float64) - onehot) ** 2, axis=1)))


def classwise_calibration_error(probs: Any, target: Any, n_bins: int = 15, *, mask: Any = None) -> float:
    """Class-wise ECE: the ECE of each class's probability ``p_k`` against ``[y = k]``, averaged over classes.

    ``cwECE = (1/K) Σ_k Σ_b (n_bk / n) |freq_bk - conf_bk|`` (Kull et al. 2019), with the bins of
    :func:`reliability_bins`. Unlike the top-label ECE it looks at every class's probability,
    including the small ones: a lesion probability of 0.3 that is right 60 % of the time counts
    even where the top label is background.

    Parameters
    ----------
    probs : ndarray of float32 or float64
        Class probabilities in ``[0, 1]``, ``K >= 2`` classes on axis 1.
    target : ndarray of int
        Labels in ``[0, K)``.
    n_bins : int, default 15
    mask : ndarray of bool, optional
        Only the voxels where `mask` is True (e.g. :func:`region_of_interest`).

    Returns
    -------
    float
        The class-wise ECE, in ``[0, 1]``.

    Shapes
    ------
    probs : (N, K, *S);  target, mask : (N, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`brier_score`; `n_bins` < 1; a bad `mask` as in :func:`top_label`.

    References
    ----------
    kull2019beyond

    Examples
    --------
    >>> p = np.array([[0.8, 0.8], [0.2, 0.2]])[None]    # background 0.8 at two voxels, one is lesion
    >>> round(classwise_calibration_error(p, np.array([[0, 1]]), n_bins=5), 4)   # both classes: |0.5 - 0.8|
    0.3
    """
    n_bins = as_int(n_bins, "n_bins", minimum=1)
    p, t = _as_probs_target(probs, target)
    m = _as_mask(mask, t.shape)
    sel = np.ones(t.shape, dtype=bool) if m is None else m
    return float(np.mean([expected_calibration_error(p[:, k][sel], t[sel] == k, n_bins)
                          for k in range(p.shape[1])]))


def region_of_interest(target: Any, prediction: Any = None, *, margin: int = 2) -> np.ndarray:
    """Voxels within `margin` voxels (chessboard distance) of the foreground of `target` or `prediction`.

    The foreground is every label ``> 0``; the region is its binary dilation by a
    ``(2·margin + 1)``-wide square (cube) in each image, taken for the reference and for the
    prediction and joined. Calibration errors over a whole image are dominated by easy background
    far from any structure, predicted correctly with confidence near 1; restricted to this region
    they measure the voxels where the network could be wrong.

    Parameters
    ----------
    target : ndarray of int
        Reference labels.
    prediction : ndarray of int, optional
        Predicted labels, same shape; its foreground is added to the region.
    margin : int, default 2
        Dilation radius in voxels (0: the foreground itself).

    Returns
    -------
    ndarray of bool
        The region.

    Shapes
    ------
    target, prediction, result : (N, *S)

    Raises
    ------
    TypeError
        Non-integer `target` or `prediction`.
    ValueError
        `target` with fewer than 2 dims, `prediction` of another shape, `margin` < 0.

    Examples
    --------
    >>> t = np.zeros((1, 5, 5), dtype=np.int64); t[0, 2, 2] = 1
    >>> region_of_interest(t, margin=1)[0].astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    """
    margin = as_int(margin, "margin", minimum=0)
    arrays = []
    for name, a in (("target", target), ("prediction", prediction)):
        if a is None:
            continue
        arrays.append(as_typed_array(a, name, "iub", "an integer label array"))
    if arrays[0].ndim < 2:
        raise ValueError(f"target: expected (N, *S) with at least 2 dims, got shape {arrays[0].shape}")
    if len(arrays) == 2 and arrays[1].shape != arrays[0].shape:
        raise ValueError(f"prediction: expected shape {arrays[0].shape} (same as target), got {arrays[1].shape}")
    fg = np.zeros(arrays[0].shape, dtype=bool)
    for a in arrays:
        fg |= a > 0
    out = fg.copy()
    # dilation by a (2m+1)-wide box, one spatial axis at a time (separable): shifted ORs, no wrap-around
    for axis in range(1, fg.ndim):
        grown = out.copy()
        n = out.shape[axis]
        for d in range(1, min(margin, n - 1) + 1):
            lo = [slice(None)] * out.ndim
            hi = [slice(None)] * out.ndim
            lo[axis], hi[axis] = slice(0, n - d), slice(d, n)
            grown[tuple(lo)] |= out[tuple(hi)]
            grown[tuple(hi)] |= out[tuple(lo)]
        out = grown
    return out


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
    as_choice(loss, "loss", ("dice", "ce"), expected="'dice' or 'ce'")
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
