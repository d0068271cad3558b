"""The small-batch problem: how noisy are the batch statistics of spatially correlated volumes?

Batch norm estimates a mean and a variance from ``M = N · ∏S`` voxels, but neighbouring voxels of
a smooth feature map are nearly copies of one another: the estimate is as noisy as one from far
fewer independent samples. This module models feature maps as smoothed Gaussian noise and holds
the exact theory and the experiments of the batch-norm chapter:

- :func:`smoothed_noise` — batches of unit-variance, spatially correlated fields;
- :func:`batch_statistics_theory`, :func:`effective_sample_size` — the exact moments of the batch
  mean and variance for such batches, and the effective number of independent voxels;
- :func:`sample_patches` — random patches of an image, with foreground oversampling;
- :func:`train_eval_gap` — a one-channel :class:`~companion.normalization.BatchNorm` trained on
  small batches, and the gap between its training and evaluation outputs.

The normalisations themselves live in :mod:`companion.normalization`, which still exports these
names for older code. Only NumPy (and SciPy's Gaussian filter) is needed.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from companion._validation import as_float_array, as_int, as_positive_float
from companion.normalization import BatchNorm, batch_norm

__all__ = ["smoothed_noise", "effective_sample_size", "BatchStatTheory", "batch_statistics_theory",
           "sample_patches", "TrainEvalGap", "train_eval_gap"]


# ----------------------------------------------------------------------------------------------
# The small-batch problem: how noisy are batch statistics of spatially correlated volumes?
# ----------------------------------------------------------------------------------------------

def _gaussian_kernel1d(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The 1-D kernel of ``scipy.ndimage.gaussian_filter`` (radius ``int(truncate*sigma + 0.5)``)."""
    if sigma == 0:
        return np.ones(1)
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _wrapped_kernel(sigma: float, length: int, truncate: float = 4.0) -> np.ndarray:
    """The kernel folded onto a periodic axis of `length` samples (what mode='wrap' applies)."""
    k = _gaussian_kernel1d(sigma, truncate)
    radius = (k.size - 1) // 2
    out = np.zeros(length)
    np.add.at(out, np.arange(-radius, radius + 1) % length, k)
    return out


def _check_shape_sigma(shape: object, sigma: object) -> tuple[tuple[int, ...], tuple[float, ...]]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TypeError(f"shape: expected a tuple of spatial sizes such as (D, H, W), got {shape!r}")
    shape = tuple(as_int(s, "shape", minimum=1) for s in shape)
    if isinstance(sigma, (tuple, list, np.ndarray)):
        sig = tuple(as_positive_float(s, "sigma", allow_zero=True) for s in sigma)
        if len(sig) != len(shape):
            raise ValueError(f"sigma: expected a number or {len(shape)} numbers (one per spatial axis), got {len(sig)}")
    else:
        sig = (as_positive_float(sigma, "sigma", allow_zero=True),) * len(shape)
    return shape, sig


def smoothed_noise(n: int, shape: tuple[int, ...], sigma: float | tuple[float, ...], *,
                   seed: int = 0, truncate: float = 4.0) -> np.ndarray:
    """White Gaussian noise smoothed by a Gaussian filter on a periodic grid, unit variance per voxel.

    A model of spatially correlated feature maps: neighbouring voxels of a smooth field carry
    nearly the same value, so they are not independent samples. Each of the `n` fields is
    ``scipy.ndimage.gaussian_filter(w, sigma, mode="wrap")`` of white noise ``w``, divided by its
    theoretical standard deviation ``sqrt(sum g²)`` so every voxel has mean 0 and variance 1.

    Parameters
    ----------
    n : int
        Number of independent fields (the batch axis).
    shape : tuple of int
        Spatial shape, e.g. ``(D, H, W)``.
    sigma : float or tuple of float
        Filter standard deviation in voxels, per axis (0 means no smoothing: white noise).
    seed : int, default 0
        Seed of the white noise.
    truncate : float, default 4.0
        Kernel radius in standard deviations (scipy's default).

    Returns
    -------
    ndarray of float64
        Shape ``(n, *shape)``.

    Shapes
    ------
    result : (n, *shape)

    Raises
    ------
    TypeError, ValueError
        For a non-int `n` or `seed`, a bad `shape`, a negative `sigma`, or a negative `seed`.

    See Also
    --------
    effective_sample_size

    Examples
    --------
    >>> smoothed_noise(2, (4, 5, 6), 1.0).shape
    (2, 4, 5, 6)
    """
    from scipy.ndimage import gaussian_filter

    n = as_int(n, "n", minimum=1)
    shape, sig = _check_shape_sigma(shape, sigma)
    truncate = as_positive_float(truncate, "truncate")
    seed = as_int(seed, "seed", minimum=0)
    w = np.random.default_rng(seed).standard_normal((n,) + shape)
    if not any(sig):
        return w
    field = gaussian_filter(w, (0.0,) + sig, mode="wrap", truncate=truncate)
    std = np.sqrt(np.prod([np.sum(_wrapped_kernel(s, L, truncate) ** 2) for s, L in zip(sig, shape)]))
    return field / std


class BatchStatTheory(NamedTuple):
    """Exact moments of the batch statistics of :func:`smoothed_noise` batches (σ² = 1)."""

    m_eff: float      #: σ² / Var(batch mean): the effective number of independent voxels
    var_mean: float   #: Var of the batch mean
    mean_var: float   #: E of the biased batch variance, 1 − 1/m_eff
    var_var: float    #: Var of the biased batch variance


def batch_statistics_theory(shape: tuple[int, ...], sigma: float | tuple[float, ...], n: int = 1, *,
                            truncate: float = 4.0) -> BatchStatTheory:
    """Mean and variance of batch-norm statistics for batches of correlated (smoothed-noise) volumes.

    A batch holds `n` independent volumes of :func:`smoothed_noise` (unit variance, correlation
    ρ(k) set by the Gaussian filter), ``M = n·V`` voxels, ``V = ∏ shape``. On the periodic grid the
    Fourier coefficients of a volume are independent, with power ``p_f`` (``Σ_f p_f = 1``); the
    mean of one volume is the coefficient ``f = 0``. This gives, exactly:

    $$\\operatorname{Var}(\\mu_B) = \\frac{p_0}{n} = \\frac{\\sum_k \\rho(k)}{nV} = \\frac{1}{M_\\text{eff}},\\qquad
    \\mathrm E(\\sigma_B^2) = 1 - \\frac{1}{M_\\text{eff}},\\qquad
    \\operatorname{Var}(\\sigma_B^2) = \\frac{2}{n}\\Big(\\sum_f p_f^2 - \\frac{p_0^2}{n}\\Big)$$

    For white noise (``sigma = 0``, ``p_f = 1/V``) these are the i.i.d. results ``1/M``,
    ``(M−1)/M`` and ``2(M−1)/M²`` (the unbiased ``s² = M σ_B²/(M−1)`` then has variance
    ``2/(M−1)``).

    Parameters
    ----------
    shape : tuple of int
        Spatial shape of one volume, e.g. ``(D, H, W)``.
    sigma : float or tuple of float
        Smoothing standard deviation in voxels (per axis); 0 is white noise.
    n : int, default 1
        Batch size N.
    truncate : float, default 4.0
        As in :func:`smoothed_noise`.

    Returns
    -------
    BatchStatTheory
        ``(m_eff, var_mean, mean_var, var_var)`` for unit voxel variance.

    Shapes
    ------
    shape : (D, H, W) (any number of spatial axes);  sigma : scalar or one per axis;
    result : four scalars

    Raises
    ------
    TypeError, ValueError
        For a bad `shape`, `sigma` or `n`.

    See Also
    --------
    effective_sample_size, smoothed_noise

    Examples
    --------
    >>> t = batch_statistics_theory((4, 4, 4), 0.0, n=2)    # white noise, M = 128
    >>> t.m_eff, round(t.var_var * 128**2 / 2)              # 2(M-1)/M^2
    (128.0, 127)
    """
    shape, sig = _check_shape_sigma(shape, sigma)
    n = as_int(n, "n", minimum=1)
    truncate = as_positive_float(truncate, "truncate")
    p0, sum_p2 = 1.0, 1.0
    for s, length in zip(sig, shape):
        power = np.abs(np.fft.fft(_wrapped_kernel(s, length, truncate))) ** 2
        p = power / power.sum()            # this axis's share of the variance per frequency
        p0 *= p[0]
        sum_p2 *= np.sum(p ** 2)
    var_mean = p0 / n
    return BatchStatTheory(float(1.0 / var_mean), float(var_mean), float(1.0 - var_mean),
                           float(2.0 / n * (sum_p2 - p0 ** 2 / n)))


def effective_sample_size(shape: tuple[int, ...], sigma: float | tuple[float, ...], n: int = 1, *,
                          truncate: float = 4.0) -> float:
    """Number of independent voxels that a batch of correlated volumes is worth for its mean.

    For a stationary field with variance σ² and correlation ρ(k) between voxels k apart, on a
    periodic grid of ``V = ∏ shape`` voxels, the mean of one volume has
    ``Var = σ² Σ_k ρ(k) / V``, so the mean of a batch of `n` independent volumes behaves like the
    mean of

    $$M_\\text{eff} = \\frac{\\sigma^2}{\\operatorname{Var}(\\mu_B)} = \\frac{n V}{\\sum_k \\rho(k)}$$

    independent samples, instead of ``M = n V``. White noise (``sigma = 0``) gives ``M``. For a
    Gaussian filter of standard deviation s voxels, ``Σ_k ρ(k) ≈ 2√π s`` per axis (s ≳ 1, axis
    much longer than s), so in 3-D ``M_eff ≈ M / (2√π s)³``. The sums here are exact for the
    discrete, wrapped kernel of :func:`smoothed_noise`.

    Parameters
    ----------
    shape : tuple of int
        Spatial shape of one volume, e.g. ``(D, H, W)``.
    sigma : float or tuple of float
        Smoothing standard deviation in voxels (per axis).
    n : int, default 1
        Batch size N.
    truncate : float, default 4.0
        As in :func:`smoothed_noise`.

    Returns
    -------
    float
        M_eff, between n and ``n · ∏ shape``.

    Shapes
    ------
    shape : (D, H, W) (any number of spatial axes);  sigma : scalar or one per axis;
    result : scalar

    Raises
    ------
    TypeError, ValueError
        For a bad `shape`, `sigma` or `n`.

    See Also
    --------
    batch_statistics_theory, smoothed_noise

    Examples
    --------
    >>> effective_sample_size((8, 8, 8), 0.0, n=2)          # white noise: every voxel counts
    1024.0
    >>> round(effective_sample_size((32, 32, 32), 2.0), 1)  # ≈ 32**3 / (2 * sqrt(pi) * 2)**3 = 91.9
    92.0
    """
    return batch_statistics_theory(shape, sigma, n, truncate=truncate).m_eff


# ----------------------------------------------------------------------------------------------
# Batches of patches, and the gap between training and evaluation mode
# ----------------------------------------------------------------------------------------------

def sample_patches(image: np.ndarray, size: int, n: int, *, seed: int, foreground: np.ndarray | None = None,
                   oversample: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Random square patches of a 2-D image, with nnU-Net-style foreground oversampling.

    Each patch is, with probability `oversample`, centred on a pixel drawn uniformly from the
    foreground (shifted inwards where it would leave the image), and otherwise placed uniformly
    at random. nnU-Net forces a third of each batch to contain foreground this way
    (``oversample = 1/3``) so that small structures are seen often enough.

    Parameters
    ----------
    image : ndarray of float32 or float64
        The 2-D image ``(H, W)``.
    size : int
        Patch side (at most ``min(H, W)``).
    n : int
        Number of patches.
    seed : int
        Seed of the draws.
    foreground : ndarray of bool, optional
        ``(H, W)`` mask of the foreground; required when ``oversample > 0``.
    oversample : float, default 0.0
        Probability, per patch, of centring it on the foreground.

    Returns
    -------
    patches : ndarray
        ``(n, size, size)``, in the dtype of `image`.
    corners : ndarray of int64
        ``(n, 2)``, the top-left (row, column) of each patch.

    Shapes
    ------
    image, foreground : (H, W);  patches : (n, size, size);  corners : (n, 2)

    Raises
    ------
    TypeError
        If `image` is not real numeric data or `size`, `n`, `seed` are not ints.
    ValueError
        If `image` is not 2-D, `size` does not fit, `oversample` is outside [0, 1], or
        oversampling is asked without a non-empty `foreground` of the image's shape.

    Examples
    --------
    >>> patches, corners = sample_patches(np.zeros((10, 12)), 4, 3, seed=0)
    >>> patches.shape, corners.shape
    ((3, 4, 4), (3, 2))
    """
    image = as_float_array(image, "image")
    if image.ndim != 2:
        raise ValueError(f"image: expected a 2-D array (H, W), got shape {image.shape}")
    size = as_int(size, "size", minimum=1)
    if size > min(image.shape):
        raise ValueError(f"size: expected at most {min(image.shape)} (the image is {image.shape}), got {size}")
    n = as_int(n, "n", minimum=1)
    seed = as_int(seed, "seed", minimum=0)
    if not isinstance(oversample, numbers.Real) or not 0.0 <= float(oversample) <= 1.0:
        raise ValueError(f"oversample: expected a probability in [0, 1], got {oversample!r}")
    centres = None
    if oversample > 0:
        fg = None if foreground is None else np.asarray(foreground, dtype=bool)
        if fg is None or fg.shape != image.shape or not fg.any():
            raise ValueError("foreground: expected a non-empty boolean mask of the image's shape "
                             f"{image.shape} when oversample > 0")
        centres = np.argwhere(fg)
    rng = np.random.default_rng(seed)
    h, w = image.shape
    corners = np.empty((n, 2), dtype=np.int64)
    for i in range(n):
        if centres is not None and rng.random() < oversample:
            r, c = centres[rng.integers(len(centres))] - size // 2
            corners[i] = min(max(r, 0), h - size), min(max(c, 0), w - size)
        else:
            corners[i] = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
    patches = np.stack([image[r:r + size, c:c + size] for r, c in corners])
    return patches, corners


class TrainEvalGap(NamedTuple):
    """What :func:`train_eval_gap` measured."""

    rms: float              #: RMS of y_train - y_eval over the test batches
    trace: np.ndarray       #: (steps, 3): batch mean, running mean, unbiased batch variance per step
    running_mean: float     #: after training
    running_var: float      #: after training


def train_eval_gap(n: int, s: float, *, seed: int, steps: int = 80, tests: int = 80,
                   shape: tuple[int, ...] = (12, 12, 12), momentum: float = 0.1) -> TrainEvalGap:
    """Train a one-channel :class:`BatchNorm` on smooth noise, then compare its two modes.

    A stream of ``steps + tests`` batches of `n` volumes of :func:`smoothed_noise` (smoothing `s`
    voxels) is drawn. The layer sees the first `steps` batches in training mode (updating its
    running statistics); on each of the remaining `tests` batches it then computes the
    training-mode output ``y_train`` (batch statistics) and the evaluation-mode output ``y_eval``
    (running statistics). The result is ``sqrt(mean((y_train - y_eval)²))`` over all test values.

    Parameters
    ----------
    n : int
        Batch size N.
    s : float
        Smoothing of the noise, in voxels (0: white noise).
    seed : int
        Seed of the noise stream.
    steps, tests : int, default 80
        Number of training and of test batches.
    shape : tuple of int, default (12, 12, 12)
        Spatial shape of one volume.
    momentum : float, default 0.1
        Momentum of the running statistics (torch's convention).

    Returns
    -------
    TrainEvalGap
        ``rms``, the per-step ``trace`` of the training, the final running statistics.

    Shapes
    ------
    trace : (steps, 3)

    Raises
    ------
    TypeError, ValueError
        For a bad `n`, `s`, `seed`, `steps`, `tests`, `shape` or `momentum`.

    Examples
    --------
    >>> round(train_eval_gap(16, 0.0, seed=0, shape=(4, 4, 4)).rms, 2)
    0.04
    """
    n = as_int(n, "n", minimum=1)
    steps = as_int(steps, "steps", minimum=1)
    tests = as_int(tests, "tests", minimum=1)
    stream = smoothed_noise(n * (steps + tests), shape, s, seed=seed).reshape(steps + tests, n, 1, *shape)
    bn, trace = BatchNorm(1, momentum=momentum), []
    for xb in stream[:steps]:                                    # training: updates the running statistics
        bn(xb)
        c = bn.cache
        trace.append((c.mean[0], bn.running_mean[0], c.var[0] * c.m / (c.m - 1)))
    bn.eval()
    sq = [np.mean((batch_norm(xb, None, None)[0] - bn(xb)) ** 2) for xb in stream[steps:]]
    return TrainEvalGap(float(np.sqrt(np.mean(sq))), np.array(trace), float(bn.running_mean[0]),
                        float(bn.running_var[0]))
