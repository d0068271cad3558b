"""Scoring attribution maps where the truth is known, and comparing two maps (NumPy core).

An attribution map (saliency, SmoothGrad, Integrated Gradients, Grad-CAM, occlusion; computed by
:mod:`companion.explain`) gives every pixel of an image a number. When the image holds a lesion
whose mask we know — because we inserted it (:mod:`companion.lesions`; :func:`lesion_patches`
builds such a set from a real T1 brain) — two numbers say whether the map points at it:

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
from dataclasses import dataclass
from typing import Any

import numpy as np

from companion._validation import as_float_array, as_real

__all__ = ["LesionPatches", "lesion_patches", "pointing_game", "attribution_inside", "map_similarity"]

TRAIN_SLICES = tuple(range(32, 50))   # axial slices (2 mm) of the MNI152 T1 for training ...
TEST_SLICES = tuple(range(53, 63))    # ... and for testing, 6 mm apart: no near-duplicate slices


@dataclass(frozen=True)
class LesionPatches:
    """A truth-known classification set: ``images (N, 1, S, S)`` float32, ``labels (N,)`` (1 = a
    lesion was inserted), ``lesions (N, S, S)`` bool (the inserted lesion's pixels; all False for a
    negative) and ``marker (N, S, S)`` bool (the pixels of the spurious tag; all False without)."""

    images: np.ndarray
    labels: np.ndarray
    lesions: np.ndarray
    marker: np.ndarray


def lesion_patches(n: int, *, size: int = 32, split: str = "train", contrast: float = -0.3,
                   radius: tuple[float, float] = (1.5, 3.0), noise: float = 0.03, marker: str = "none",
                   marker_size: int = 3, seed: int = 0) -> LesionPatches:
    """Patches of a real T1 brain (MNI152, 2 mm), half of them with one inserted white-matter lesion.

    Each patch is a ``size × size`` crop of an axial slice of :func:`companion.data.load_brain_tissue`
    (training slices 32–49 or test slices 53–62: `split`), centred on a random white-matter pixel
    at least ``radius[1] + 1`` pixels deep inside the white matter,
    flipped left–right at random. Exactly ``n // 2`` patches (chosen at random) get one lesion from
    :func:`companion.lesions.insert_lesions` inside the patch's white matter, with the given
    `contrast` (negative: darker than white matter, as a T1 "black hole") and `radius`; the label is
    1 for those and 0 for the others. Gaussian noise of standard deviation `noise` is added last.

    `marker` puts a bright square tag (value 1.0, ``marker_size`` pixels, in the top-left corner)
    on some patches: ``"positives"`` on every positive (a spurious cue perfectly correlated with
    the label, like a hospital's text tag or a ruler), ``"negatives"`` on every negative (the
    correlation reversed), ``"none"`` nowhere.

    Parameters
    ----------
    n : int
        Number of patches (>= 2).
    size : int, default 32
        Patch side in pixels (8 to 64, divisible by 4).
    split : {"train", "test"}
    contrast : float, default -0.3
    radius : (float, float), default (1.5, 3.0)
        Range of the lesion radius in pixels.
    noise : float, default 0.03
    marker : {"none", "positives", "negatives"}
    marker_size : int, default 3
    seed : int, default 0

    Returns
    -------
    LesionPatches

    Raises
    ------
    TypeError, ValueError
        Bad numbers or choices, naming the argument.

    Examples
    --------
    >>> d = lesion_patches(4, size=16, seed=1)            # doctest: +SKIP
    >>> d.images.shape, int(d.labels.sum()), bool(d.lesions[d.labels == 1].any())   # doctest: +SKIP
    ((4, 1, 16, 16), 2, True)
    """
    from scipy import ndimage

    from companion._validation import as_choice, as_int
    from companion.lesions import insert_lesions

    n = as_int(n, "n", minimum=2)
    size = as_int(size, "size", minimum=8)
    if size > 64 or size % 4:
        raise ValueError(f"size: expected a multiple of 4 between 8 and 64, got {size}")
    split = as_choice(split, "split", ("train", "test"))
    contrast = as_real(contrast, "contrast")
    noise = as_real(noise, "noise")
    if noise < 0:
        raise ValueError(f"noise: expected a standard deviation >= 0, got {noise}")
    marker = as_choice(marker, "marker", ("none", "positives", "negatives"))
    marker_size = as_int(marker_size, "marker_size", minimum=1)
    seed = as_int(seed, "seed", minimum=0)
    t1, tissue, _ = _brain()
    rng = np.random.default_rng(seed)
    slices = TRAIN_SLICES if split == "train" else TEST_SLICES
    half = size // 2
    labels = np.zeros(n, np.int64)
    labels[rng.permutation(n)[: n // 2]] = 1
    images = np.empty((n, 1, size, size), np.float32)
    lesions = np.zeros((n, size, size), bool)
    tags = np.zeros((n, size, size), bool)
    for i in range(n):
        d = int(rng.choice(slices))
        wm = tissue[d] == 3
        deep = ndimage.distance_transform_edt(wm) >= radius[1] + 1   # room for a lesion around the centre
        rows, cols = np.nonzero(deep[half:-half, half:-half])
        j = int(rng.integers(len(rows)))
        r, c = rows[j] + half, cols[j] + half
        crop = t1[d, r - half:r + half, c - half:c + half].astype(np.float64)
        region = wm[r - half:r + half, c - half:c + half]
        if rng.random() < 0.5:
            crop, region = crop[:, ::-1].copy(), region[:, ::-1].copy()
        if labels[i]:
            ins = insert_lesions(crop, region, 1, radius=tuple(radius), contrast=contrast,
                                 seed=int(rng.integers(2**31)))
            crop, lesions[i] = ins.image, ins.labels > 0
        crop = crop + rng.normal(0.0, noise, crop.shape) if noise > 0 else crop
        if (marker == "positives" and labels[i]) or (marker == "negatives" and not labels[i]):
            crop[:marker_size, :marker_size] = 1.0
            tags[i, :marker_size, :marker_size] = True
        images[i, 0] = crop
    return LesionPatches(images, labels, lesions, tags)


_BRAIN: list = []


def _brain() -> tuple:
    """The MNI152 T1 and tissue labels at 2 mm, loaded once per process (about 3 s)."""
    if not _BRAIN:
        from companion.data import load_brain_tissue

        _BRAIN.append(load_brain_tissue(2))
    return _BRAIN[0]


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
