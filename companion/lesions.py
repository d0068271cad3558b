"""Lesions with a known truth: insert them into real anatomy, then count which ones a detector finds.

A detector of small lesions is validated on images where the truth is known exactly. The
lesion-insertion technique takes real anatomy (a CT slice, an MR volume) and adds synthetic lesions
of chosen size and contrast at chosen places; every inserted lesion is then a true positive to
find, and everything else the detector marks is a false positive. Counting per lesion, not per
voxel, is what a radiologist cares about: a missed 3 mm metastasis costs the same whether it had
10 or 100 voxels.

================================  ==============================================================
``insert_lesions``                add soft-edged balls of known radius and contrast inside a region
``components``                    connected components of a mask (full connectivity), small ones dropped
``match_lesions``                 per-lesion hits, misses and false-positive components of one image
``froc``                          sensitivity against false positives per image over thresholds
================================  ==============================================================

A lesion of radius ``r`` centred at ``c`` adds ``contrast * s(x)`` to the image, with the
logistic edge profile ``s(x) = 1 / (1 + exp((|x - c| - r) / edge))``; its truth label is the set
``|x - c| <= r`` (where ``s >= 1/2``). Distances are in voxels.

NumPy and SciPy only (no torch).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np
from scipy import ndimage

from companion._validation import as_float_array, as_int, as_positive_float

__all__ = ["Detection", "FROC", "Insertion", "components", "froc", "insert_lesions", "match_lesions"]


class Insertion(NamedTuple):
    """What :func:`insert_lesions` returns."""

    image: np.ndarray    #: the image with the lesions added, same shape and float dtype as the input
    labels: np.ndarray   #: int64 map: 0 outside every lesion, k inside lesion k (1..n)
    centres: np.ndarray  #: (n, ndim) float64 voxel coordinates of the centres
    radii: np.ndarray    #: (n,) float64 radii in voxels


class Detection(NamedTuple):
    """Per-lesion counts of one image (what :func:`match_lesions` returns)."""

    n_lesions: int        #: lesions in the truth
    true_positives: int   #: lesions that some predicted component overlaps
    false_negatives: int  #: lesions that no predicted component overlaps
    false_positives: int  #: predicted components that overlap no lesion
    hit: np.ndarray       #: (n_lesions,) bool, in the order of the truth's label values


class FROC(NamedTuple):
    """A free-response operating characteristic (what :func:`froc` returns)."""

    thresholds: np.ndarray    #: (T,) the thresholds, as given
    sensitivity: np.ndarray   #: (T,) detected lesions / all lesions, over all images
    fp_per_image: np.ndarray  #: (T,) false-positive components per image


def _as_mask(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype != bool and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name}: expected a boolean or integer mask, got dtype {arr.dtype}")
    if arr.ndim not in (2, 3):
        raise ValueError(f"{name}: expected a 2-D or 3-D mask, got shape {arr.shape}")
    return arr


def _as_labels(labels: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    arr = _as_mask(labels, "labels")
    if arr.dtype == bool:
        raise TypeError("labels: expected an integer label map (0 = no lesion, k = lesion k), got bool")
    if np.any(arr < 0):
        raise ValueError("labels: expected non-negative lesion labels")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"labels: expected shape {shape} (the prediction's), got {arr.shape}")
    return arr


def insert_lesions(image: Any, region: Any, n_lesions: int, *, radius: float | tuple[float, float] = (2.0, 4.0),
                   contrast: float = 1.0, edge: float = 0.75, seed: int = 0) -> Insertion:
    """Add `n_lesions` soft-edged balls, each wholly inside `region`, none touching another.

    Radii are drawn uniformly from `radius` (a pair) or all equal `radius` (a number); each centre
    is drawn uniformly among the voxels whose distance to the outside of `region` is at least the
    radius and whose distance to every earlier centre leaves a gap of at least ``2 * edge + 1``
    voxels between the two balls.

    Parameters
    ----------
    image : array_like, shape (H, W) or (D, H, W)
        The anatomy, float. Not modified.
    region : array_like of bool, same shape
        Where lesions may lie (e.g. a white-matter mask).
    n_lesions : int
        How many lesions, >= 0.
    radius : float or (float, float), default (2.0, 4.0)
        The radius, or the range radii are drawn from, in voxels (> 0).
    contrast : float, default 1.0
        Intensity added at the centre of a large lesion, in the image's units (may be negative:
        a hypo-intense lesion).
    edge : float, default 0.75
        Width of the logistic edge in voxels (> 0): partial volume at the lesion's border.
    seed : int, default 0
        Seed of the generator that draws radii and centres.

    Returns
    -------
    Insertion
        ``image`` (same shape and float dtype), ``labels`` (int64, 0 / 1..n), ``centres``
        (n, ndim), ``radii`` (n,).

    Shapes
    ------
    image, region, Insertion.image, Insertion.labels : (H, W) or (D, H, W)

    Raises
    ------
    TypeError
        If `region` is not boolean or an argument has the wrong type.
    ValueError
        If the shapes differ, a number is out of range, or `region` has no room for
        `n_lesions` lesions of the drawn sizes.

    Examples
    --------
    >>> img = np.zeros((32, 32))
    >>> out = insert_lesions(img, np.ones((32, 32), bool), 2, radius=3.0, contrast=1.0, seed=0)
    >>> int(out.labels.max()), out.radii.tolist()
    (2, [3.0, 3.0])
    >>> bool(out.image.max() > 0.98), int((out.labels == 1).sum())
    (True, 29)
    """
    img = as_float_array(image, "image", ndim=(2, 3))
    reg = np.asarray(region)
    if reg.dtype != bool:
        raise TypeError(f"region: expected a boolean mask, got dtype {reg.dtype}")
    if reg.shape != img.shape:
        raise ValueError(f"region: expected the image's shape {img.shape}, got {reg.shape}")
    n = as_int(n_lesions, "n_lesions", minimum=0)
    if isinstance(radius, (tuple, list)):
        if len(radius) != 2:
            raise ValueError("radius: expected a number or a (low, high) pair")
        r_lo, r_hi = (as_positive_float(r, "radius") for r in radius)
        if r_hi < r_lo:
            raise ValueError(f"radius: expected low <= high, got {radius}")
    else:
        r_lo = r_hi = as_positive_float(radius, "radius")
    if isinstance(contrast, bool) or not isinstance(contrast, (int, float, np.floating, np.integer)) \
            or not np.isfinite(contrast):
        raise TypeError(f"contrast: expected a finite number, got {contrast!r}")
    edge = as_positive_float(edge, "edge")
    rng = np.random.default_rng(as_int(seed, "seed", minimum=0))

    depth = ndimage.distance_transform_edt(reg)          # distance to the outside of the region
    grid = np.indices(img.shape, dtype=np.float64).reshape(img.ndim, -1).T   # (voxels, ndim)
    room = depth.ravel()
    clear = np.full(room.shape, np.inf)        # distance from each voxel to the nearest lesion's rim
    centres: list[np.ndarray] = []
    radii: list[float] = []
    for k in range(n):
        r = float(rng.uniform(r_lo, r_hi)) if r_hi > r_lo else r_lo
        candidates = np.flatnonzero((room >= r) & (clear >= r + 2 * edge + 1))
        if candidates.size == 0:
            raise ValueError(f"region: room for only {k} lesion(s) of radius about {r:.1f}, "
                             f"n_lesions={n} requested")
        c = grid[candidates[rng.integers(candidates.size)]]
        clear = np.minimum(clear, np.linalg.norm(grid - c, axis=1) - r)
        centres.append(c)
        radii.append(r)

    out = img.copy()
    labels = np.zeros(img.shape, dtype=np.int64)
    for k, (c, r) in enumerate(zip(centres, radii), start=1):
        reach = r + 8 * edge                                        # the profile is < 5e-4 beyond
        lo = np.maximum(np.floor(c - reach).astype(int), 0)
        hi = np.minimum(np.ceil(c + reach).astype(int) + 1, img.shape)
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        coords = np.indices(hi - lo, dtype=np.float64) + lo.reshape(-1, *([1] * img.ndim))
        dist = np.sqrt(sum((coords[i] - c[i]) ** 2 for i in range(img.ndim)))
        out[box] += (contrast / (1.0 + np.exp((dist - r) / edge))).astype(out.dtype)
        labels[box][dist <= r] = k
    return Insertion(out, labels, np.array(centres, dtype=np.float64).reshape(n, img.ndim),
                     np.array(radii, dtype=np.float64))


def components(mask: Any, *, min_size: int = 1) -> np.ndarray:
    """Connected components of a mask (full connectivity: 8 in 2-D, 26 in 3-D).

    Components with fewer than `min_size` voxels are dropped; the others are numbered 1..m in
    the order of their first voxel (row-major).

    Parameters
    ----------
    mask : array_like of bool or int, shape (H, W) or (D, H, W)
        Non-zero voxels are foreground.
    min_size : int, default 1
        Smallest component kept, in voxels.

    Returns
    -------
    np.ndarray of int64, same shape
        0 = background, 1..m = components.

    Raises
    ------
    TypeError
        If `mask` is not boolean or integer.
    ValueError
        If `mask` is not 2-D or 3-D, or `min_size` < 1.

    Examples
    --------
    >>> m = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0], [1, 1, 0]], bool)
    >>> components(m).tolist()
    [[1, 0, 0], [0, 1, 0], [0, 0, 0], [2, 2, 0]]
    >>> components(m, min_size=3).max()
    np.int64(0)
    """
    arr = _as_mask(mask, "mask") != 0
    min_size = as_int(min_size, "min_size", minimum=1)
    labels, m = ndimage.label(arr, structure=np.ones((3,) * arr.ndim, dtype=bool))
    labels = labels.astype(np.int64)
    if min_size > 1 and m:
        sizes = np.bincount(labels.ravel(), minlength=m + 1)
        keep = sizes >= min_size
        keep[0] = False
        renumber = np.zeros(m + 1, dtype=np.int64)
        renumber[keep] = np.arange(1, keep.sum() + 1)
        labels = renumber[labels]
    return labels


def match_lesions(pred_mask: Any, labels: Any, *, min_size: int = 1) -> Detection:
    """Which lesions a predicted mask finds, and how many of its components are false alarms.

    A lesion counts as detected when at least one voxel of it is predicted; a predicted connected
    component (of at least `min_size` voxels) that touches no lesion is one false positive. A
    component that covers two lesions detects both.

    Parameters
    ----------
    pred_mask : array_like of bool or int, shape (H, W) or (D, H, W)
        The detector's mask (non-zero = lesion).
    labels : array_like of int, same shape
        The truth: 0 = none, one positive value per lesion (as :func:`insert_lesions` returns).
    min_size : int, default 1
        Predicted components smaller than this are ignored (neither hits nor false positives).

    Returns
    -------
    Detection

    Raises
    ------
    TypeError, ValueError
        If a mask has the wrong dtype or the shapes differ.

    Examples
    --------
    >>> truth = np.zeros((8, 8), int); truth[1:3, 1:3] = 1; truth[5:7, 5:7] = 2
    >>> pred = np.zeros((8, 8), bool); pred[2, 2] = True; pred[0, 7] = True
    >>> d = match_lesions(pred, truth)
    >>> d.true_positives, d.false_negatives, d.false_positives, d.hit.tolist()
    (1, 1, 1, [True, False])
    """
    comp = components(pred_mask, min_size=min_size)
    truth = _as_labels(labels, comp.shape)
    ids = np.unique(truth[truth > 0])
    detected = np.unique(truth[(comp > 0) & (truth > 0)])
    hit = np.isin(ids, detected)
    touching = np.unique(comp[(comp > 0) & (truth > 0)])
    n_comp = int(comp.max())
    tp = int(hit.sum())
    return Detection(int(ids.size), tp, int(ids.size) - tp, n_comp - int(touching.size), hit)


def froc(probabilities: Sequence[Any], labels: Sequence[Any], thresholds: Sequence[float], *,
         min_size: int = 1) -> FROC:
    """Sensitivity against false positives per image, for each threshold on the probabilities.

    At threshold ``t`` the predicted mask of image ``i`` is ``probabilities[i] >= t``; hits and
    false-positive components are counted by :func:`match_lesions` and pooled over the images:
    sensitivity = detected lesions / all lesions, and false positives are averaged per image.

    Parameters
    ----------
    probabilities : sequence of array_like, each (H, W) or (D, H, W)
        A lesion score map per image (or an array with the images along axis 0).
    labels : sequence of array_like of int
        The truth of each image, same shapes.
    thresholds : sequence of float
        The operating points.
    min_size : int, default 1
        Passed to :func:`match_lesions`.

    Returns
    -------
    FROC
        ``sensitivity`` is nan if the images hold no lesion at all.

    Raises
    ------
    ValueError
        If the numbers of images differ, no image or no threshold is given, or shapes differ.

    Examples
    --------
    >>> truth = np.zeros((8, 8), int); truth[2:4, 2:4] = 1
    >>> prob = np.zeros((8, 8)); prob[2:4, 2:4] = 0.9; prob[6, 6] = 0.5
    >>> f = froc([prob], [truth], [0.3, 0.7, 0.95])
    >>> f.sensitivity.tolist(), f.fp_per_image.tolist()
    ([1.0, 1.0, 0.0], [1.0, 0.0, 0.0])
    """
    probs = [as_float_array(p, "probabilities", ndim=(2, 3)) for p in probabilities]
    truths = [_as_labels(t) for t in labels]
    if not probs:
        raise ValueError("probabilities: expected at least one image")
    if len(truths) != len(probs):
        raise ValueError(f"labels: expected one label map per image ({len(probs)}), got {len(truths)}")
    for i, (p, t) in enumerate(zip(probs, truths)):
        if p.shape != t.shape:
            raise ValueError(f"labels: image {i} has shape {p.shape} but its labels {t.shape}")
    ts = as_float_array(thresholds, "thresholds", ndim=1)
    if ts.size == 0:
        raise ValueError("thresholds: expected at least one threshold")
    sens = np.empty(ts.size)
    fps = np.empty(ts.size)
    total = sum(np.unique(t[t > 0]).size for t in truths)
    for j, thr in enumerate(ts):
        found = false = 0
        for p, t in zip(probs, truths):
            d = match_lesions(p >= thr, t, min_size=min_size)
            found += d.true_positives
            false += d.false_positives
        sens[j] = found / total if total else np.nan
        fps[j] = false / len(probs)
    return FROC(ts, sens, fps)
