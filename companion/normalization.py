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
# The batch-statistics theory moved to companion.batch_statistics; its names stay importable here
# ----------------------------------------------------------------------------------------------

_MOVED = ("smoothed_noise", "effective_sample_size", "BatchStatTheory", "batch_statistics_theory",
          "sample_patches", "TrainEvalGap", "train_eval_gap")


def __getattr__(name: str):
    """``companion.normalization.<name>`` for the names that live in :mod:`companion.batch_statistics`."""
    if name in _MOVED:
        from companion import batch_statistics

        return getattr(batch_statistics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
