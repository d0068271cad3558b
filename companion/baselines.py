"""Classical segmentation baselines: the best global threshold, and a smoothed threshold.

Before a network earns its parameters it has to beat what needs none. The simplest segmenter
labels every pixel brighter than a threshold ``t`` as foreground; choosing ``t`` on the training
images (the value that maximises their mean foreground Dice) and applying it, unchanged, to
held-out images is the honest baseline. Smoothing first (a Gaussian of standard deviation
``sigma`` pixels, `scipy.ndimage.gaussian_filter`) trades noise for blurred edges.

================================  ==============================================================
``best_global_threshold``         the threshold maximising mean foreground Dice over training images
``threshold_segment``             (optionally smoothed) image > threshold, as an int64 mask
``threshold_dice_curve``          mean Dice of every candidate threshold (what the search maximises)
================================  ==============================================================

NumPy and SciPy only (no torch).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy import ndimage

from companion._validation import as_positive_float, as_real, to_numpy

__all__ = ["best_global_threshold", "threshold_dice_curve", "threshold_segment"]


def _as_image(a: Any, name: str) -> np.ndarray:
    a = to_numpy(a)  # a torch tensor, without importing torch
    a = np.asarray(a)
    if a.dtype.kind not in "fiu" or a.dtype == bool:
        raise TypeError(f"{name}: expected a real-valued image, got dtype {a.dtype}")
    if a.ndim < 1:
        raise ValueError(f"{name}: expected an image with at least 1 dim, got a scalar")
    return a.astype(np.float64)


def _as_stack(images: Any, masks: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if isinstance(images, (str, bytes)) or not hasattr(images, "__len__"):
        raise TypeError(f"images: expected a sequence or array of images, got {type(images).__name__}")
    if isinstance(masks, (str, bytes)) or not hasattr(masks, "__len__"):
        raise TypeError(f"masks: expected a sequence or array of masks, got {type(masks).__name__}")
    if len(images) == 0:
        raise ValueError("images: expected at least one image, got none")
    if len(images) != len(masks):
        raise ValueError(f"masks: expected one mask per image ({len(images)}), got {len(masks)}")
    ims, ms = [], []
    for i, (im, m) in enumerate(zip(images, masks)):
        im = _as_image(im, f"images[{i}]")
        m = to_numpy(m)  # a torch tensor, without importing torch
        m = np.asarray(m)
        if m.dtype.kind not in "biu":
            raise TypeError(f"masks[{i}]: expected an integer or boolean mask, got dtype {m.dtype}")
        if im.shape != m.shape:
            # accept a channel axis of 1 on the image, as segmentation_dataset's (1, H, W)
            if im.ndim == m.ndim + 1 and im.shape[0] == 1 and im.shape[1:] == m.shape:
                im = im[0]
            else:
                raise ValueError(f"masks[{i}]: expected the shape of images[{i}] {im.shape}, got {m.shape}")
        ims.append(im)
        ms.append(m != 0)
    return ims, ms


def threshold_segment(image: Any, threshold: float, *, sigma: float | Sequence[float] = 0.0) -> np.ndarray:
    """Foreground where the (optionally Gaussian-smoothed) image exceeds `threshold`.

    ``mask = (G_sigma * image) > threshold`` with ``G_sigma`` a Gaussian of standard deviation
    `sigma` pixels (``scipy.ndimage.gaussian_filter``, mode "reflect"); ``sigma = 0`` thresholds
    the raw image.

    Parameters
    ----------
    image : array_like of float (NumPy or torch)
        Any number of dims; a leading channel axis of 1 is smoothed like the rest, so drop it.
    threshold : float
        Strict lower bound of the foreground intensity.
    sigma : float or sequence of float, default 0.0
        Smoothing in pixels (per axis if a sequence), >= 0.

    Returns
    -------
    ndarray of int64
        1 = foreground, 0 = background.

    Shapes
    ------
    image, result : (*S)

    Raises
    ------
    TypeError
        If `image` is not real-valued or `threshold` not a number.
    ValueError
        If `sigma` is negative or `threshold` not finite.

    See Also
    --------
    best_global_threshold

    Examples
    --------
    >>> threshold_segment(np.array([0.1, 0.6, 0.9, 0.4]), 0.5)
    array([0, 1, 1, 0])
    """
    im = _as_image(image, "image")
    threshold = as_real(threshold, "threshold", expected="a number")
    sig = np.atleast_1d(np.asarray(sigma, dtype=np.float64))
    if np.any(sig < 0) or not np.all(np.isfinite(sig)):
        raise ValueError(f"sigma: expected >= 0, got {sigma}")
    if np.any(sig > 0):
        im = ndimage.gaussian_filter(im, sigma=sig if sig.size > 1 else float(sig[0]), mode="reflect")
    return (im > float(threshold)).astype(np.int64)


def threshold_dice_curve(images: Any, masks: Any, *, sigma: float = 0.0,
                         candidates: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean foreground Dice over the images of ``threshold_segment(image, t, sigma=sigma)``, per t.

    An image whose mask is empty and whose prediction is empty has Dice ``0/0``: it is left out of
    that threshold's mean (as :func:`companion.metrics.dice_score`); one with an empty mask but a
    non-empty prediction scores 0.

    Parameters
    ----------
    images, masks : sequence of arrays (or stacked arrays)
        Training images and their binary (or 0/1 integer) masks, paired; an image may carry a
        leading channel axis of 1.
    sigma : float, default 0.0
        Gaussian smoothing before thresholding, in pixels.
    candidates : array_like of float, optional
        Thresholds to score. Default: every distinct (smoothed) intensity, plus one value below
        the minimum -- the exact search, since Dice only changes when ``t`` crosses an intensity.

    Returns
    -------
    thresholds : ndarray of float64, sorted ascending
    mean_dice : ndarray of float64, same length (nan where every image is 0/0)

    Shapes
    ------
    images[i], masks[i] : (*S_i);  thresholds, mean_dice : (T,)

    Raises
    ------
    TypeError, ValueError
        For unpaired or mis-shaped inputs, naming the argument.
    """
    sigma = as_positive_float(sigma, "sigma", allow_zero=True)
    ims, ms = _as_stack(images, masks)
    if sigma > 0:
        ims = [ndimage.gaussian_filter(im, sigma=sigma, mode="reflect") for im in ims]
    if candidates is None:
        allv = np.unique(np.concatenate([im.ravel() for im in ims]))
        cand = np.concatenate([[allv[0] - 1.0], allv])
    else:
        cand = np.unique(np.asarray(candidates, dtype=np.float64).ravel())
        if cand.size == 0 or not np.all(np.isfinite(cand)):
            raise ValueError("candidates: expected at least one finite threshold")
    # For each image, counts as functions of t via sorted intensities (exact, O(P log P) each):
    # |P(t)| = #{v > t}, |P(t) & G| = #{v > t among foreground}.
    total = np.zeros(cand.size)
    count = np.zeros(cand.size)
    for im, m in zip(ims, ms):
        v = np.sort(im.ravel())
        vf = np.sort(im[m].ravel())
        n_pred = v.size - np.searchsorted(v, cand, side="right")
        inter = vf.size - np.searchsorted(vf, cand, side="right")
        denom = n_pred + vf.size
        ok = denom > 0
        total[ok] += 2.0 * inter[ok] / denom[ok]
        count += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return cand, mean


def best_global_threshold(images: Any, masks: Any, *, sigma: float = 0.0) -> float:
    """The single threshold maximising the mean foreground Dice over the training images.

    ``t* = argmax_t mean_i Dice(G_sigma * image_i > t, mask_i)``, searched exactly over every
    distinct intensity (Dice only changes when ``t`` crosses one); ties go to the lowest such
    ``t``, and the returned value is the midpoint between it and the next larger intensity, so
    that a held-out image is cut halfway between the two training levels. Choose it on training
    images and apply it unchanged to held-out ones with :func:`threshold_segment`.

    Parameters
    ----------
    images, masks : sequence of arrays (or stacked arrays)
        Training images and binary masks, paired; an image may carry a leading channel axis of 1
        (as ``segmentation_dataset`` items).
    sigma : float, default 0.0
        Gaussian smoothing (pixels) applied before thresholding, as in :func:`threshold_segment`.

    Returns
    -------
    float
        The threshold.

    Raises
    ------
    TypeError, ValueError
        For unpaired or mis-shaped inputs, or masks with no foreground anywhere (nothing to fit).

    See Also
    --------
    threshold_segment, threshold_dice_curve, companion.metrics.dice_score

    Examples
    --------
    >>> im = np.array([[0.1, 0.2, 0.7, 0.9]])
    >>> m = np.array([[0, 0, 1, 1]])
    >>> round(best_global_threshold([im], [m]), 6)    # halfway between 0.2 and 0.7
    0.45
    >>> threshold_segment(im, 0.45)
    array([[0, 0, 1, 1]])
    """
    t, d = threshold_dice_curve(images, masks, sigma=sigma)
    if np.all(np.isnan(d)) or not any(np.any(np.asarray(m) != 0) for m in
                                      (x.detach().cpu().numpy() if hasattr(x, "detach") else x for x in masks)):
        raise ValueError("masks: expected some foreground to fit a threshold to, got only background")
    i = int(np.nanargmax(d))
    upper = t[i + 1] if i + 1 < t.size else t[i] + 1.0
    return float(0.5 * (t[i] + upper))
