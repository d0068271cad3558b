"""Batch, instance and group normalisation, with the backward pass of batch norm.

All three subtract a mean and divide by a standard deviation; they differ only in *which*
elements share one mean and variance. For ``x (N, C, *S)``:

===================  ============================================  ========================
normalisation        statistics over                               elements per statistic
===================  ============================================  ========================
batch norm           N and all of S, for each channel c            M = N · ∏S
instance norm        all of S, for each sample n and channel c     ∏S
group norm (G)       C/G channels and all of S, for each n, group  (C/G) · ∏S
===================  ============================================  ========================

Batch norm is the only one whose output depends on the other samples of the batch, and the only
one that needs running statistics for evaluation. Variances are *biased* (divide by M) in the
normalisation, as in torch; the running variance stores the *unbiased* estimate (divide by
M − 1), as torch does.

The pure functions (:func:`batch_norm`, :func:`batch_norm_backward`,
:func:`batch_norm_inference`, :func:`update_running_stats`, :func:`instance_norm`,
:func:`group_norm`) hold all the arithmetic; :class:`BatchNorm` only holds state and calls them.
Computation runs in float64 and results come back in the input's dtype.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from companion._validation import as_bool, as_float_array, as_int, as_positive_float

__all__ = [
    "BNCache", "batch_norm", "batch_norm_backward", "batch_norm_inference",
    "update_running_stats", "BatchNorm", "instance_norm", "group_norm",
    "smoothed_noise", "effective_sample_size", "BatchStatTheory", "batch_statistics_theory",
    "sample_patches", "TrainEvalGap", "train_eval_gap",
]


# ----------------------------------------------------------------------------------------------
# Private checkers
# ----------------------------------------------------------------------------------------------

def _check_x(x: object, name: str = "x", *, min_ndim: int = 2) -> np.ndarray:
    x = as_float_array(x, name)
    if x.ndim < min_ndim:
        layout = "(N, C, *S)" if min_ndim == 2 else "(N, C, *S) with at least one spatial axis"
        raise ValueError(f"{name}: expected {layout}, at least {min_ndim} dims, got shape {x.shape}")
    return x


def _check_param(v: object, name: str, c: int, default: float) -> np.ndarray:
    """gamma / beta: None (→ `default`) or a 1-D array of length C; returned as float64."""
    if v is None:
        return np.full(c, default, dtype=np.float64)
    arr = as_float_array(v, name)
    if arr.ndim != 1 or arr.shape[0] != c:
        raise ValueError(f"{name}: expected shape ({c},) (one per channel, C = {c}), got {arr.shape}")
    return arr.astype(np.float64)


def _check_variance(v: object, name: str, c: int) -> np.ndarray:
    """A per-channel variance: length C, finite, >= 0; returned as float64."""
    arr = _check_param(v, name, c, 1.0)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name}: expected finite values >= 0, got {arr}")
    return arr


def _check_eps(eps: object) -> float:
    return as_positive_float(eps, "eps")


def _check_momentum(momentum: object) -> float | None:
    if momentum is None:
        return None
    if isinstance(momentum, bool) or not isinstance(momentum, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"momentum: expected a number in [0, 1] or None, got {type(momentum).__name__} {momentum!r}")
    m = float(momentum)
    if not 0.0 <= m <= 1.0:
        raise ValueError(f"momentum: expected a number in [0, 1] or None, got {m}")
    return m


def _stat_axes(x: np.ndarray) -> tuple[int, ...]:
    """Every axis but the channel axis 1."""
    return (0,) + tuple(range(2, x.ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape a (C,) vector to broadcast against (N, C, *S)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


# ----------------------------------------------------------------------------------------------
# Batch norm: pure functions
# ----------------------------------------------------------------------------------------------

class BNCache(NamedTuple):
    """What :func:`batch_norm_backward` needs (and what :class:`BatchNorm` reads for its update).

    ``x_hat`` is the normalised input (float64), ``gamma`` the scale (float64, (C,)),
    ``mean`` and ``var`` the per-channel batch mean and *biased* variance (float64, (C,)),
    ``inv_std`` = 1/sqrt(var + eps), ``m`` the number of elements per channel, ``dtype`` the
    input's dtype.
    """

    x_hat: np.ndarray
    gamma: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    inv_std: np.ndarray
    m: int
    dtype: np.dtype


def batch_norm(x: np.ndarray, gamma: np.ndarray | None, beta: np.ndarray | None,
               eps: float = 1e-5) -> tuple[np.ndarray, BNCache]:
    """Batch normalisation in training mode: normalise each channel with the batch's statistics.

    For channel c, over its M = N · D · H · W elements (all samples, all positions):

    $$\\mu_c = \\frac1M \\sum x, \\qquad \\sigma_c^2 = \\frac1M \\sum (x - \\mu_c)^2, \\qquad
    y = \\gamma_c \\frac{x - \\mu_c}{\\sqrt{\\sigma_c^2 + \\varepsilon}} + \\beta_c$$

    The variance is the biased one (divide by M), as in torch.

    Parameters
    ----------
    x : array_like of float32 or float64
        The batch; the channel axis is 1. ``S`` may be empty: ``x (N, C)``.
    gamma, beta : array_like of length C, or None
        Scale and shift (None means ones and zeros).
    eps : float, default 1e-5
        Added to the variance before the square root; must be > 0.

    Returns
    -------
    y : ndarray
        The normalised batch, same shape and dtype as `x`.
    cache : BNCache
        For :func:`batch_norm_backward`; it also holds the batch ``mean`` and biased ``var``.

    Shapes
    ------
    x, y : (N, C, *S);  gamma, beta : (C,)

    Raises
    ------
    TypeError
        If `x`, `gamma`, `beta` are not real arrays, or `eps` is not a number.
    ValueError
        If `x` has fewer than 2 dims, has a single value per channel (M = 1, as torch refuses),
        `gamma`/`beta` are not of length C, or `eps` <= 0.

    See Also
    --------
    batch_norm_backward, batch_norm_inference, BatchNorm

    References
    ----------
    ioffe2015batch

    Examples
    --------
    >>> y, cache = batch_norm(np.array([1.0, 2, 3, 4]).reshape(1, 1, 2, 2), None, None)
    >>> np.round(y.ravel(), 6)
    array([-1.341635, -0.447212,  0.447212,  1.341635])
    """
    x = _check_x(x)
    c = x.shape[1]
    g = _check_param(gamma, "gamma", c, 1.0)
    b = _check_param(beta, "beta", c, 0.0)
    eps = _check_eps(eps)
    axes = _stat_axes(x)
    m = x.size // c if c else 0
    if m < 2:
        raise ValueError(f"x: expected more than 1 value per channel in training mode, got shape {x.shape}")
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=axes)
    centred = x64 - _per_channel(mean, x.ndim)
    var = np.mean(centred * centred, axis=axes)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = centred * _per_channel(inv_std, x.ndim)
    y = _per_channel(g, x.ndim) * x_hat + _per_channel(b, x.ndim)
    return y.astype(x.dtype, copy=False), BNCache(x_hat, g, mean, var, inv_std, m, x.dtype)


def batch_norm_backward(grad_y: np.ndarray, cache: BNCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`batch_norm` (training mode), in the compact form.

    With sums over the M elements of channel c and ``x̂`` the normalised input:

    $$\\frac{\\partial L}{\\partial \\beta_c} = \\sum g, \\qquad
    \\frac{\\partial L}{\\partial \\gamma_c} = \\sum g\\,\\hat x, \\qquad
    \\frac{\\partial L}{\\partial x} = \\frac{\\gamma_c}{M\\sqrt{\\sigma_c^2+\\varepsilon}}
    \\Big(M g - \\sum g - \\hat x \\sum g\\,\\hat x\\Big)$$

    where ``g = ∂L/∂y``. The last two terms are the paths through μ and σ².

    Parameters
    ----------
    grad_y : array_like of float
        Upstream gradient ∂L/∂y, same shape as the forward input.
    cache : BNCache
        The second output of :func:`batch_norm`.

    Returns
    -------
    grad_x : ndarray
        Same shape as `grad_y`, in the forward input's dtype.
    grad_gamma, grad_beta : ndarray
        Shape (C,), in the forward input's dtype.

    Shapes
    ------
    grad_y, grad_x : (N, C, *S);  grad_gamma, grad_beta : (C,)

    Raises
    ------
    TypeError
        If `cache` is not a :class:`BNCache` or `grad_y` is not a real array.
    ValueError
        If `grad_y`'s shape differs from the forward input's.

    Examples
    --------
    >>> x = np.array([1.0, 2, 3, 4]).reshape(1, 1, 2, 2)
    >>> y, cache = batch_norm(x, None, None)
    >>> gx, gg, gb = batch_norm_backward(np.ones_like(x), cache)   # L = sum(y) is constant in x
    >>> np.allclose(gx, 0), gb
    (True, array([4.]))
    """
    if not isinstance(cache, BNCache):
        raise TypeError(f"cache: expected the BNCache returned by batch_norm, got {type(cache).__name__}")
    g = as_float_array(grad_y, "grad_y")
    if g.shape != cache.x_hat.shape:
        raise ValueError(f"grad_y: expected shape {cache.x_hat.shape} (the forward input's), got {g.shape}")
    g = g.astype(np.float64)
    nd, axes, m = g.ndim, _stat_axes(g), cache.m
    grad_beta = g.sum(axis=axes)
    grad_gamma = np.sum(g * cache.x_hat, axis=axes)
    scale = _per_channel(cache.gamma * cache.inv_std / m, nd)
    grad_x = scale * (m * g - _per_channel(grad_beta, nd) - cache.x_hat * _per_channel(grad_gamma, nd))
    dt = cache.dtype
    return grad_x.astype(dt), grad_gamma.astype(dt), grad_beta.astype(dt)


def batch_norm_inference(x: np.ndarray, running_mean: np.ndarray, running_var: np.ndarray,
                         gamma: np.ndarray | None = None, beta: np.ndarray | None = None,
                         eps: float = 1e-5) -> np.ndarray:
    """Batch normalisation in evaluation mode: use stored statistics, not the batch's.

    $$y = \\gamma_c \\frac{x - \\hat\\mu_c}{\\sqrt{\\hat\\sigma_c^2 + \\varepsilon}} + \\beta_c$$

    with the running estimates ``μ̂`` and ``σ̂²``. Each sample is normalised independently of the
    others, so the output is a fixed affine map of the input.

    Parameters
    ----------
    x : array_like of float32 or float64
        Input; channel axis 1.
    running_mean, running_var : array_like of length C
        Stored statistics (running_var must be >= 0).
    gamma, beta : array_like of length C, or None
        Scale and shift (None means ones and zeros).
    eps : float, default 1e-5
        Must be > 0.

    Returns
    -------
    ndarray
        Same shape and dtype as `x`.

    Shapes
    ------
    x, result : (N, C, *S);  running_mean, running_var, gamma, beta : (C,)

    Raises
    ------
    TypeError, ValueError
        As :func:`batch_norm`; ValueError also for a negative or non-finite `running_var`.

    Examples
    --------
    >>> batch_norm_inference(np.array([[1.0], [3.0]]), [1.0], [4.0], eps=1e-12)
    array([[0.],
           [1.]])
    """
    x = _check_x(x)
    c = x.shape[1]
    rm = _check_param(running_mean, "running_mean", c, 0.0)
    rv = _check_variance(running_var, "running_var", c)
    g = _check_param(gamma, "gamma", c, 1.0)
    b = _check_param(beta, "beta", c, 0.0)
    eps = _check_eps(eps)
    scale = g / np.sqrt(rv + eps)
    y = x.astype(np.float64) * _per_channel(scale, x.ndim) + _per_channel(b - rm * scale, x.ndim)
    return y.astype(x.dtype, copy=False)


def update_running_stats(running_mean: np.ndarray, running_var: np.ndarray, batch_mean: np.ndarray,
                         batch_var: np.ndarray, m: int, momentum: float | None = 0.1,
                         num_batches_tracked: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One update of the running statistics, exactly as torch's BatchNorm does it.

    $$\\hat\\mu \\leftarrow (1 - m_o)\\,\\hat\\mu + m_o\\,\\mu_B, \\qquad
    \\hat\\sigma^2 \\leftarrow (1 - m_o)\\,\\hat\\sigma^2 + m_o\\,\\frac{M}{M-1}\\,\\sigma_B^2$$

    with momentum ``m_o``: the running variance takes the *unbiased* batch variance (the biased
    ``σ_B²`` is what normalises the batch). With ``momentum=None`` it is the cumulative average,
    ``m_o = 1 / (num_batches_tracked + 1)`` (torch's convention, counting this batch).

    Parameters
    ----------
    running_mean, running_var : array_like of length C
        The current estimates.
    batch_mean, batch_var : array_like of length C
        This batch's mean and *biased* variance (e.g. ``cache.mean``, ``cache.var``).
    m : int
        Elements per channel in the batch (>= 2).
    momentum : float in [0, 1] or None, default 0.1
        Weight of the new batch.
    num_batches_tracked : int, default 0
        Batches seen before this one (used only when `momentum` is None).

    Returns
    -------
    running_mean, running_var : ndarray
        New float64 arrays (the inputs are not modified).

    Shapes
    ------
    every array : (C,)

    Raises
    ------
    TypeError, ValueError
        For arrays of different lengths, a negative or non-finite variance, ``m < 2``, or
        `momentum` outside [0, 1].

    Examples
    --------
    >>> update_running_stats([0.0], [1.0], [2.5], [1.25], m=4)
    (array([0.25]), array([1.06666667]))
    """
    rm = as_float_array(running_mean, "running_mean", ndim=1).astype(np.float64)
    c = rm.shape[0]
    rv = _check_variance(running_var, "running_var", c)
    bm = _check_param(batch_mean, "batch_mean", c, 0.0)
    bv = _check_variance(batch_var, "batch_var", c)
    m = as_int(m, "m", minimum=2)
    mom = _check_momentum(momentum)
    if mom is None:
        mom = 1.0 / (as_int(num_batches_tracked, "num_batches_tracked", minimum=0) + 1)
    unbiased = bv * (m / (m - 1))
    return (1 - mom) * rm + mom * bm, (1 - mom) * rv + mom * unbiased


# ----------------------------------------------------------------------------------------------
# Batch norm: the stateful layer
# ----------------------------------------------------------------------------------------------

class BatchNorm:
    """Batch normalisation layer with running statistics (training and evaluation modes).

    A thin holder of state: the arithmetic is in :func:`batch_norm`,
    :func:`update_running_stats` and :func:`batch_norm_inference`. Matches
    ``torch.nn.BatchNorm1d/2d/3d`` (``track_running_stats=True``) step by step.

    Parameters
    ----------
    num_features : int
        Number of channels C.
    eps : float, default 1e-5
        Must be > 0.
    momentum : float in [0, 1] or None, default 0.1
        Weight of each new batch in the running statistics; None for a cumulative average.
    affine : bool, default True
        Whether `gamma` and `beta` are applied (they start at ones and zeros).

    Attributes
    ----------
    gamma, beta : ndarray (C,) float64, or None when not `affine`
    running_mean, running_var : ndarray (C,) float64, starting at 0 and 1
    num_batches_tracked : int
    training : bool
    cache : BNCache or None
        The cache of the last training-mode call, for :func:`batch_norm_backward`.

    Shapes
    ------
    x, result : (N, C, *S), where S may be empty

    Raises
    ------
    TypeError, ValueError
        For a bad `num_features`, `eps`, `momentum` or `affine` here, and for an input with the
        wrong number of channels when called.

    Examples
    --------
    >>> bn = BatchNorm(1)
    >>> y = bn(np.array([1.0, 2, 3, 4]).reshape(1, 1, 2, 2))
    >>> bn.running_mean, np.round(bn.running_var, 7)
    (array([0.25]), array([1.0666667]))
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True) -> None:
        self.num_features = as_int(num_features, "num_features", minimum=1)
        self.eps = _check_eps(eps)
        self.momentum = _check_momentum(momentum)
        self.affine = as_bool(affine, "affine")
        c = self.num_features
        self.gamma = np.ones(c) if self.affine else None
        self.beta = np.zeros(c) if self.affine else None
        self.running_mean = np.zeros(c)
        self.running_var = np.ones(c)
        self.num_batches_tracked = 0
        self.training = True
        self.cache: BNCache | None = None

    def train(self, mode: bool = True) -> "BatchNorm":
        """Switch to training mode (batch statistics, running statistics updated); returns self.

        ``train(False)`` is :meth:`eval`. Like torch, a `mode` that is not a bool is refused
        (``bool("no")`` would silently be True).

        Raises
        ------
        TypeError
            If `mode` is not a bool.
        """
        self.training = as_bool(mode, "mode")
        return self

    def eval(self) -> "BatchNorm":
        """Switch to evaluation mode (running statistics, nothing updated)."""
        return self.train(False)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Normalise `x`: batch statistics in training mode (and update the running ones),
        running statistics in evaluation mode.

        Parameters
        ----------
        x : array_like of float32 or float64
            The batch; channel axis 1 with `num_features` channels.

        Returns
        -------
        ndarray
            Same shape and dtype as `x`.

        Shapes
        ------
        x, result : (N, C, *S), S may be empty

        Raises
        ------
        TypeError
            If `x` is not a real array.
        ValueError
            If `x` has fewer than 2 dims, not `num_features` channels, or (training mode) a
            single value per channel.
        """
        x = _check_x(x)
        if x.shape[1] != self.num_features:
            raise ValueError(f"x: expected {self.num_features} channels (num_features) on axis 1, "
                             f"got {x.shape[1]} (shape {x.shape})")
        if not self.training:
            return batch_norm_inference(x, self.running_mean, self.running_var,
                                        self.gamma, self.beta, self.eps)
        y, cache = batch_norm(x, self.gamma, self.beta, self.eps)
        self.running_mean, self.running_var = update_running_stats(
            self.running_mean, self.running_var, cache.mean, cache.var, cache.m,
            self.momentum, self.num_batches_tracked)
        self.num_batches_tracked += 1
        self.cache = cache
        return y

    def __repr__(self) -> str:
        return (f"BatchNorm({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, training={self.training})")


# ----------------------------------------------------------------------------------------------
# Instance and group norm
# ----------------------------------------------------------------------------------------------

def group_norm(x: np.ndarray, num_groups: int, gamma: np.ndarray | None = None,
               beta: np.ndarray | None = None, eps: float = 1e-5) -> np.ndarray:
    """Group normalisation: per sample, normalise each group of C/G channels over its channels and positions.

    For sample n and group k (channels ``k·C/G … (k+1)·C/G − 1``), with mean and biased variance
    over those channels and all positions:

    $$y = \\gamma_c \\frac{x - \\mu_{n,k}}{\\sqrt{\\sigma_{n,k}^2 + \\varepsilon}} + \\beta_c$$

    ``num_groups = C`` is instance norm (with affine); ``num_groups = 1`` normalises each sample
    over all its channels and positions. No statistic crosses samples, so the result does not
    depend on the batch size and is the same in training and evaluation.

    Parameters
    ----------
    x : array_like of float32 or float64
        Input; channel axis 1.
    num_groups : int
        G, a divisor of C.
    gamma, beta : array_like of length C, or None
        Per-channel scale and shift (None means ones and zeros).
    eps : float, default 1e-5
        Must be > 0.

    Returns
    -------
    ndarray
        Same shape and dtype as `x`.

    Shapes
    ------
    x, result : (N, C, *S);  gamma, beta : (C,)

    Raises
    ------
    TypeError
        For non-array input or a non-int `num_groups`.
    ValueError
        If `x` has fewer than 2 dims, `num_groups` does not divide C, a group holds a single
        value, `gamma`/`beta` are not of length C, or `eps` <= 0.

    See Also
    --------
    instance_norm, batch_norm

    References
    ----------
    wu2018group

    Examples
    --------
    >>> x = np.arange(8.0).reshape(1, 4, 2)
    >>> np.round(group_norm(x, 2)[0, :2].ravel(), 4)
    array([-1.3416, -0.4472,  0.4472,  1.3416])
    """
    x = _check_x(x)
    n, c = x.shape[:2]
    gsize = as_int(num_groups, "num_groups", minimum=1)
    if c % gsize:
        raise ValueError(f"num_groups: expected a divisor of the {c} channels, got {gsize}")
    g = _check_param(gamma, "gamma", c, 1.0)
    b = _check_param(beta, "beta", c, 0.0)
    eps = _check_eps(eps)
    per_group = (x.size // max(n * gsize, 1)) if n else 0
    if x.size and per_group < 2:
        raise ValueError(f"x: expected more than 1 value per group, got shape {x.shape} with num_groups={gsize}")
    xg = x.astype(np.float64).reshape((n, gsize, -1))
    mean = xg.mean(axis=2, keepdims=True)
    var = xg.var(axis=2, keepdims=True)
    x_hat = ((xg - mean) / np.sqrt(var + eps)).reshape(x.shape)
    y = _per_channel(g, x.ndim) * x_hat + _per_channel(b, x.ndim)
    return y.astype(x.dtype, copy=False)


def instance_norm(x: np.ndarray, eps: float = 1e-5, *, gamma: np.ndarray | None = None,
                  beta: np.ndarray | None = None) -> np.ndarray:
    """Instance normalisation: normalise each (sample, channel) over its spatial positions.

    $$y_{n,c} = \\gamma_c \\frac{x_{n,c} - \\mu_{n,c}}{\\sqrt{\\sigma_{n,c}^2 + \\varepsilon}} + \\beta_c$$

    with the mean and biased variance over the ∏S positions of ``x[n, c]``; equal to
    ``F.instance_norm`` (and to :func:`group_norm` with ``num_groups = C``).

    Parameters
    ----------
    x : array_like of float32 or float64
        Input with at least one spatial axis.
    eps : float, default 1e-5
        Must be > 0.
    gamma, beta : array_like of length C, or None
        Optional per-channel scale and shift (keyword-only).

    Returns
    -------
    ndarray
        Same shape and dtype as `x`.

    Shapes
    ------
    x, result : (N, C, *S) with S not empty

    Raises
    ------
    TypeError, ValueError
        As :func:`group_norm`; ValueError also if `x` has no spatial axis or one position only.

    See Also
    --------
    group_norm, batch_norm

    References
    ----------
    ulyanov2016instance

    Examples
    --------
    >>> np.round(instance_norm(np.array([[[1.0, 2, 3, 4]]])).ravel(), 6)
    array([-1.341635, -0.447212,  0.447212,  1.341635])
    """
    x = _check_x(x, min_ndim=3)
    c = x.shape[1]
    if c == 0:
        raise ValueError(f"x: expected at least one channel, got shape {x.shape}")
    return group_norm(x, c, gamma, beta, eps)


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
