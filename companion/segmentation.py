"""Tissue segmentation of a real brain: honest slice splits, a Gaussian mixture on intensity, scores.

The chapter ``chap-segmentation`` segments the MNI152 template (:func:`companion.data.load_brain_tissue`)
into CSF, grey and white matter. This module holds its NumPy mechanisms:

================================  ==============================================================
``slab_split``                    test slab of consecutive slices, training slices beyond a gap
``random_slice_split``            the leaky alternative: test slices drawn at random
``nearest_slice_labels``          a pure memoriser: copy the labels of the nearest training slice
``fit_gmm_1d``                    a Gaussian mixture fitted to intensities by EM (the idea of
                                  SPM's and FSL-FAST's tissue classes); equal to scikit-learn's
                                  ``GaussianMixture`` started from the same parameters
``gmm_posteriors``                component probabilities of each intensity
``gmm_tissue_segment``            labels 1..K (by ascending mean) inside a mask, 0 outside
``threshold_tissues``             labels 1..K from K - 1 intensity thresholds inside a mask
``boundary_mask``                 voxels with a different label within a distance (partial volume)
``tissue_scores``                 Dice and HD95 of each tissue
================================  ==============================================================

NumPy and SciPy only (no torch).

References: ashburner2005unified, zhang2001fast.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np
from scipy import ndimage

from companion._validation import as_float_array, as_int, as_label_map, as_positive_float, to_numpy

__all__ = ["slab_split", "random_slice_split", "nearest_slice_labels", "GMMFit", "fit_gmm_1d",
           "gmm_posteriors", "gmm_tissue_segment", "threshold_tissues", "boundary_mask", "TissueScores",
           "tissue_scores"]


# --------------------------------------------------------------------------- checkers
def _as_slices(slices: Any, name: str = "slices") -> np.ndarray:
    s = np.asarray(to_numpy(slices))
    if s.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer slice indices, got dtype {s.dtype}")
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D array of slice indices, got shape {s.shape}")
    if np.any(np.diff(s) <= 0):
        raise ValueError(f"{name}: expected strictly increasing slice indices, got {s.tolist()}")
    return s.astype(np.int64)


def _as_mask(mask: Any, shape: tuple[int, ...], name: str = "mask") -> np.ndarray:
    return as_label_map(mask, shape, name) != 0


# --------------------------------------------------------------------------- splits
def slab_split(slices: Any, test_start: int, test_stop: int, *, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Split slice indices into a test slab and the training slices more than `gap` slices away.

    ``test = {s in slices : test_start <= s < test_stop}`` and
    ``train = {s in slices : min_t |s - t| > gap}``: the `gap` slices on each side of the slab are
    used by neither set, so no training slice is a near-copy of a test slice.

    Parameters
    ----------
    slices : 1-D array of int
        Candidate slice indices, strictly increasing (e.g. the axial slices that contain brain).
    test_start, test_stop : int
        The test slab is ``[test_start, test_stop)``.
    gap : int, >= 0
        Slices left out on each side of the slab.

    Returns
    -------
    train, test : ndarray of int64
        Sorted slice indices.

    Raises
    ------
    TypeError
        If `slices` is not an integer array or a bound is not an int.
    ValueError
        If the slab or the training set is empty, or `gap` is negative.

    Examples
    --------
    >>> train, test = slab_split(np.arange(10), 4, 6, gap=1)
    >>> train.tolist(), test.tolist()
    ([0, 1, 2, 7, 8, 9], [4, 5])
    """
    s = _as_slices(slices)
    lo, hi = as_int(test_start, "test_start"), as_int(test_stop, "test_stop")
    gap = as_int(gap, "gap", minimum=0)
    test = s[(s >= lo) & (s < hi)]
    if test.size == 0:
        raise ValueError(f"test_start: expected a slab [{lo}, {hi}) containing some of the slices, got none")
    dist = np.min(np.abs(s[:, None] - test[None, :]), axis=1)
    train = s[dist > gap]
    if train.size == 0:
        raise ValueError(f"gap: expected training slices to remain, got none with gap {gap}")
    return train, test


def random_slice_split(slices: Any, n_test: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The leaky split: `n_test` slices drawn at random (seeded), every other slice for training.

    A test slice's neighbours, one voxel away and nearly identical, usually land in the training
    set; :func:`slab_split` is the honest alternative.

    Parameters
    ----------
    slices : 1-D array of int
        Candidate slice indices, strictly increasing.
    n_test : int
        Number of test slices, ``1 <= n_test < len(slices)``.
    seed : int, default 0

    Returns
    -------
    train, test : ndarray of int64
        Sorted slice indices.

    Raises
    ------
    TypeError, ValueError
        Naming `slices`, `n_test` or `seed`.

    Examples
    --------
    >>> train, test = random_slice_split(np.arange(10), 3, seed=0)
    >>> len(train), len(test), sorted(set(train) | set(test)) == list(range(10))
    (7, 3, True)
    """
    s = _as_slices(slices)
    n_test = as_int(n_test, "n_test", minimum=1)
    if n_test >= s.size:
        raise ValueError(f"n_test: expected fewer than the {s.size} slices, got {n_test}")
    rng = np.random.default_rng(as_int(seed, "seed", minimum=0))
    pick = np.zeros(s.size, bool)
    pick[rng.choice(s.size, n_test, replace=False)] = True
    return s[~pick], s[pick]


def nearest_slice_labels(labels: Any, train: Any, test: Any) -> tuple[np.ndarray, np.ndarray]:
    """A pure memoriser: each test slice gets the labels of the nearest training slice.

    It learns nothing; its score measures how much a test slice resembles the training slices,
    i.e. how much a split leaks.

    Parameters
    ----------
    labels : ndarray of int, (D, H, W)
        The label volume; slices along axis 0.
    train, test : 1-D arrays of int
        Slice indices (strictly increasing). On a tie the lower training slice is used.

    Returns
    -------
    pred : ndarray of int, (len(test), H, W)
        The copied labels.
    distance : ndarray of int64, (len(test),)
        How many slices away each copied slice is.

    Raises
    ------
    TypeError, ValueError
        For a label volume that is not an integer 3-D array, or bad or out-of-range indices.

    Examples
    --------
    >>> vol = np.arange(5)[:, None, None] * np.ones((5, 2, 2), int)
    >>> pred, dist = nearest_slice_labels(vol, [0, 4], [1, 3])
    >>> pred[:, 0, 0].tolist(), dist.tolist()
    ([0, 4], [1, 1])
    """
    lab = np.asarray(to_numpy(labels))
    if lab.dtype.kind not in "biu":
        raise TypeError(f"labels: expected an integer label volume, got dtype {lab.dtype}")
    if lab.ndim != 3:
        raise ValueError(f"labels: expected 3 dims (D, H, W), got shape {lab.shape}")
    tr, te = _as_slices(train, "train"), _as_slices(test, "test")
    for name, s in (("train", tr), ("test", te)):
        if s[0] < 0 or s[-1] >= lab.shape[0]:
            raise ValueError(f"{name}: expected indices in [0, {lab.shape[0]}), got {s[0]}..{s[-1]}")
    d = np.abs(te[:, None] - tr[None, :])
    nearest = tr[np.argmin(d, axis=1)]
    return lab[nearest].copy(), d.min(axis=1)


# --------------------------------------------------------------------------- Gaussian mixture
class GMMFit(NamedTuple):
    """A 1-D Gaussian mixture, components sorted by ascending mean (what :func:`fit_gmm_1d` returns)."""

    weights: np.ndarray      # (K,) mixing proportions, sum 1
    means: np.ndarray        # (K,)
    variances: np.ndarray    # (K,)
    n_iter: int              # EM iterations run
    converged: bool
    log_likelihood: float    # mean log-likelihood per sample at the last E-step


def _log_gauss(x: np.ndarray, weights: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """``log w_k + log N(x | mu_k, var_k)``, shape (n, K)."""
    return (np.log(weights) - 0.5 * (np.log(2 * np.pi * variances)
                                     + (x[:, None] - means) ** 2 / variances))


def _e_step(x, w, m, v):
    lp = _log_gauss(x, w, m, v)
    norm = np.logaddexp.reduce(lp, axis=1)
    return float(norm.mean()), lp - norm[:, None]


def fit_gmm_1d(values: Any, n_components: int, *, init: tuple[Any, Any, Any] | None = None,
               max_iter: int = 100, tol: float = 1e-3, reg_covar: float = 1e-6) -> GMMFit:
    """Fit ``p(x) = Σ_k w_k N(x | μ_k, σ²_k)`` to intensities by expectation-maximisation.

    E-step: responsibilities ``r_ik = w_k N(x_i | μ_k, σ²_k) / p(x_i)`` (in log space). M-step:
    ``n_k = Σ_i r_ik``, ``w_k = n_k / n``, ``μ_k = Σ_i r_ik x_i / n_k``,
    ``σ²_k = Σ_i r_ik (x_i - μ_k)² / n_k + reg_covar``. Stops when the mean log-likelihood
    changes by less than `tol`. These are scikit-learn's ``GaussianMixture`` rules (its ``n_k``
    adds ``10 · eps``), so both give the same fit from the same start. By default the start is
    deterministic: means at the quantiles ``(k + ½) / K`` of the data, equal weights and
    variances ``var(x) / K²``.

    Parameters
    ----------
    values : array_like of float
        Intensities, any shape (flattened), e.g. ``t1[mask]``.
    n_components : int, >= 1
    init : (weights, means, variances), optional
        Starting parameters, each of length `n_components`.
    max_iter : int, default 100
    tol : float, default 1e-3
    reg_covar : float, default 1e-6
        Added to each variance (keeps a component from collapsing onto one value).

    Returns
    -------
    GMMFit
        Components sorted by ascending mean.

    Shapes
    ------
    values : (n,) or any;  weights, means, variances : (K,)

    Raises
    ------
    TypeError
        If `values` is not real-valued.
    ValueError
        If there are fewer values than components, a value is not finite, or an argument is out
        of range.

    References
    ----------
    ashburner2005unified, zhang2001fast

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(0.3, 0.05, 500), rng.normal(0.8, 0.05, 500)])
    >>> fit = fit_gmm_1d(x, 2)
    >>> np.round(fit.means, 2).tolist(), fit.converged
    ([0.3, 0.8], True)
    """
    x = as_float_array(values, "values").astype(np.float64).ravel()
    k = as_int(n_components, "n_components", minimum=1)
    if x.size < k:
        raise ValueError(f"values: expected at least n_components={k} values, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("values: expected finite intensities, got nan or inf")
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    tol = as_positive_float(tol, "tol", allow_zero=True)
    reg = as_positive_float(reg_covar, "reg_covar", allow_zero=True)
    if init is None:
        w = np.full(k, 1.0 / k)
        m = np.quantile(x, (np.arange(k) + 0.5) / k)
        v = np.full(k, x.var() / k**2 + reg)
    else:
        if len(init) != 3:
            raise ValueError(f"init: expected (weights, means, variances), got {len(init)} items")
        w, m, v = (as_float_array(a, f"init[{i}]", ndim=1).astype(np.float64) for i, a in enumerate(init))
        if not (w.size == m.size == v.size == k):
            raise ValueError(f"init: expected three arrays of length {k}, got {w.size}, {m.size}, {v.size}")
        if np.any(w <= 0) or np.any(v <= 0):
            raise ValueError("init: expected positive weights and variances")
        w = w / w.sum()
    lower, converged, it = -np.inf, False, 0
    tiny = 10 * np.finfo(np.float64).eps
    for it in range(1, max_iter + 1):
        prev = lower
        lower, log_r = _e_step(x, w, m, v)
        r = np.exp(log_r)
        nk = r.sum(axis=0) + tiny
        m = (r * x[:, None]).sum(axis=0) / nk
        v = (r * (x[:, None] - m) ** 2).sum(axis=0) / nk + reg
        w = nk / nk.sum()
        if abs(lower - prev) < tol:
            converged = True
            break
    order = np.argsort(m)
    return GMMFit(w[order], m[order], v[order], it, converged, float(lower))


def gmm_posteriors(fit: GMMFit, values: Any) -> np.ndarray:
    """Component probabilities ``p(k | x)`` of each value under a fitted mixture.

    Parameters
    ----------
    fit : GMMFit
    values : array_like of float, any shape (*S)

    Returns
    -------
    ndarray of float64, (*S, K)

    Raises
    ------
    TypeError
        If `fit` is not a :class:`GMMFit` or `values` not real-valued.

    Examples
    --------
    >>> fit = GMMFit(np.array([0.5, 0.5]), np.array([0.0, 1.0]), np.array([0.01, 0.01]), 1, True, 0.0)
    >>> np.round(gmm_posteriors(fit, [0.1, 0.5, 0.9]), 3).tolist()
    [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]
    """
    if not isinstance(fit, GMMFit):
        raise TypeError(f"fit: expected a GMMFit, got {type(fit).__name__}")
    x = as_float_array(values, "values").astype(np.float64)
    _, log_r = _e_step(x.ravel(), fit.weights, fit.means, fit.variances)
    return np.exp(log_r).reshape(x.shape + (len(fit.means),))


def gmm_tissue_segment(image: Any, mask: Any, fit: GMMFit) -> np.ndarray:
    """Label each voxel inside `mask` with its most probable component: 1..K by ascending mean.

    For a T1 image and K = 3 the labels are 1 CSF, 2 grey matter, 3 white matter (the book's
    :data:`companion.data.BRAIN_LABELS`). Outside the mask the label is 0.

    Parameters
    ----------
    image : array_like of float, (*S)
    mask : array_like of bool or int, (*S)
        Nonzero inside the brain.
    fit : GMMFit
        E.g. ``fit_gmm_1d(train_image[train_mask], 3)``.

    Returns
    -------
    ndarray of int64, (*S)

    Raises
    ------
    TypeError, ValueError
        Naming `image`, `mask` or `fit`.

    Examples
    --------
    >>> fit = GMMFit(np.array([0.5, 0.5]), np.array([0.2, 0.8]), np.array([0.01, 0.01]), 1, True, 0.0)
    >>> gmm_tissue_segment(np.array([0.0, 0.3, 0.7]), np.array([0, 1, 1]), fit).tolist()
    [0, 1, 2]
    """
    im = as_float_array(image, "image")
    m = _as_mask(mask, im.shape)
    out = np.zeros(im.shape, np.int64)
    if m.any():
        out[m] = 1 + np.argmax(gmm_posteriors(fit, im[m]), axis=1)
    return out


def threshold_tissues(image: Any, mask: Any, thresholds: Sequence[float]) -> np.ndarray:
    """Labels from intensity thresholds: ``1 + #{t in thresholds : x > t}`` inside `mask`, 0 outside.

    Parameters
    ----------
    image : array_like of float, (*S)
    mask : array_like of bool or int, (*S)
    thresholds : sequence of float
        Increasing; K - 1 thresholds give labels 1..K.

    Returns
    -------
    ndarray of int64, (*S)

    Raises
    ------
    TypeError, ValueError
        Naming `image`, `mask` or `thresholds` (empty, not finite or not increasing).

    Examples
    --------
    >>> threshold_tissues(np.array([0.1, 0.5, 0.9, 0.9]), np.array([1, 1, 1, 0]), [0.3, 0.7]).tolist()
    [1, 2, 3, 0]
    """
    im = as_float_array(image, "image")
    m = _as_mask(mask, im.shape)
    t = as_float_array(thresholds, "thresholds", ndim=1)
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError(f"thresholds: expected increasing finite numbers, got {t.tolist()}")
    out = 1 + np.sum(im[..., None] > t, axis=-1)
    return np.where(m, out, 0).astype(np.int64)


# --------------------------------------------------------------------------- scores
def boundary_mask(labels: Any, *, width: int = 1, axes: Sequence[int] | None = None) -> np.ndarray:
    """Voxels with a different label within `width` voxels (the box ``(2·width + 1)^n`` around them).

    ``boundary = max_filter(labels) != min_filter(labels)``: the voxels where tissues meet, where
    partial volume makes the reference labels themselves uncertain.

    Parameters
    ----------
    labels : array_like of int, (*S)
    width : int, default 1
    axes : sequence of int, optional
        Look only along these axes (e.g. ``(1, 2)``: in-plane, slice by slice); default all.

    Returns
    -------
    ndarray of bool, (*S)

    Raises
    ------
    TypeError, ValueError
        Naming `labels`, `width` or `axes`.

    Examples
    --------
    >>> boundary_mask(np.array([0, 0, 0, 1, 1, 1])).astype(int).tolist()
    [0, 0, 1, 1, 0, 0]
    """
    lab = np.asarray(to_numpy(labels))
    if lab.dtype.kind not in "biu":
        raise TypeError(f"labels: expected an integer label map, got dtype {lab.dtype}")
    w = as_int(width, "width", minimum=1)
    ax = tuple(range(lab.ndim)) if axes is None else tuple(as_int(a, "axes") for a in axes)
    if not ax or any(a < 0 or a >= lab.ndim for a in ax):
        raise ValueError(f"axes: expected axes in [0, {lab.ndim}), got {axes!r}")
    size = tuple(2 * w + 1 if a in ax else 1 for a in range(lab.ndim))
    lab = lab.astype(np.int64)
    return ndimage.maximum_filter(lab, size=size) != ndimage.minimum_filter(lab, size=size)


class TissueScores(NamedTuple):
    """Per-tissue scores (classes 1..K-1, what :func:`tissue_scores` returns)."""

    dice: np.ndarray   # (K - 1,)
    hd95: np.ndarray   # (K - 1,) in the units of `spacing`


def tissue_scores(pred: Any, target: Any, num_classes: int, *, spacing: Sequence[float] | None = None
                  ) -> TissueScores:
    """Hard Dice and 95th-percentile Hausdorff distance of each foreground class.

    :func:`companion.metrics.dice_score` and :func:`companion.metrics.hausdorff_distance` applied
    to ``pred == k`` and ``target == k`` for k = 1..K-1, over the whole array (a slab of slices
    is scored as one volume).

    Parameters
    ----------
    pred, target : array_like of int, same shape
    num_classes : int
    spacing : sequence of float, optional
        Voxel size per axis (mm) for the HD95.

    Returns
    -------
    TissueScores

    Raises
    ------
    TypeError, ValueError
        As :func:`companion.metrics.dice_score`.

    Examples
    --------
    >>> s = tissue_scores(np.array([[0, 1, 2, 2]]), np.array([[0, 1, 1, 2]]), 3)
    >>> np.round(s.dice, 3).tolist(), s.hd95.tolist()
    ([0.667, 0.667], [0.95, 0.95])
    """
    from companion.metrics import dice_score, hausdorff_distance

    d = dice_score(pred, target, num_classes)
    p, g = np.asarray(to_numpy(pred)), np.asarray(to_numpy(target))
    hd = np.array([hausdorff_distance(p == k, g == k, percentile=95, spacing=spacing)
                   for k in range(1, int(num_classes))])
    return TissueScores(d, hd)
