"""CT display windows: Hounsfield units to grey levels (window / level).

A CT slice holds Hounsfield units (HU) from about -1000 (air) to above +1000 (dense bone), far
more levels than a screen or the eye separates. A *window* picks the HU interval to show: its
*center* (the "level", L) and its *width* (W). Values below ``L - W/2`` are black, values above
``L + W/2`` white, and the interval between is mapped linearly onto ``[0, 1]``. The same CT
slice read with a lung window and with a bone window shows different anatomy, so every CT figure
of the book states its window.

The mapping is the DICOM standard's VOI LUT function (PS3.3 C.11.2.1.2): ``"linear_exact"``
(C.11.2.1.3.2) is the plain formula ``(hu - (L - W/2)) / W``, ``"linear"`` (C.11.2.1.2.1) the
historical variant with ``L - 0.5`` and ``W - 1`` that most viewers and pydicom use by default.
For the windows below (W >= 80 HU) the two differ by less than 1.3 % of the grey range.

This module is a NumPy core: it imports neither torch nor matplotlib.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion._validation import as_choice, as_float_array, as_int, as_label_map, as_positive_float, as_real

__all__ = ["WINDOWS", "window", "apply_window", "window_bounds"]

#: Named CT windows as ``(center, width)`` in HU, the usual radiology presets
#: (Radiopaedia, "Windowing (CT)": ``radiopaedia_windowing`` in the book's references; the mapping
#: itself is DICOM PS3.3 C.11.2, ``dicom_ps3_3``). "soft tissue" and "abdomen" are the same preset.
WINDOWS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "soft tissue": (40.0, 400.0),
    "abdomen": (40.0, 400.0),
    "mediastinum": (50.0, 350.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
}

_FUNCTIONS = ("linear_exact", "linear")


def _check_window(center: Any, width: Any, function: Any) -> tuple[float, float, str]:
    center = as_real(center, "center", expected="a number (HU)")
    width = as_positive_float(width, "width")
    as_choice(function, "function", _FUNCTIONS)
    if function == "linear" and width < 1:
        raise ValueError(f"width: expected >= 1 for the 'linear' function, got {width}")
    return center, width, function


def window_bounds(*, center: float, width: float) -> tuple[float, float]:
    """The HU interval a window shows: ``(center - width/2, center + width/2)``.

    Parameters
    ----------
    center : float
        Window center (level) in HU.
    width : float
        Window width in HU, > 0.

    Returns
    -------
    tuple of 2 floats
        ``(lo, hi)``: values ``<= lo`` are shown black, values ``> hi`` white.

    Raises
    ------
    TypeError
        If `center` is not a number.
    ValueError
        If `width` is not positive.

    Examples
    --------
    >>> window_bounds(center=-600, width=1500)
    (-1350.0, 150.0)
    """
    center, width, _ = _check_window(center, width, "linear_exact")
    return center - width / 2, center + width / 2


def window(hu: Any, *, center: float, width: float, function: str = "linear_exact") -> np.ndarray:
    """Map Hounsfield units to display grey levels in ``[0, 1]`` with a window (level, width).

    ``"linear_exact"`` (default, DICOM PS3.3 C.11.2.1.3.2)::

        y = 0                                  if hu <= center - width/2
        y = 1                                  if hu >  center + width/2
        y = (hu - center) / width + 0.5        otherwise

    ``"linear"`` (DICOM PS3.3 C.11.2.1.2.1, pydicom's default) is the same with ``center - 0.5``
    and ``width - 1`` in place of ``center`` and ``width``.

    Parameters
    ----------
    hu : array_like
        Values in Hounsfield units (any shape); integer input is read as float64.
    center : float
        Window center ("level") in HU, keyword-only.
    width : float
        Window width in HU, > 0 (>= 1 for ``"linear"``), keyword-only.
    function : {"linear_exact", "linear"}, default "linear_exact"
        The DICOM VOI LUT function.

    Returns
    -------
    ndarray
        Grey levels in ``[0, 1]``, same shape as `hu`; float32 stays float32, else float64.
        `hu` is not modified.

    Shapes
    ------
    hu : any;  result : same as `hu`

    Raises
    ------
    TypeError
        If `hu` is not numeric or `center` is not a number.
    ValueError
        If `width` is not positive, or `function` is unknown.

    See Also
    --------
    apply_window : the same with a named preset from `WINDOWS`.

    References
    ----------
    DICOM PS3.3, C.11.2.1.2 (``dicom_ps3_3``); window values: ``radiopaedia_windowing``.

    Examples
    --------
    >>> window([-1000.0, -600.0, 0.0, 200.0], center=-600, width=1500).round(4)
    array([0.2333, 0.5   , 0.9   , 1.    ])
    """
    center, width, function = _check_window(center, width, function)
    x = as_float_array(hu, "hu")
    if function == "linear":
        center, width = center - 0.5, width - 1.0
    if width == 0:  # "linear" with width 1: a threshold at center - 0.5
        return (x > center).astype(x.dtype)
    y = (x - x.dtype.type(center)) / x.dtype.type(width) + x.dtype.type(0.5)
    return np.clip(y, 0, 1).astype(x.dtype, copy=False)


def apply_window(hu: Any, preset: str | tuple[float, float], *, function: str = "linear_exact") -> np.ndarray:
    """Window `hu` with a named preset of `WINDOWS` (or an explicit ``(center, width)`` pair).

    Parameters
    ----------
    hu : array_like
        Values in Hounsfield units.
    preset : str or tuple of 2 floats
        A key of `WINDOWS` ("lung", "soft tissue", "abdomen", "mediastinum", "bone", "brain"),
        or ``(center, width)`` in HU.
    function : {"linear_exact", "linear"}, default "linear_exact"
        See `window`.

    Returns
    -------
    ndarray
        Grey levels in ``[0, 1]``, same shape as `hu`.

    Shapes
    ------
    hu : any;  result : same as `hu`

    Raises
    ------
    ValueError
        If `preset` is a name not in `WINDOWS` (the message lists them).
    TypeError
        If `preset` is neither a string nor a pair.

    Examples
    --------
    >>> apply_window([-1000.0, 40.0, 1000.0], "soft tissue").round(3)
    array([0. , 0.5, 1. ])
    >>> apply_window([0.0], (0, 100)).tolist()
    [0.5]
    """
    if isinstance(preset, str):
        as_choice(preset, "preset", sorted(WINDOWS))
        center, width = WINDOWS[preset]
    elif isinstance(preset, (tuple, list)) and len(preset) == 2:
        center, width = preset
    else:
        raise TypeError(f"preset: expected a name in WINDOWS or a (center, width) pair, "
                        f"got {type(preset).__name__}")
    return window(hu, center=center, width=width, function=function)


# =============================================================================================
# Intensity shifts between scanners, and the normalisations and augmentations against them
# (chapter chap-deployment). NumPy (SciPy for blur and zoom) only.
# =============================================================================================
#
# * :func:`zscore` — per-image z-score (nnU-Net's scheme for MR): undoes any positive gain and
#   offset exactly.
# * :class:`CTNormalisation`, :func:`ct_normalisation_stats`, :func:`ct_normalise` — nnU-Net's
#   scheme for CT: one percentile clip (0.5 %, 99.5 %) and one mean / standard deviation for the
#   whole training set, taken over its foreground voxels. HU are physical, so every image is
#   normalised with the same numbers.
# * :func:`bias_field`, :func:`random_bias_field` — MR's smooth multiplicative intensity
#   inhomogeneity, ``x' = x exp(f)`` with ``f`` a sum of products of Legendre polynomials
#   (MONAI's ``RandBiasField``).
# * :func:`shift_image` and ``SHIFTS`` — one phantom as another scanner or protocol delivers it.
# * :func:`random_flip`, :func:`scale_intensity`, :func:`add_noise`, :func:`gaussian_blur`,
#   :func:`augment` — training-time augmentation (nnU-Net's flips, brightness, noise, blur).
#
# References: isensee2021nnunet (normalisation and augmentation), tustison2010n4itk (bias field).

import numbers as _numbers
from typing import NamedTuple as _NamedTuple

__all__ += ["zscore", "CTNormalisation", "ct_normalisation_stats", "ct_normalise", "bias_field",
            "random_bias_field", "SHIFTS", "shift_image", "random_flip", "scale_intensity", "add_noise",
            "gaussian_blur", "augment"]

#: The shifts of :func:`shift_image`, in the order the chapter shows them.
SHIFTS = ("gain", "bias", "noise", "blur", "spacing")


def _as_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (_numbers.Integral, np.integer)) or int(seed) < 0:
        raise ValueError(f"seed: expected an int >= 0, got {seed!r}")
    return int(seed)


def _as_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return rng


def _as_strength(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (_numbers.Real, np.floating)) or not 0 <= float(v) <= 1:
        raise ValueError(f"strength: expected a number in [0, 1], got {v!r}")
    return float(v)


# --------------------------------------------------------------------------- normalisation
def zscore(image: Any, eps: float = 1e-8) -> np.ndarray:
    """Per-image z-score normalisation: ``(x - mean(x)) / (std(x) + eps)``.

    Undoes every positive affine intensity change exactly (up to `eps` and rounding):
    ``zscore(a x + b) = zscore(x)`` for ``a > 0``. nnU-Net normalises MR images this way, one
    image at a time (CT uses fixed, dataset-wide statistics instead: :func:`ct_normalise`).

    Parameters
    ----------
    image : array_like of float
        Statistics over all of it (population standard deviation).
    eps : float, default 1e-8

    Returns
    -------
    ndarray
        Same shape, dtype kept (integers become float64).

    Shapes
    ------
    image : any shape;  result : the same

    Raises
    ------
    TypeError
        If `image` is not numeric.
    ValueError
        If `image` is empty.

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0, 3.0])
    >>> np.allclose(zscore(3 * x + 7), zscore(x))
    True
    """
    x = as_float_array(image, "image")
    if x.size == 0:
        raise ValueError("image: expected at least one pixel, got an empty array")
    return ((x - x.mean()) / (x.std() + eps)).astype(x.dtype, copy=False)


class CTNormalisation(_NamedTuple):
    """Dataset-level CT normalisation parameters (nnU-Net's ``CTNormalization``), in HU."""

    lower: float  # 0.5th percentile of the foreground voxels of the training set
    upper: float  # 99.5th percentile
    mean: float   # mean of the foreground voxels (before clipping, as nnU-Net)
    std: float    # their population standard deviation


def ct_normalisation_stats(images: Any, masks: Any = None, *, percentiles: tuple[float, float] = (0.5, 99.5)
                           ) -> CTNormalisation:
    """The statistics nnU-Net's CT normalisation takes from the training set.

    All foreground voxels of all training images are pooled (``masks``; every voxel when
    None): their `percentiles` give the clip range, their mean and standard deviation the
    z-score. One set of numbers for the whole dataset, because Hounsfield units mean the same
    on every calibrated scanner; a per-image z-score would map the same tissue to different
    values depending on what else is in the field of view.

    Parameters
    ----------
    images : sequence of array_like
        Training images in HU, any shapes.
    masks : sequence of array_like of bool or int, optional
        Foreground (non-zero) per image, shapes as `images`.
    percentiles : (float, float), default (0.5, 99.5)
        Lower and upper clip percentiles, ``0 <= lower < upper <= 100``.

    Returns
    -------
    CTNormalisation
        ``(lower, upper, mean, std)`` as floats.

    Shapes
    ------
    images[i], masks[i] : any, equal per i

    Raises
    ------
    TypeError
        If an image is not numeric, or a mask not boolean/integer.
    ValueError
        If there are no images, the masks do not match, no foreground voxel is left, or the
        percentiles are out of order.

    References
    ----------
    isensee2021nnunet

    Examples
    --------
    >>> s = ct_normalisation_stats([np.arange(-100.0, 101.0)], percentiles=(0, 100))
    >>> s.lower, s.upper, s.mean
    (-100.0, 100.0, 0.0)
    """
    if isinstance(images, np.ndarray) or not hasattr(images, "__len__") or len(images) == 0:
        raise ValueError("images: expected a non-empty sequence of arrays, one per training image")
    if masks is not None and (not hasattr(masks, "__len__") or len(masks) != len(images)):
        raise ValueError(f"masks: expected one mask per image ({len(images)}), got "
                         f"{len(masks) if hasattr(masks, '__len__') else type(masks).__name__}")
    lo_p, hi_p = (float(p) for p in percentiles)
    if not 0 <= lo_p < hi_p <= 100:
        raise ValueError(f"percentiles: expected 0 <= lower < upper <= 100, got {percentiles}")
    values = []
    for i, img in enumerate(images):
        x = as_float_array(img, f"images[{i}]").astype(np.float64)
        if masks is not None:
            x = x[as_label_map(masks[i], x.shape) != 0]
        values.append(x.ravel())
    v = np.concatenate(values)
    if v.size == 0:
        raise ValueError("masks: expected at least one foreground voxel, got none")
    lower, upper = np.percentile(v, [lo_p, hi_p])
    return CTNormalisation(float(lower), float(upper), float(v.mean()), float(v.std()))


def ct_normalise(image: Any, stats: CTNormalisation) -> np.ndarray:
    """nnU-Net's CT normalisation: ``(clip(x, lower, upper) - mean) / max(std, 1e-8)``.

    Parameters
    ----------
    image : array_like of float
        In HU.
    stats : CTNormalisation
        From :func:`ct_normalisation_stats` on the training set (never on the test image).

    Returns
    -------
    ndarray
        Same shape, dtype kept (integers become float64).

    Shapes
    ------
    image : any;  result : the same

    Raises
    ------
    TypeError
        If `image` is not numeric or `stats` is not a CTNormalisation.

    Examples
    --------
    >>> ct_normalise(np.array([-2000.0, 40.0, 3000.0]), CTNormalisation(-1000, 1000, 40, 200)).tolist()
    [-5.2, 0.0, 4.8]
    """
    if not isinstance(stats, CTNormalisation):
        raise TypeError(f"stats: expected a CTNormalisation (from ct_normalisation_stats), got {type(stats).__name__}")
    x = as_float_array(image, "image")
    y = (np.clip(x, stats.lower, stats.upper) - stats.mean) / max(stats.std, 1e-8)
    return y.astype(x.dtype, copy=False)


# --------------------------------------------------------------------------- MR bias field
def _legendre_count(degree: int, ndim: int) -> int:
    return int(round(np.prod([(degree + k) / k for k in range(1, ndim + 1)])))


def bias_field(shape: Any, coefficients: Any, *, degree: int = 3) -> np.ndarray:
    """The log of an MR bias field: a sum of products of Legendre polynomials (MONAI's formula).

    On coordinates ``u, v`` running from -1 to 1 across the image,
    ``f(u, v) = Σ_{i + j <= degree} c_ij P_i(u) P_j(v)``; the coefficients fill the lower
    triangle of ``c`` row by row (``numpy.tril_indices``), as MONAI's ``RandBiasField`` does, so
    2-D images need ``(degree + 1)(degree + 2)/2`` of them. The image is multiplied by
    ``exp(f)``: a smooth, spatially varying gain (receive-coil sensitivity, B1 inhomogeneity).

    Parameters
    ----------
    shape : (int, int)
        ``(H, W)``.
    coefficients : sequence of float
        ``(degree + 1)(degree + 2)/2`` values.
    degree : int, default 3

    Returns
    -------
    ndarray of float64, (H, W)
        ``f``; the multiplicative field is ``np.exp(f)``.

    Shapes
    ------
    result : (H, W)

    Raises
    ------
    ValueError
        If `shape` is not two positive ints, `degree` < 1 or the number of coefficients is wrong.

    References
    ----------
    tustison2010n4itk; MONAI ``RandBiasField``.

    Examples
    --------
    >>> bias_field((3, 3), [0.5, 0, 0, 0, 0, 0], degree=2)[0].tolist()   # c_00 P_0 P_0: constant
    [0.5, 0.5, 0.5]
    """
    degree = as_int(degree, "degree", minimum=1)
    shp = tuple(as_int(n, "shape", minimum=1) for n in np.atleast_1d(np.asarray(shape, dtype=object)))
    if len(shp) != 2:
        raise ValueError(f"shape: expected two sizes (H, W), got {shape!r}")
    c = as_float_array(coefficients, "coefficients", ndim=1).astype(np.float64)
    n = _legendre_count(degree, 2)
    if c.size != n:
        raise ValueError(f"coefficients: expected {n} values for degree {degree} in 2-D, got {c.size}")
    mat = np.zeros((degree + 1, degree + 1))
    mat[np.tril_indices(degree + 1)] = c
    u, v = (np.linspace(-1.0, 1.0, s) for s in shp)
    return np.polynomial.legendre.leggrid2d(u, v, mat)


def random_bias_field(shape: Any, amplitude: float, *, seed: int = 0, degree: int = 3) -> np.ndarray:
    """A random smooth log bias field whose largest magnitude is `amplitude`.

    Coefficients uniform in ``[-1, 1]`` (seeded), the field of :func:`bias_field`, scaled so
    that ``max |f| = amplitude``: the image is multiplied by factors between
    ``exp(-amplitude)`` and ``exp(amplitude)``.

    Parameters
    ----------
    shape : (int, int)
    amplitude : float, >= 0
    seed : int, default 0
    degree : int, default 3

    Returns
    -------
    ndarray of float64, (H, W)

    Raises
    ------
    ValueError, TypeError
        Naming `shape`, `amplitude`, `seed` or `degree`.

    Examples
    --------
    >>> f = random_bias_field((16, 16), 0.3, seed=1)
    >>> round(float(np.abs(f).max()), 6)
    0.3
    """
    amplitude = as_positive_float(amplitude, "amplitude", allow_zero=True)
    degree = as_int(degree, "degree", minimum=1)
    rng = np.random.default_rng(_as_seed(seed))
    f = bias_field(shape, rng.uniform(-1.0, 1.0, _legendre_count(degree, 2)), degree=degree)
    peak = np.abs(f).max()
    return f * (amplitude / peak) if peak > 0 else f


# --------------------------------------------------------------------------- scanner shifts
def shift_image(image: Any, mask: Any, kind: str, strength: float, *, seed: int = 0,
                multiple: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The image (and mask) as a different scanner or protocol would deliver them.

    With strength ``s`` in ``[0, 1]`` (``s = 0`` is the identity):

    ==============  =========================================================  ========================
    ``gain``        ``x' = (1 + s) x``                                         MR: arbitrary intensity
                                                                               scale per scanner/protocol
    ``bias``        ``x' = x exp(f)``, ``f`` a random smooth field with         MR: coil sensitivity,
                    ``max |f| = 0.5 s`` (seeded; :func:`random_bias_field`)     B1 inhomogeneity
    ``noise``       ``x' = x + 0.3 s N(0, 1)`` (seeded)                         low dose (CT), fast MR
    ``blur``        Gaussian point-spread function, ``σ = 2.5 s`` px            softer kernel, lower
                                                                               resolution
    ``spacing``     resampled by ``f = 2^{-s}`` (linear for the image,          a coarser pixel spacing
                    nearest for the mask), zero-padded to a multiple of
                    `multiple` pixels: the pixel spacing becomes ``2^s``
                    times the training one
    ==============  =========================================================  ========================

    Parameters
    ----------
    image : ndarray of float, (H, W)
    mask : ndarray of int or bool, (H, W)
        Labels; only ``"spacing"`` changes them (nearest-neighbour resampling).
    kind : {"gain", "bias", "noise", "blur", "spacing"}
    strength : float in [0, 1]
    seed : int, default 0
        Seed of the noise and of the bias field.
    multiple : int, default 8
        ``"spacing"`` pads the resampled arrays with zeros (air, background) at the bottom and
        right to a multiple of this (``2**depth`` of the U-Net).

    Returns
    -------
    image : ndarray, dtype of the input
    mask : ndarray of int64

    Shapes
    ------
    image, mask : (H, W) -> (H, W), or (H', W') for ``"spacing"`` with
    ``H' = ceil(round(f H) / multiple) · multiple``

    Raises
    ------
    TypeError, ValueError
        Naming `image`, `mask`, `kind`, `strength`, `seed` or `multiple`.

    Examples
    --------
    >>> img, m = np.ones((16, 16), np.float32), np.zeros((16, 16), int)
    >>> float(shift_image(img, m, "gain", 1.0)[0][0, 0])
    2.0
    >>> shift_image(img, m, "spacing", 1.0)[0].shape
    (8, 8)
    """
    from scipy import ndimage

    x = as_float_array(image, "image", ndim=2)
    m = as_label_map(mask, x.shape).astype(np.int64)
    as_choice(kind, "kind", SHIFTS)
    s = _as_strength(strength)
    seed = _as_seed(seed)
    multiple = as_int(multiple, "multiple", minimum=1)
    if kind == "gain":
        out = (1 + s) * x
    elif kind == "bias":
        out = x * np.exp(random_bias_field(x.shape, 0.5 * s, seed=seed))
    elif kind == "noise":
        out = x + 0.3 * s * np.random.default_rng(seed).standard_normal(x.shape)
    elif kind == "blur":
        out = ndimage.gaussian_filter(x.astype(np.float64), 2.5 * s, mode="nearest") if s > 0 else x.copy()
    else:
        f = 2.0 ** -s
        size = tuple(max(1, int(round(f * n))) for n in x.shape)
        out = ndimage.zoom(x.astype(np.float64), [a / n for a, n in zip(size, x.shape)], order=1, grid_mode=True,
                           mode="grid-constant")
        m = ndimage.zoom(m, [a / n for a, n in zip(size, x.shape)], order=0, grid_mode=True, mode="grid-constant")
        pad = [(0, -n % multiple) for n in out.shape]
        out, m = np.pad(out, pad), np.pad(m, pad)
    return np.asarray(out).astype(x.dtype, copy=False), m.astype(np.int64, copy=False)


# --------------------------------------------------------------------------- augmentation
def random_flip(image: Any, mask: Any, rng: np.random.Generator, *, p: float = 0.5
                ) -> tuple[np.ndarray, np.ndarray]:
    """Mirror image and mask together along each spatial axis with probability `p` (per axis).

    Parameters
    ----------
    image : ndarray of float, (*S)
    mask : ndarray of int or bool, (*S)
    rng : numpy.random.Generator
    p : float in [0, 1], default 0.5

    Returns
    -------
    image, mask : ndarray
        Flipped copies (dtypes kept).

    Raises
    ------
    TypeError, ValueError
        Naming `image`, `mask`, `rng` or `p`.

    Examples
    --------
    >>> x, m = random_flip(np.arange(4.0).reshape(2, 2), np.eye(2, dtype=int), np.random.default_rng(0), p=1)
    >>> x.tolist()
    [[3.0, 2.0], [1.0, 0.0]]
    """
    x = as_float_array(image, "image")
    m = as_label_map(mask, x.shape)
    rng = _as_rng(rng)
    p = _as_probability(p)
    axes = tuple(a for a in range(x.ndim) if rng.random() < p)
    return np.flip(x, axes).copy(), np.flip(m, axes).copy()


def _as_probability(p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (_numbers.Real, np.floating)) or not 0 <= float(p) <= 1:
        raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
    return float(p)


def scale_intensity(image: Any, factor: float) -> np.ndarray:
    """Multiply the intensities by `factor` (nnU-Net's "brightness multiplicative" augmentation).

    Parameters
    ----------
    image : array_like of float
    factor : float, > 0

    Returns
    -------
    ndarray, dtype kept

    Raises
    ------
    TypeError, ValueError
        Naming `image` or `factor`.

    Examples
    --------
    >>> scale_intensity(np.array([1.0, 2.0]), 1.5).tolist()
    [1.5, 3.0]
    """
    x = as_float_array(image, "image")
    return (x * as_positive_float(factor, "factor")).astype(x.dtype, copy=False)


def add_noise(image: Any, std: float, rng: np.random.Generator) -> np.ndarray:
    """Add zero-mean Gaussian noise of standard deviation `std` (drawn from `rng`).

    Parameters
    ----------
    image : array_like of float
    std : float, >= 0
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, dtype kept

    Raises
    ------
    TypeError, ValueError
        Naming `image`, `std` or `rng`.

    Examples
    --------
    >>> add_noise(np.zeros(3), 0.0, np.random.default_rng(0)).tolist()
    [0.0, 0.0, 0.0]
    """
    x = as_float_array(image, "image")
    std = as_positive_float(std, "std", allow_zero=True)
    noise = _as_rng(rng).standard_normal(x.shape)
    return (x + std * noise).astype(x.dtype, copy=False)


def gaussian_blur(image: Any, sigma: float) -> np.ndarray:
    """Gaussian blur of standard deviation `sigma` pixels on every axis (edges: nearest).

    Parameters
    ----------
    image : array_like of float
    sigma : float, >= 0 (0 returns a copy)

    Returns
    -------
    ndarray, dtype kept

    Raises
    ------
    TypeError, ValueError
        Naming `image` or `sigma`.

    Examples
    --------
    >>> float(gaussian_blur(np.ones((4, 4)), 1.0).round(6).min())
    1.0
    """
    from scipy import ndimage

    x = as_float_array(image, "image")
    sigma = as_positive_float(sigma, "sigma", allow_zero=True)
    if sigma == 0:
        return x.copy()
    return ndimage.gaussian_filter(x.astype(np.float64), sigma, mode="nearest").astype(x.dtype, copy=False)


def augment(image: Any, mask: Any, rng: np.random.Generator, *, p_flip: float = 0.5,
            p_scale: float = 0.3, scale: tuple[float, float] = (0.7, 1.4), p_noise: float = 0.3,
            noise_std: tuple[float, float] = (0.0, 0.3), p_blur: float = 0.3,
            blur_sigma: tuple[float, float] = (0.5, 2.5), p_bias: float = 0.0,
            bias_amplitude: tuple[float, float] = (0.0, 0.3)) -> tuple[np.ndarray, np.ndarray]:
    """One random training-time augmentation of a case, in nnU-Net's order: flip, then
    (each with its probability) brightness scaling, Gaussian noise and Gaussian blur; optionally
    first a smooth multiplicative bias field (an MR coil's shading).

    Parameters
    ----------
    image : ndarray of float, (*S)
    mask : ndarray of int or bool, (*S)
    rng : numpy.random.Generator
        The only source of randomness (seed it: ``np.random.default_rng(book_seed(k))``).
    p_flip : float, default 0.5
        Per-axis mirror probability (:func:`random_flip`).
    p_scale, scale : float, (float, float)
        Probability and range (uniform) of the intensity factor (:func:`scale_intensity`).
    p_noise, noise_std : float, (float, float)
        Probability and range (uniform) of the noise standard deviation (:func:`add_noise`).
    p_blur, blur_sigma : float, (float, float)
        Probability and range (uniform) of the blur's sigma in pixels (:func:`gaussian_blur`).
    p_bias, bias_amplitude : float, (float, float)
        Probability (default 0: off, and no random number is drawn for it) and range (uniform) of
        the amplitude of a bias field ``x * exp(f)`` with ``f`` from :func:`random_bias_field`
        (2-D images only), applied after the flip.

    Returns
    -------
    image, mask : ndarray
        The augmented case (only flips move the mask).

    Raises
    ------
    TypeError, ValueError
        Naming the argument.

    Examples
    --------
    >>> x, m = augment(np.ones((8, 8), np.float32), np.zeros((8, 8), int), np.random.default_rng(0))
    >>> x.shape, x.dtype, m.shape
    ((8, 8), dtype('float32'), (8, 8))
    """
    rng = _as_rng(rng)
    for name, p in (("p_scale", p_scale), ("p_noise", p_noise), ("p_blur", p_blur), ("p_bias", p_bias)):
        try:
            _as_probability(p)
        except ValueError:
            raise ValueError(f"{name}: expected a probability in [0, 1], got {p!r}") from None
    ranges = {}
    for name, r in (("scale", scale), ("noise_std", noise_std), ("blur_sigma", blur_sigma),
                    ("bias_amplitude", bias_amplitude)):
        lo, hi = (float(v) for v in r)
        if not 0 <= lo <= hi or (name == "scale" and lo == 0):
            raise ValueError(f"{name}: expected a range (lo, hi) with 0 <= lo <= hi (lo > 0 for scale), got {r!r}")
        ranges[name] = (lo, hi)
    x, m = random_flip(image, mask, rng, p=p_flip)
    if p_bias > 0 and rng.random() < p_bias:
        if x.ndim != 2:
            raise ValueError(f"p_bias: the bias field needs a 2-D image, got {x.ndim} dims")
        amp = rng.uniform(*ranges["bias_amplitude"])
        field = random_bias_field(x.shape, amp, seed=int(rng.integers(0, 2**31 - 1)))
        x = (x * np.exp(field)).astype(x.dtype, copy=False)
    if rng.random() < p_scale:
        x = scale_intensity(x, rng.uniform(*ranges["scale"]))
    if rng.random() < p_noise:
        x = add_noise(x, rng.uniform(*ranges["noise_std"]), rng)
    if rng.random() < p_blur:
        x = gaussian_blur(x, rng.uniform(*ranges["blur_sigma"]))
    return x, m
