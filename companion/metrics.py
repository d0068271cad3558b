"""Segmentation metrics: hard Dice per class, and boundary metrics (surfaces, HD95, boundary F1).

`dice_score` is the per-class hard Dice the whole book uses (``companion.train.dice_score`` is the
same function object); `mean_foreground_dice` averages it over the foreground classes and, with
``per_image=True``, over the images of a batch, as :func:`companion.train.fit` scores validation.

Dice counts overlapping pixels, so a thin error along a large boundary barely moves it. Boundary
metrics look only at the outlines: the *surface* of a mask is its set of foreground pixels with a
background neighbour, ``S(A) = A \\ erode(A)``; the distance from a surface pixel of one mask to the
other mask's surface comes from a Euclidean distance transform (`scipy.ndimage`), in physical
units when a `spacing` is given.

NumPy and SciPy only (no torch).

References: huttenlocher1993hausdorff, taha2015metrics.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy import ndimage

from companion._validation import as_int, as_positive_float, to_numpy

__all__ = ["dice_score", "mean_foreground_dice", "surface", "surface_distances", "hausdorff_distance",
           "boundary_f1"]


def _as_mask(a: Any, name: str) -> np.ndarray:
    a = to_numpy(a)  # a torch tensor, without importing torch
    a = np.asarray(a)
    if a.dtype.kind not in "biu":
        raise TypeError(f"{name}: expected a boolean or integer mask, got dtype {a.dtype}")
    if a.ndim < 1:
        raise ValueError(f"{name}: expected at least 1 dim, got a scalar")
    return a != 0


def _pair(pred: Any, target: Any, spacing: Sequence[float] | None) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    p, g = _as_mask(pred, "pred"), _as_mask(target, "target")
    if p.shape != g.shape:
        raise ValueError(f"target: expected the shape of pred {p.shape}, got {g.shape}")
    if spacing is None:
        sp = (1.0,) * p.ndim
    else:
        sp = tuple(as_positive_float(s, "spacing") for s in np.atleast_1d(spacing))
        if len(sp) == 1:
            sp = sp * p.ndim
        if len(sp) != p.ndim:
            raise ValueError(f"spacing: expected 1 or {p.ndim} values (one per axis), got {len(sp)}")
    return p, g, sp


def _label_map(a: Any, name: str, num_classes: int) -> np.ndarray:
    a = to_numpy(a)  # a torch tensor, without importing torch
    a = np.asarray(a)
    if a.dtype.kind not in "biu":
        raise TypeError(f"{name}: expected an integer label map, got dtype {a.dtype}")
    a = a.astype(np.int64)
    if a.size and (a.min() < 0 or a.max() >= num_classes):
        raise ValueError(f"{name}: expected labels in [0, {num_classes}), got values in [{a.min()}, {a.max()}]")
    return a


# --------------------------------------------------------------------------- Dice
def dice_score(pred: Any, target: Any, num_classes: int, *, include_background: bool = False) -> np.ndarray:
    """Hard Dice per class between two integer label maps.

    ``dice_k = 2 |P_k ∩ G_k| / (|P_k| + |G_k|)`` with ``P_k = {pred == k}``, ``G_k = {target == k}``,
    counted over every element of the arrays (a batch is pooled: call it per image for per-image
    scores, or use :func:`mean_foreground_dice` with ``per_image=True``). A class absent from both
    maps has ``0/0``: it is scored ``nan`` (never 0 or 1), so ``np.nanmean`` leaves it out. A class
    absent from the target but predicted scores 0.

    ``companion.train.dice_score`` is this same function.

    Parameters
    ----------
    pred, target : array_like of int (NumPy or torch)
        Label maps of the same shape, values in ``[0, num_classes)``.
    num_classes : int
        Number of classes K (>= 2 unless `include_background`).
    include_background : bool, default False
        Include class 0.

    Returns
    -------
    ndarray of float64
        Length ``K - 1`` (classes 1..K-1) or ``K`` with the background.

    Shapes
    ------
    pred, target : any shape, equal;  result : (K - 1,) or (K,)

    Raises
    ------
    TypeError
        If a map is not an integer (or bool) array.
    ValueError
        If shapes differ, a label is outside ``[0, K)`` or `num_classes` is too small.

    References
    ----------
    milletari2016vnet

    Examples
    --------
    >>> dice_score(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), 3)
    array([0.66666667,        nan])
    """
    num_classes = as_int(num_classes, "num_classes", minimum=1)
    if not include_background and num_classes < 2:
        raise ValueError(f"num_classes: expected >= 2 without the background, got {num_classes}")
    p = _label_map(pred, "pred", num_classes)
    g = _label_map(target, "target", num_classes)
    if p.shape != g.shape:
        raise ValueError(f"target: expected the shape of pred {p.shape}, got {g.shape}")
    first = 0 if include_background else 1
    n_pred = np.bincount(p.ravel(), minlength=num_classes)[first:].astype(np.float64)
    n_true = np.bincount(g.ravel(), minlength=num_classes)[first:].astype(np.float64)
    inter = np.bincount(p.ravel()[p.ravel() == g.ravel()], minlength=num_classes)[first:].astype(np.float64)
    denom = n_pred + n_true
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(denom > 0, 2 * inter / np.where(denom > 0, denom, 1), np.nan)
    return out


def mean_foreground_dice(pred: Any, target: Any, num_classes: int = 2, *, per_image: bool = False) -> float:
    """Mean hard Dice over the foreground classes present (classes 1..K-1), as one float.

    With ``per_image=False`` the maps are scored as one whole (a batch is pooled) and the result is
    ``nanmean(dice_score(pred, target, K))``. With ``per_image=True`` axis 0 indexes images: each
    image gets its per-class scores and the result is the mean over every (image, class) pair that
    is not ``nan`` — the validation score of :func:`companion.train.fit`.

    nan handling: a class absent from both prediction and truth in an image is ``nan`` in
    :func:`dice_score` and is left out of the mean (it counts neither as 0 nor as 1). A class
    absent from the truth but predicted scores 0 and is kept. If every entry is ``nan`` (no
    foreground anywhere, none predicted) the result is ``nan``, never a silent 0 or 1.

    Parameters
    ----------
    pred, target : array_like of int (NumPy or torch)
        Label maps of the same shape; with ``per_image=True`` of shape ``(N, *S)``.
    num_classes : int, default 2
        Number of classes K (>= 2).
    per_image : bool, default False
        Score each image along axis 0 separately, then average.

    Returns
    -------
    float
        In [0, 1], or nan when no foreground class is present in any image.

    Shapes
    ------
    pred, target : (*S) or, with per_image, (N, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`dice_score`; ValueError if ``per_image`` and the maps have no axis 0.

    Examples
    --------
    >>> t = np.array([[0, 1, 1, 0], [0, 0, 0, 0]])
    >>> p = np.array([[0, 1, 0, 0], [0, 0, 0, 0]])
    >>> round(mean_foreground_dice(p, t), 4)          # pooled: 2*1 / (1 + 2)
    0.6667
    >>> round(mean_foreground_dice(p, t, per_image=True), 4)   # image 2 is nan, left out
    0.6667
    >>> mean_foreground_dice(np.zeros(4, int), np.zeros(4, int))
    nan
    """
    num_classes = as_int(num_classes, "num_classes", minimum=2)
    if per_image:
        p = _label_map(pred, "pred", num_classes)
        g = _label_map(target, "target", num_classes)
        if p.ndim < 1:
            raise ValueError("pred: expected a batch (N, *S) with per_image=True, got a scalar")
        if p.shape != g.shape:
            raise ValueError(f"target: expected the shape of pred {p.shape}, got {g.shape}")
        scores = [dice_score(a, b, num_classes) for a, b in zip(p, g)]
        flat = np.concatenate(scores) if scores else np.array([np.nan])
    else:
        flat = dice_score(pred, target, num_classes)
    return float(np.nanmean(flat)) if np.any(~np.isnan(flat)) else float("nan")


# --------------------------------------------------------------------------- boundaries
def surface(mask: Any) -> np.ndarray:
    """Boolean surface of a mask: foreground pixels with a face-neighbour in the background.

    ``S(A) = A XOR binary_erosion(A)`` with the cross-shaped (face-connected) structuring element;
    pixels on the array border count as surface (the outside is background).

    Parameters
    ----------
    mask : array_like of bool or int
        Nonzero = foreground.

    Returns
    -------
    ndarray of bool

    Shapes
    ------
    mask : any shape with >= 1 dim;  result : the same

    Raises
    ------
    TypeError, ValueError
        For a float mask or a scalar.

    >>> surface(np.pad(np.ones((3, 3), int), 1)).astype(int)[1:4, 1:4]
    array([[1, 1, 1],
           [1, 0, 1],
           [1, 1, 1]])
    """
    a = _as_mask(mask, "mask")
    return a ^ ndimage.binary_erosion(a, border_value=0)


def surface_distances(pred: Any, target: Any, *, spacing: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distances from each surface pixel of one mask to the nearest surface pixel of the other.

    Returns ``(d_pred_to_target, d_target_to_pred)``, 1-D float64 arrays (in the units of
    `spacing`; pixels when None). Empty when the corresponding surface is empty; ``inf`` when the
    other surface is empty.

    Parameters
    ----------
    pred, target, spacing
        As in :func:`hausdorff_distance`.

    Shapes
    ------
    pred, target : same shape;  results : (|S_P|,) and (|S_G|,)

    Raises
    ------
    TypeError, ValueError
        As :func:`hausdorff_distance`.

    >>> a = np.zeros((6, 6), int); a[1:4, 1:4] = 1
    >>> [float(d.max()) for d in surface_distances(a, np.roll(a, 1, axis=1))]
    [1.0, 1.0]
    """
    p, g, sp = _pair(pred, target, spacing)
    sp_, sg = surface(p), surface(g)

    def directed(src, dst):
        if not src.any():
            return np.zeros(0)
        if not dst.any():
            return np.full(int(src.sum()), np.inf)
        return ndimage.distance_transform_edt(~dst, sampling=sp)[src]

    return directed(sp_, sg), directed(sg, sp_)


def hausdorff_distance(pred: Any, target: Any, *, percentile: float = 95.0,
                       spacing: Sequence[float] | None = None) -> float:
    """Symmetric (percentile) Hausdorff distance between the surfaces of two binary masks.

    ``HD_q = max(P_q{d(a, S_G) : a ∈ S_P}, P_q{d(b, S_P) : b ∈ S_G})``, with ``P_q`` the q-th
    percentile (q = 100 gives the classic Hausdorff distance, q = 95 the robust HD95), as in
    MONAI's ``compute_hausdorff_distance(percentile=q)``.

    Parameters
    ----------
    pred, target : array_like of bool or int
        Binary masks (nonzero = foreground) of the same shape, any number of dims.
    percentile : float in (0, 100], default 95
    spacing : sequence of float, optional
        Pixel size per axis, for a distance in millimetres.

    Returns
    -------
    float
        ``nan`` when both masks are empty, ``inf`` when exactly one is.

    Shapes
    ------
    pred, target : the same shape, (H, W) or (D, H, W) (any number of dims);  spacing : one per axis

    Raises
    ------
    TypeError
        If a mask is not boolean or integer.
    ValueError
        If shapes differ, or `percentile` or `spacing` are out of range.

    Examples
    --------
    >>> a = np.zeros((9, 9), int); a[2:5, 2:5] = 1
    >>> b = np.roll(a, 2, axis=1)
    >>> hausdorff_distance(a, b, percentile=100)
    2.0
    """
    p, g, sp = _pair(pred, target, spacing)
    q = as_positive_float(percentile, "percentile")
    if q > 100:
        raise ValueError(f"percentile: expected a number in (0, 100], got {q}")
    if not p.any() and not g.any():
        return float("nan")
    if not p.any() or not g.any():
        return float("inf")
    d1, d2 = surface_distances(p, g, spacing=sp)
    return float(max(np.percentile(d1, q), np.percentile(d2, q)))


def boundary_f1(pred: Any, target: Any, *, tolerance: float = 1.0, spacing: Sequence[float] | None = None) -> float:
    """Boundary F1: harmonic mean of boundary precision and recall within a distance `tolerance`.

    ``precision = |{a ∈ S_P : d(a, S_G) <= τ}| / |S_P|``, ``recall = |{b ∈ S_G : d(b, S_P) <= τ}| / |S_G|``,
    ``F1 = 2 P R / (P + R)`` (Csurka et al. 2013's BF score). ``nan`` when both masks are empty,
    0 when exactly one is.

    Parameters
    ----------
    pred, target : array_like of bool or int
        Binary masks of the same shape.
    tolerance : float, default 1.0
        Distance (in the units of `spacing`) within which a surface pixel counts as matched, >= 0.
    spacing : sequence of float, optional

    Returns
    -------
    float
        In ``[0, 1]``.

    Shapes
    ------
    pred, target : the same shape (any number of dims);  spacing : one per axis

    Raises
    ------
    TypeError, ValueError
        As :func:`hausdorff_distance`, and for a negative `tolerance`.

    >>> a = np.zeros((9, 9), int); a[2:6, 2:6] = 1
    >>> boundary_f1(a, a)
    1.0
    """
    p, g, sp = _pair(pred, target, spacing)
    tol = as_positive_float(tolerance, "tolerance", allow_zero=True)
    if not p.any() and not g.any():
        return float("nan")
    if not p.any() or not g.any():
        return 0.0
    d1, d2 = surface_distances(p, g, spacing=sp)
    precision, recall = float(np.mean(d1 <= tol)), float(np.mean(d2 <= tol))
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
