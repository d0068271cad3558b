"""Weight initialisation and how the signal's size propagates through ReLU layers (He et al. 2015).

A layer ``z = W y`` with ``fan_in`` inputs and weights of variance ``σ²`` gives, for independent
zero-mean weights, ``E[z²] = fan_in · σ² · E[y²]``. After a ReLU of a symmetric pre-activation
only the positive half survives: ``E[ReLU(z)²] = E[z²] / 2`` (LeakyReLU with slope ``a``:
``(1 + a²) / 2``). So each ReLU layer multiplies the mean square by ``fan_in · σ² / 2``, and the
choice ``σ² = 2 / fan_in`` (He or Kaiming initialisation) keeps it constant through any depth:

    ``q_1 = s² · g² · E[x²]``,  ``q_l = s² · q_{l-1}`` for ``l ≥ 2``

with ``g² = 2 / (1 + a²)`` the squared gain and ``s`` a scale of the He standard deviation
(``s = 1`` is He; ``s² = (1 + a²) / 2`` is the LeCun choice ``σ² = 1 / fan_in``, which halves the
mean square at every ReLU layer).

Conventions follow ``torch.nn.init``: ``fan_in = C_in · prod(kernel)`` for a weight of shape
``(C_out, C_in, *kernel)``; :func:`he_std` equals the standard deviation that
``torch.nn.init.kaiming_normal_(w, a, mode="fan_in", nonlinearity="leaky_relu")`` draws from.

Only NumPy is imported here.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from companion._validation import as_float_array, as_int, as_positive_float

__all__ = ["fan_in", "relu_gain", "he_std", "he_normal", "second_moment_theory", "propagate_second_moment"]


def _as_slope(v: Any, name: str = "negative_slope") -> float:
    a = as_positive_float(v, name, allow_zero=True)
    if a > 1:
        raise ValueError(f"{name}: expected a slope in [0, 1], got {a}")
    return a


def fan_in(weight_shape: Sequence[int]) -> int:
    """Number of inputs of one output unit: ``C_in · prod(kernel)``, as ``torch.nn.init`` computes it.

    Parameters
    ----------
    weight_shape : sequence of int
        ``(C_out, C_in, *kernel)`` for a convolution, ``(out_features, in_features)`` for a linear layer.

    Returns
    -------
    int
        ``weight_shape[1] * prod(weight_shape[2:])``.

    Shapes
    ------
    weight_shape : length >= 2;  result : scalar

    Raises
    ------
    TypeError
        If an entry is not an int.
    ValueError
        If `weight_shape` has fewer than 2 entries or an entry is < 1.

    Examples
    --------
    >>> fan_in((32, 16, 3, 3, 3))
    432
    >>> fan_in((10, 64))
    64
    """
    if isinstance(weight_shape, (str, bytes)) or not hasattr(weight_shape, "__len__"):
        raise TypeError(f"weight_shape: expected a sequence of ints, got {type(weight_shape).__name__}")
    dims = [as_int(d, "weight_shape", minimum=1) for d in weight_shape]
    if len(dims) < 2:
        raise ValueError(f"weight_shape: expected at least 2 entries (C_out, C_in, *kernel), got {tuple(dims)}")
    return int(dims[1] * math.prod(dims[2:]))


def relu_gain(negative_slope: float = 0.0) -> float:
    """He's gain ``sqrt(2 / (1 + a²))`` for a (leaky) ReLU with negative slope ``a``.

    ``E[φ(z)²] = (1 + a²)/2 · E[z²]`` for a symmetric ``z``; the gain undoes that factor. Equal to
    ``torch.nn.init.calculate_gain("leaky_relu", a)`` (``"relu"``: ``a = 0``, gain ``√2``).

    Parameters
    ----------
    negative_slope : float, default 0.0
        The slope ``a`` in [0, 1] on the negative side (0 for ReLU).

    Returns
    -------
    float

    Shapes
    ------
    negative_slope : scalar;  result : scalar

    Raises
    ------
    TypeError
        If `negative_slope` is not a number.
    ValueError
        If `negative_slope` is outside [0, 1].

    Examples
    --------
    >>> round(relu_gain(), 6)
    1.414214
    >>> relu_gain(1.0)          # identity: no correction
    1.0
    """
    a = _as_slope(negative_slope)
    return math.sqrt(2.0 / (1.0 + a * a))


def he_std(fan_in: int, negative_slope: float = 0.0) -> float:
    """Standard deviation of He (Kaiming) normal initialisation: ``gain / sqrt(fan_in)``.

    Parameters
    ----------
    fan_in : int
        Inputs per output unit (:func:`fan_in` of the weight's shape).
    negative_slope : float, default 0.0
        Slope of the following (leaky) ReLU on its negative side.

    Returns
    -------
    float
        ``sqrt(2 / ((1 + a²) · fan_in))``.

    Shapes
    ------
    fan_in, negative_slope : scalars;  result : scalar

    Raises
    ------
    TypeError, ValueError
        If `fan_in` is not an int >= 1 or `negative_slope` not in [0, 1].

    References
    ----------
    he2015delving

    Examples
    --------
    >>> round(he_std(288), 6)       # Conv2d(32, ., 3): fan_in = 32 * 9
    0.083333
    """
    n = as_int(fan_in, "fan_in", minimum=1)
    return relu_gain(negative_slope) / math.sqrt(n)


def he_normal(weight_shape: Sequence[int], *, negative_slope: float = 0.0, seed: int) -> np.ndarray:
    """Weights drawn from ``N(0, he_std(fan_in(weight_shape))²)``, float64.

    Parameters
    ----------
    weight_shape : sequence of int
        ``(C_out, C_in, *kernel)`` or ``(out_features, in_features)``.
    negative_slope : float, default 0.0
        Slope of the following (leaky) ReLU.
    seed : int
        Seed of the NumPy generator.

    Returns
    -------
    ndarray of float64, shape `weight_shape`

    Shapes
    ------
    result : weight_shape

    Raises
    ------
    TypeError, ValueError
        As :func:`fan_in` and :func:`he_std`; `seed` must be an int >= 0.

    Examples
    --------
    >>> w = he_normal((256, 128, 3, 3), seed=0)
    >>> round(float(w.std()) / he_std(128 * 9), 2)
    1.0
    """
    n = fan_in(weight_shape)
    std = he_std(n, negative_slope)
    rng = np.random.default_rng(as_int(seed, "seed", minimum=0))
    return std * rng.standard_normal(tuple(int(d) for d in weight_shape))


def second_moment_theory(q_in: float, depth: int, *, std_scale: float = 1.0,
                         negative_slope: float = 0.0) -> np.ndarray:
    """Mean square ``E[z_l²]`` of the pre-activations of layers ``1..depth``, by the He recursion.

    ``q_1 = s² g² q_in`` and ``q_l = s² q_{l-1}``: each layer of weights with standard deviation
    ``s · he_std(fan_in, a)`` followed by a (leaky) ReLU of slope ``a`` multiplies the mean square
    by ``s²``. The width does not enter (it cancels against ``fan_in``); it sets only the size of
    the fluctuations around the recursion.

    Parameters
    ----------
    q_in : float
        Mean square of the network's input, ``E[x²]`` (> 0).
    depth : int
        Number of layers (>= 1).
    std_scale : float, default 1.0
        ``s``: 1 for He, ``sqrt((1 + a²)/2)`` for LeCun (``σ² = 1/fan_in``).
    negative_slope : float, default 0.0
        ``a``, the slope of the (leaky) ReLU after every layer but the last.

    Returns
    -------
    ndarray of float64
        ``q_1, ..., q_depth``.

    Shapes
    ------
    result : (depth,)

    Raises
    ------
    TypeError, ValueError
        For non-numbers, ``q_in <= 0``, ``depth < 1``, ``std_scale <= 0`` or a slope outside [0, 1].

    Examples
    --------
    >>> second_moment_theory(1.0, 3)
    array([2., 2., 2.])
    >>> second_moment_theory(1.0, 3, std_scale=math.sqrt(0.5))   # LeCun before ReLU: halves
    array([1.  , 0.5 , 0.25])
    """
    q = as_positive_float(q_in, "q_in")
    depth = as_int(depth, "depth", minimum=1)
    s2 = as_positive_float(std_scale, "std_scale") ** 2
    g2 = relu_gain(negative_slope) ** 2
    return q * g2 * s2 ** np.arange(1, depth + 1, dtype=np.float64)


def propagate_second_moment(x: Any, depth: int, width: int, *, std_scale: float = 1.0,
                            negative_slope: float = 0.0, seed: int) -> np.ndarray:
    """Simulate a deep fully connected (leaky) ReLU network at initialisation; measure ``E[z_l²]``.

    Layer ``l`` computes ``z_l = W_l y_{l-1}`` (no bias) with ``W_l`` of shape ``(width, fan_in)``
    drawn from ``N(0, (std_scale · he_std(fan_in, a))²)`` and ``y_l = LeakyReLU_a(z_l)`` (ReLU for
    ``a = 0``), ``y_0 = x``. The mean of ``z_l²`` over samples and units is recorded per layer; the
    He recursion :func:`second_moment_theory` predicts it.

    Parameters
    ----------
    x : array_like of float
        Input samples, one per row.
    depth : int
        Number of layers (>= 1).
    width : int
        Units per layer (>= 1).
    std_scale : float, default 1.0
        Weight standard deviation in units of He's (1 = He).
    negative_slope : float, default 0.0
        Slope ``a`` in [0, 1] of the activation's negative side.
    seed : int
        Seed of the weights' generator.

    Returns
    -------
    ndarray of float64
        Measured ``mean(z_l²)`` for ``l = 1..depth``.

    Shapes
    ------
    x : (n_samples, n_features);  result : (depth,)

    Raises
    ------
    TypeError, ValueError
        If `x` is not a 2-D real array, or for bad `depth`, `width`, `std_scale`, `negative_slope`, `seed`.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((512, 256))
    >>> q = propagate_second_moment(x, 10, 256, seed=1)
    >>> bool(np.all(np.abs(q / 2 - 1) < 0.5))      # He: stays near 2 E[x²] = 2
    True
    """
    y = as_float_array(x, "x", ndim=2).astype(np.float64)
    depth = as_int(depth, "depth", minimum=1)
    width = as_int(width, "width", minimum=1)
    s = as_positive_float(std_scale, "std_scale")
    a = _as_slope(negative_slope)
    rng = np.random.default_rng(as_int(seed, "seed", minimum=0))
    out = np.empty(depth)
    for layer in range(depth):
        n = y.shape[1]
        w = (s * he_std(n, a)) * rng.standard_normal((n, width))
        z = y @ w
        out[layer] = np.mean(z * z)
        y = np.where(z > 0, z, a * z)
    return out
