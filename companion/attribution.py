"""Scoring attribution maps where the truth is known, and comparing two maps (NumPy core).

An attribution map (saliency, SmoothGrad, Integrated Gradients, Grad-CAM, occlusion; computed by
:mod:`companion.explain`) gives every pixel of an image a number. When the image holds a lesion
whose mask we know — because we inserted it (:mod:`companion.lesions`) — two numbers say whether
the map points at it:

- :func:`pointing_game` — does the map's largest value lie on the lesion (within `tolerance`
  pixels)? Zhang et al. 2018; the mean over images is the pointing-game accuracy.
- :func:`attribution_inside` — the share of the map's positive mass that lies on the lesion
  (1 = all of it, the lesion's area fraction = no better than a uniform map).

:func:`map_similarity` compares two stacks of maps by Spearman rank correlation and SSIM, as in
the sanity checks of Adebayo et al. 2018 (a trained model's maps against those of a randomised
model); ``companion.explain.map_similarity`` is the same function.

NumPy and SciPy (scikit-image for SSIM) only: no torch.

References: zhang2018topdown, adebayo2018sanity.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from companion._validation import as_float_array, as_real

__all__ = ["pointing_game", "attribution_inside", "map_similarity"]


def _as_maps(attribution: Any, mask: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(N, H, W)`` float map and boolean mask (a single ``(H, W)`` pair gets N = 1), and whether it was single."""
    a = as_float_array(attribution, "attribution", ndim=(2, 3))
    m = np.asarray(mask.detach().cpu().numpy() if hasattr(mask, "detach") else mask)
    if m.dtype.kind not in "biu":
        raise TypeError(f"lesion_mask: expected a boolean or integer mask, got dtype {m.dtype}")
    if m.shape != a.shape:
        raise ValueError(f"lesion_mask: expected the shape of attribution {a.shape}, got {m.shape}")
    single = a.ndim == 2
    if single:
        a, m = a[None], m[None]
    if not np.all(np.isfinite(a)):
        raise ValueError("attribution: expected finite values, got nan or inf")
    return a, m != 0, single


def pointing_game(attribution: Any, lesion_mask: Any, *, tolerance: float = 0.0) -> np.ndarray | bool:
    """Pointing game: is the map's maximum on the lesion (or within `tolerance` pixels of it)?

    A hit when the pixel of largest attribution (the first in row-major order on ties) lies in
    the mask, or at a Euclidean distance of at most `tolerance` pixels from a mask pixel (Zhang
    et al. 2018 allow 15 pixels on 224-pixel images). An image without lesion pixels is a miss.
    The pointing-game accuracy of a method is the mean of the hits over images.

    Parameters
    ----------
    attribution : array_like of float
        One map ``(H, W)`` or a stack ``(N, H, W)``.
    lesion_mask : array_like of bool or int
        Same shape; nonzero = lesion (a label map of several lesions works too).
    tolerance : float, default 0
        Distance in pixels (>= 0).

    Returns
    -------
    bool or ndarray of bool
        A bool for one map, ``(N,)`` for a stack.

    Shapes
    ------
    attribution, lesion_mask : (H, W) or (N, H, W);  result : () or (N,)

    Raises
    ------
    TypeError
        If `attribution` is not numeric or `lesion_mask` not boolean/integer.
    ValueError
        If the shapes differ, a map holds nan or inf, or `tolerance` is negative.

    References
    ----------
    zhang2018topdown

    Examples
    --------
    >>> a = np.zeros((5, 5)); a[1, 3] = 2.0
    >>> m = np.zeros((5, 5), bool); m[2, 3] = True
    >>> pointing_game(a, m), pointing_game(a, m, tolerance=1)
    (False, True)
    """
    a, m, single = _as_maps(attribution, lesion_mask)
    tolerance = as_real(tolerance, "tolerance")
    if tolerance < 0:
        raise ValueError(f"tolerance: expected a distance >= 0 pixels, got {tolerance}")
    hits = np.zeros(len(a), bool)
    for i, (ai, mi) in enumerate(zip(a, m)):
        if not mi.any():
            continue
        r, c = np.unravel_index(int(np.argmax(ai)), ai.shape)
        if tolerance == 0:
            hits[i] = mi[r, c]
        else:
            rr, cc = np.nonzero(mi)
            hits[i] = np.min((rr - r) ** 2 + (cc - c) ** 2) <= tolerance ** 2
    return bool(hits[0]) if single else hits


def attribution_inside(attribution: Any, mask: Any) -> np.ndarray | float:
    """The share of the positive attribution that lies inside `mask`: ``Σ_M a⁺ / Σ a⁺``.

    ``a⁺ = max(a, 0)``; for an absolute map (saliency, Grad-CAM) that is all of it. A map that
    is spread uniformly scores the mask's area fraction, one that lies wholly on the mask scores
    1. A map without positive values has no share: nan.

    Parameters
    ----------
    attribution : array_like of float
        One map ``(H, W)`` or a stack ``(N, H, W)``.
    mask : array_like of bool or int
        Same shape; nonzero = inside.

    Returns
    -------
    float or ndarray of float64
        In ``[0, 1]`` (or nan), one per map.

    Shapes
    ------
    attribution, mask : (H, W) or (N, H, W);  result : () or (N,)

    Raises
    ------
    TypeError, ValueError
        As :func:`pointing_game`.

    Examples
    --------
    >>> a = np.array([[1.0, 3.0], [-2.0, 0.0]])
    >>> float(attribution_inside(a, np.array([[0, 1], [1, 0]])))   # 3 of the positive 4
    0.75
    """
    a, m, single = _as_maps(attribution, mask)
    pos = np.maximum(a.astype(np.float64), 0.0)
    total = pos.reshape(len(pos), -1).sum(1)
    inside = (pos * m).reshape(len(pos), -1).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, inside / np.where(total > 0, total, 1.0), np.nan)
    return float(share[0]) if single else share


def map_similarity(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Spearman rank correlation and SSIM between two stacks of maps, image by image.

    Adebayo et al. (2018) compare the map of the trained model with that of the randomised one:
    the Spearman rank correlation of the pixel values (``scipy.stats.spearmanr``; on absolute
    values, so a sign flip does not count as a change) and the structural similarity index
    (``skimage.metrics.structural_similarity``) of the absolute maps, each scaled by its own
    maximum into ``[0, 1]`` (``data_range=1``). High values: the map did not change when the
    weights did.

    Parameters
    ----------
    a, b : array_like of float
        Two stacks of 2-D maps of the same shape.

    Returns
    -------
    spearman, ssim : ndarray of float64, (N,)
        Per image; a constant map has no rank order: its Spearman value is nan.

    Shapes
    ------
    a, b : (N, H, W);  results : (N,)

    Raises
    ------
    TypeError
        If `a` or `b` are not numeric.
    ValueError
        If they are not 3-D or differ in shape, or a map is smaller than 7x7 (SSIM's window).

    References
    ----------
    adebayo2018sanity

    Examples
    --------
    >>> m = np.random.default_rng(0).random((2, 16, 16))
    >>> rho, ssim = map_similarity(m, 3 * m)
    >>> np.allclose(rho, 1), np.allclose(ssim, 1)
    (True, True)
    """
    from scipy.stats import spearmanr
    from skimage.metrics import structural_similarity

    x = np.abs(as_float_array(a, "a", ndim=3).astype(np.float64))
    y = np.abs(as_float_array(b, "b", ndim=3).astype(np.float64))
    if x.shape != y.shape:
        raise ValueError(f"b: expected the shape of a {x.shape}, got {y.shape}")
    if min(x.shape[1:]) < 7:
        raise ValueError(f"a: expected maps of at least 7x7 pixels (SSIM's window), got {x.shape[1:]}")
    rho, ssim = np.empty(len(x)), np.empty(len(x))
    for i, (u, v) in enumerate(zip(x, y)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant input: spearmanr warns and returns nan
            rho[i] = spearmanr(u.ravel(), v.ravel()).statistic
        un, vn = (w / w.max() if w.max() > 0 else w for w in (u, v))
        ssim[i] = structural_similarity(un, vn, data_range=1.0)
    return rho, ssim
