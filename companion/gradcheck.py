"""Gradient checking: centred differences and the relative error between two gradients.

Every chapter that derives a gradient checks it the same way (cs231n's gradient check): compute the
derived gradient, compute the same gradient numerically by centred differences in float64, and
compare the two with a relative error. A correct formula gives a relative error near ``1e-8`` or
below; a wrong one, an error near 1.

The centred difference of a scalar function :math:`f` along the unit vector :math:`e_i`,

$$\\frac{\\partial f}{\\partial x_i} \\approx \\frac{f(x + h e_i) - f(x - h e_i)}{2h},$$

has a truncation error :math:`O(h^2)` (the forward difference: :math:`O(h)`). For an array-valued
function, the gradient of :math:`\\sum g \\odot f(x)` for a fixed upstream gradient :math:`g` is the
vector–Jacobian product :math:`J_f^\\top g` that backpropagation computes.

The cost is two evaluations of ``f`` per input entry, so this is for small inputs only.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["numerical_grad", "relative_error"]


def numerical_grad(f: Callable[[np.ndarray], Any], x: Any, grad_out: Any = None, *,
                   h: float = 1e-6) -> np.ndarray:
    """Gradient of ``f`` at ``x`` by centred differences in float64.

    Without `grad_out`, ``f`` must return a scalar and the result is :math:`\\nabla f(x)`. With
    `grad_out`, ``f`` may return an array of that shape and the result is the gradient of
    ``sum(grad_out * f(x))``, the vector–Jacobian product :math:`J_f(x)^\\top g`.

    Parameters
    ----------
    f : callable
        ``f(x)`` for an array ``x`` of the shape of `x`; called ``2 * x.size`` times with
        perturbed copies (never with `x` itself, which is not mutated).
    x : array_like
        The point; converted to float64.
    grad_out : array_like, optional
        Upstream gradient ``g``, the shape of ``f(x)``.
    h : float, default 1e-6
        The step; the error is ``O(h**2)`` plus rounding ``O(eps / h)``.

    Returns
    -------
    ndarray of float64
        Same shape as `x`.

    Shapes
    ------
    x : any;  grad_out : shape of f(x);  result : shape of x

    Raises
    ------
    TypeError
        If `f` is not callable, or ``f(x)`` is not a scalar while `grad_out` is None.
    ValueError
        If `h` is not a finite number > 0, or ``f(x)`` does not have the shape of `grad_out`.

    References
    ----------
    goodfellow2016deep

    Examples
    --------
    >>> g = numerical_grad(lambda v: float(np.sum(v ** 3)), np.array([1.0, 2.0]))
    >>> np.round(g, 6)
    array([ 3., 12.])
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable, got {type(f).__name__}")
    if isinstance(h, bool) or not isinstance(h, (int, float, np.floating, np.integer)) or not (np.isfinite(h) and h > 0):
        raise ValueError(f"h: expected a finite number > 0, got {h!r}")
    x = np.array(x, dtype=np.float64)  # a copy: the caller's array is never touched
    g = None if grad_out is None else np.asarray(grad_out, dtype=np.float64)

    def contract(value: Any) -> float:
        value = np.asarray(value, dtype=np.float64)
        if g is None:
            if value.size != 1:
                raise TypeError(f"f: expected a scalar output when grad_out is None, got shape {value.shape}")
            return float(value.reshape(()))
        if value.shape != g.shape:
            raise ValueError(f"grad_out: expected the shape of f(x), {value.shape}, got {g.shape}")
        return float(np.sum(g * value))

    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        grad[i] = (contract(f(plus)) - contract(f(minus))) / (2 * h)
    return grad


def relative_error(a: Any, b: Any, *, kind: str = "elementwise") -> float:
    """Relative error between two gradients: near 0 when they agree, near 1 when they do not.

    - ``"elementwise"`` (cs231n): :math:`\\max_i |a_i - b_i| / \\max(|a_i| + |b_i|, 10^{-12})`, strict:
      one wrong entry shows even where the others are large.
    - ``"norm"``: :math:`\\lVert a - b \\rVert_2 / (\\lVert a \\rVert_2 + \\lVert b \\rVert_2)`, forgiving of
      entries that are both nearly 0 (where the elementwise error is rounding noise over noise).

    Parameters
    ----------
    a, b : array_like
        Two arrays of the same shape (or broadcastable scalars).
    kind : {"elementwise", "norm"}

    Returns
    -------
    float
        0 for identical arrays (and for two zero arrays).

    Raises
    ------
    ValueError
        If the shapes differ or `kind` is unknown.

    Examples
    --------
    >>> round(relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 4e-8])), 12)
    1e-08
    >>> relative_error(np.array([1.0, 0.0]), np.array([-1.0, 0.0]))
    1.0
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"b: expected the shape of a, {a.shape}, got {b.shape}")
    if kind == "elementwise":
        if a.size == 0:
            return 0.0
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))
    if kind == "norm":
        denom = np.linalg.norm(a) + np.linalg.norm(b)
        return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)
    raise ValueError(f"kind: expected 'elementwise' or 'norm', got {kind!r}")
