"""Boundary metrics for binary segmentations: surfaces, Hausdorff distance (HD95), boundary F1.

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

from companion._validation import as_positive_float

__all__ = ["surface", "surface_distances", "hausdorff_distance", "boundary_f1"]


def _as_mask(a: Any, name: str) -> np.ndarray:
    if hasattr(a, "detach") and hasattr(a, "numpy"):
        a = a.detach().cpu().numpy()
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
