"""Element-wise activation functions and their derivatives: ReLU, LeakyReLU, ELU.

Each activation ``f`` comes with ``f_grad(x)``, its derivative evaluated at the pre-activation
``x`` (not at the output). The value at the kink ``x = 0`` is a convention; we follow PyTorch's
autograd exactly:

==============  =============================  ==========================
function        f(x)                           f'(0) (torch convention)
==============  =============================  ==========================
``relu``        ``max(0, x)``                  0
``leaky_relu``  ``x if x > 0 else a x``        ``negative_slope`` (a)
``elu``         ``x if x > 0 else α(eˣ − 1)``  ``alpha`` (α)
==============  =============================  ==========================

:func:`dead_fraction` measures how many units of a layer never activate over a data set, the
"dying ReLU" symptom of chapter ``chap-activations``.

Only NumPy is imported here.
"""

from __future__ import annotations

import numpy as np

from companion._validation import as_float_array, as_int, as_real

__all__ = [
    "relu", "leaky_relu", "elu", "relu_grad", "leaky_relu_grad", "elu_grad",
    "dead_fraction", "gaussian_inactive_fraction", "ACTIVATIONS", "activation", "activation_grad",
]


# ----------------------------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------------------------

def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit, ``max(0, x)`` element-wise.

    $$\\mathrm{ReLU}(x) = \\max(0, x)$$

    Parameters
    ----------
    x : array_like of float32 or float64
        Pre-activations (integer input becomes float64).

    Returns
    -------
    ndarray
        Same shape and float dtype as `x`; a new array (`x` is not modified).

    Shapes
    ------
    x : any;  result : same as x

    Raises
    ------
    TypeError
        If `x` is not real numeric data.

    See Also
    --------
    relu_grad, leaky_relu, elu

    References
    ----------
    nair2010relu, glorot2011deep

    Examples
    --------
    >>> relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    """
    x = as_float_array(x, "x")
    return np.where(x > 0, x, x.dtype.type(0))


def relu_grad(x: np.ndarray) -> np.ndarray:
    """Derivative of ReLU at `x`: 1 where ``x > 0``, else 0 (0 at exactly 0, as torch).

    Parameters
    ----------
    x : array_like of float32 or float64
        Pre-activations at which the derivative is taken.

    Returns
    -------
    ndarray
        Same shape and float dtype as `x`, entries 0 or 1.

    Shapes
    ------
    x : any;  result : same as x

    Raises
    ------
    TypeError
        If `x` is not real numeric data.

    Examples
    --------
    >>> relu_grad(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 1.])
    """
    x = as_float_array(x, "x")
    return (x > 0).astype(x.dtype)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: ``x`` for ``x > 0``, ``negative_slope * x`` otherwise.

    $$\\mathrm{LeakyReLU}_a(x) = \\begin{cases} x & x > 0 \\\\ a x & x \\le 0 \\end{cases}
    \\;=\\; \\max(a x, x) \\text{ when } 0 \\le a \\le 1$$

    Parameters
    ----------
    x : array_like of float32 or float64
        Pre-activations.
    negative_slope : float, default 0.01
        The slope ``a`` on the negative half-axis (any finite real, as torch allows).

    Returns
    -------
    ndarray
        Same shape and float dtype as `x`.

    Shapes
    ------
    x : any;  result : same as x

    Raises
    ------
    TypeError
        If `x` is not real numeric data or `negative_slope` is not a real number.
    ValueError
        If `negative_slope` is not finite.

    See Also
    --------
    leaky_relu_grad, relu

    References
    ----------
    maas2013rectifier

    Examples
    --------
    >>> leaky_relu(np.array([-2.0, 0.0, 3.0]), negative_slope=0.1)
    array([-0.2,  0. ,  3. ])
    """
    x = as_float_array(x, "x")
    a = as_real(negative_slope, "negative_slope")
    return np.where(x > 0, x, x * x.dtype.type(a))


def leaky_relu_grad(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """Derivative of Leaky ReLU: 1 where ``x > 0``, else ``negative_slope`` (also at exactly 0, as torch).

    Parameters
    ----------
    x : array_like of float32 or float64
        Pre-activations at which the derivative is taken.
    negative_slope : float, default 0.01
        The slope on the negative half-axis.

    Returns
    -------
    ndarray
        Same shape and float dtype as `x`.

    Shapes
    ------
    x : any;  result : same as x

    Raises
    ------
    TypeError, ValueError
        As :func:`leaky_relu`.

    Examples
    --------
    >>> leaky_relu_grad(np.array([-2.0, 0.0, 3.0]), negative_slope=0.1)
    array([0.1, 0.1, 1. ])
    """
    x = as_float_array(x, "x")
    a = as_real(negative_slope, "negative_slope")
    return np.where(x > 0, x.dtype.type(1), x.dtype.type(a)).astype(x.dtype, copy=False)


def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    $$\\mathrm{ELU}_\\alpha(x) = \\begin{cases} x & x > 0 \\\\ \\alpha\\,(e^{x} - 1) & x \\le 0 \\end{cases}$$

    The negative branch saturates at ``-alpha``. With ``alpha = 1`` the function is continuously
    differentiable (C¹) everywhere, but its second derivative jumps from 1 to 0 at 0.

    Parameters
    ----------
    x : array_like of float32 or float64
        Pre-activations.
    alpha : float, default 1.0
        Saturation value of the negative branch (any finite real, as torch allows).

    Returns
    -------
    ndarray
        Same shape and float dtype as `x`.

    Shapes
    ------
    x : any;  result : same as x

    Raises
    ------
    TypeError
        If `x` is not real numeric data or `alpha` is not a real number.
    ValueError
        If `alpha` is not finite.

    See Also
    --------
    elu_grad, relu

    References
    ----------
    clevert2016elu

    Examples
    --------
    >>> np.round(elu(np.array([-1.0, 0.0, 2.0])), 6)
    array([-0.632121,  0.      ,  2.      ])
    """
    x = as_float_array(x, "x")
    a = as_real(alpha, "alpha")
    neg = x.dtype.type(a) * np.expm1(np.minimum(x, 0))  # minimum: no overflow warning for large x
    return np.where(x > 0, x, neg).astype(x.dtype, copy=False)


def elu_grad(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Derivative of ELU: 1 where ``x > 0``, else ``alpha * exp(x)`` (``alpha`` at exactly 0, as torch).

    Parameters
    ----------
    x : array_like of float32 or float64
        Pre-activations at which the derivative is taken.
    alpha : float, default 1.0
        Saturation value of the negative branch.

    Returns
    -------
    ndarray
        Same shape and float dtype as `x`.

    Shapes
    ------
    x : any;  result : same as x

    Raises
    ------
    TypeError, ValueError
        As :func:`elu`.

    Examples
    --------
    >>> np.round(elu_grad(np.array([-1.0, 0.0, 2.0]), alpha=2.0), 6)
    array([0.735759, 2.      , 1.      ])
    """
    x = as_float_array(x, "x")
    a = as_real(alpha, "alpha")
    neg = x.dtype.type(a) * np.exp(np.minimum(x, 0))
    return np.where(x > 0, x.dtype.type(1), neg).astype(x.dtype, copy=False)


#: Name → (function, derivative, name of its parameter or None), for widgets and layers.
ACTIVATIONS = {
    "relu": (relu, relu_grad, None),
    "leaky_relu": (leaky_relu, leaky_relu_grad, "negative_slope"),
    "elu": (elu, elu_grad, "alpha"),
}


def _lookup(name: str):
    if not isinstance(name, str):
        raise TypeError(f"name: expected one of {sorted(ACTIVATIONS)}, got {type(name).__name__} {name!r}")
    if name not in ACTIVATIONS:
        raise ValueError(f"name: expected one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def activation(x: np.ndarray, name: str, param: float | None = None) -> np.ndarray:
    """Apply the activation called `name` (``"relu"``, ``"leaky_relu"``, ``"elu"``).

    A dispatcher for widgets and layers: ``activation(x, "elu", 0.5) == elu(x, 0.5)``.

    Parameters
    ----------
    x : array_like of float32 or float64
        Pre-activations.
    name : {"relu", "leaky_relu", "elu"}
        Which activation.
    param : float or None, default None
        ``negative_slope`` of LeakyReLU or ``alpha`` of ELU (their defaults when None); ignored
        for ReLU.

    Returns
    -------
    ndarray
        Same shape and float dtype as `x`.

    Shapes
    ------
    x : any;  result : same as x

    Raises
    ------
    TypeError
        If `name` is not a string, `x` is not real numeric data, or `param` is not a real number.
    ValueError
        If `name` is not one of the three, or `param` is not finite.

    See Also
    --------
    activation_grad, relu, leaky_relu, elu

    Examples
    --------
    >>> activation(np.array([-1.0, 1.0]), "leaky_relu", 0.1)
    array([-0.1,  1. ])
    """
    f, _, pname = _lookup(name)
    return f(x) if pname is None or param is None else f(x, param)


def activation_grad(x: np.ndarray, name: str, param: float | None = None) -> np.ndarray:
    """Derivative of the activation called `name` at `x`, with torch's value at 0.

    A dispatcher: ``activation_grad(x, "leaky_relu", a) == leaky_relu_grad(x, a)``.

    Parameters
    ----------
    x : array_like of float32 or float64
        Pre-activations at which the derivative is taken.
    name : {"relu", "leaky_relu", "elu"}
        Which activation.
    param : float or None, default None
        As in :func:`activation`.

    Returns
    -------
    ndarray
        Same shape and float dtype as `x`.

    Shapes
    ------
    x : any;  result : same as x

    Raises
    ------
    TypeError, ValueError
        As :func:`activation`.

    Examples
    --------
    >>> activation_grad(np.array([-1.0, 0.0, 1.0]), "elu", 2.0).round(6)
    array([0.735759, 2.      , 1.      ])
    """
    _, g, pname = _lookup(name)
    return g(x) if pname is None or param is None else g(x, param)


# ----------------------------------------------------------------------------------------------
# Dead units
# ----------------------------------------------------------------------------------------------

def dead_fraction(pre_activations: np.ndarray, *, sample_axis: int = 0) -> float:
    """Fraction of units whose pre-activation is never positive over all samples.

    A ReLU unit with ``z <= 0`` for every input of a data set outputs 0 and passes back a zero
    gradient for all of them: its incoming weights receive no update, so it cannot recover
    ("dead ReLU"). A unit is counted dead when ``max over samples of z <= 0``.

    Parameters
    ----------
    pre_activations : array_like of float
        Pre-activations ``z`` of a layer over a data set (torch tensors are read too).
    sample_axis : int, default 0
        The axis that runs over samples; every other index is one unit.

    Returns
    -------
    float
        Dead units / all units, in [0, 1].

    Shapes
    ------
    pre_activations : (n_samples, *units);  result : scalar

    Raises
    ------
    TypeError
        If `pre_activations` is not real numeric data or `sample_axis` is not an int.
    ValueError
        If `pre_activations` has fewer than 2 dims, no samples, or `sample_axis` is out of range.

    Examples
    --------
    >>> z = np.array([[-1.0, 2.0, 0.0], [-3.0, -1.0, 0.0]])   # 2 samples, 3 units
    >>> round(dead_fraction(z), 4)                             # units 0 and 2 never fire
    0.6667
    """
    z = as_float_array(pre_activations, "pre_activations")
    if z.ndim < 2:
        raise ValueError(f"pre_activations: expected at least 2 dims (n_samples, *units), got shape {z.shape}")
    axis = as_int(sample_axis, "sample_axis")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(f"sample_axis: expected an axis in [{-z.ndim}, {z.ndim - 1}], got {axis}")
    if z.shape[axis] == 0:
        raise ValueError(f"pre_activations: expected at least one sample along axis {axis}, got shape {z.shape}")
    alive = np.any(z > 0, axis=axis)
    return float(np.mean(~alive))


def gaussian_inactive_fraction(mu: float, sigma: float, k: int = 1) -> float:
    """Probability that a ReLU unit stays off for `k` independent inputs, if ``z ~ N(mu, sigma²)``.

    For one input ``P(z <= 0) = Φ(−μ/σ)``; for `k` independent draws of ``z`` (the unit never
    fires on any of them) it is ``Φ(−μ/σ)^k``. A negative bias shift μ makes units silent more
    often; the fraction of units of a layer that are off for a given input is the same number.

    Parameters
    ----------
    mu : float
        Mean of the pre-activation (e.g. the bias shift).
    sigma : float
        Standard deviation of the pre-activation, > 0.
    k : int, default 1
        Number of independent inputs.

    Returns
    -------
    float
        ``Φ(−μ/σ)^k``, computed as ``(erfc(μ / (σ√2)) / 2)^k``.

    Shapes
    ------
    mu, sigma, k : scalars;  result : scalar

    Raises
    ------
    TypeError, ValueError
        For non-numbers, ``sigma <= 0`` or ``k < 1``.

    See Also
    --------
    dead_fraction

    Examples
    --------
    >>> gaussian_inactive_fraction(0.0, 1.0)
    0.5
    >>> round(gaussian_inactive_fraction(-1.0, 1.0), 4)    # Φ(1)
    0.8413
    """
    import math

    mu = as_real(mu, "mu")
    sigma = as_real(sigma, "sigma", positive=True)
    k = as_int(k, "k", minimum=1)
    return float((0.5 * math.erfc(mu / (sigma * math.sqrt(2.0)))) ** k)
