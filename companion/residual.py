"""Gradient flow through plain and residual stacks: the linear theory, in NumPy.

A stack of ``L`` linear blocks maps ``x_{l+1} = W_l x_l`` (plain) or ``x_{l+1} = x_l + W_l x_l``
(residual). Backpropagation multiplies the upstream gradient by one transposed Jacobian per block,
``g_l = W_lᵀ g_{l+1}`` or ``g_l = g_{l+1} + W_lᵀ g_{l+1}``. With entries of ``W_l`` drawn from
``N(0, sigma² / n)`` (``n`` the width, so ``E[W Wᵀ] = sigma² I``) and the blocks independent,

``E||g_0||² / ||g_L||² = sigma^{2L}`` (plain)  and  ``(1 + sigma²)^L`` (residual).

- :func:`linear_theory_growth` — that expectation, optionally with every branch scaled by a
  factor ``branch_scale`` (``1/sqrt(L)`` keeps the residual growth below ``e^{sigma²}`` at any
  depth);
- :func:`residual_backward` — one residual block's backward pass given its branch Jacobian,
  ``∂L/∂x = ∂L/∂y + J_Fᵀ ∂L/∂y``;
- :func:`linear_backward_norms` — the exact backward pass through given weight matrices:
  ``||g_l|| / ||g_L||`` for ``l = 0 … L``.

The torch networks that these describe are :class:`companion.models.PlainNet` and
:class:`companion.models.ResidualNet` (identity activation, no normalisation); the chapter
measures them against this theory, and the residual widget draws it.

References
----------
he2016deep, he2016identity, glorot2010understanding
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from companion._validation import as_bool, as_float_array, as_int, as_positive_float

__all__ = ["linear_theory_growth", "linear_backward_norms", "residual_backward"]


def linear_theory_growth(depth: int, sigma: float, *, residual: bool, branch_scale: float = 1.0) -> float:
    """Expected growth of the squared gradient norm through `depth` linear blocks at init.

    With block weights ``W ~ N(0, sigma²/fan_in)`` (so ``E[W Wᵀ] = sigma² I``) and identity
    activations, ``E||Wᵀ g||² = sigma² ||g||²`` and ``E||(I + W)ᵀ g||² = (1 + sigma²) ||g||²``
    (the cross term has mean 0); independent layers multiply: ``sigma^{2L}`` (plain) or
    ``(1 + sigma²)^L`` (residual). A branch scaled by ``a`` has ``sigma`` replaced by ``a sigma``;
    with ``a = 1/sqrt(L)`` the residual factor ``(1 + sigma²/L)^L`` stays below ``e^{sigma²}``.

    Parameters
    ----------
    depth : int
        Number of blocks ``L``, >= 0.
    sigma : float
        Init scale, >= 0.
    residual : bool
        With skips (``I + W``) or without (``W``).
    branch_scale : float, default 1.0
        Factor multiplying every block's weights, >= 0.

    Returns
    -------
    float
        ``E||∇x_0||² / ||∇x_L||²``.

    Shapes
    ------
    Scalars only.

    Raises
    ------
    TypeError, ValueError
        For a negative or non-integer `depth`, a negative `sigma` or `branch_scale`, a non-bool
        `residual`.

    Examples
    --------
    >>> linear_theory_growth(10, 0.5, residual=False), linear_theory_growth(2, 1.0, residual=True)
    (9.5367431640625e-07, 4.0)
    >>> round(linear_theory_growth(100, 1.0, residual=True, branch_scale=0.1), 3)   # (1 + 1/100)^100
    2.705
    """
    depth = as_int(depth, "depth", minimum=0)
    sigma = as_positive_float(sigma, "sigma", allow_zero=True)
    residual = as_bool(residual, "residual")
    s = sigma * as_positive_float(branch_scale, "branch_scale", allow_zero=True)
    return float((1.0 + s ** 2) ** depth if residual else s ** (2 * depth))


def linear_backward_norms(weights: Sequence[Any], grad_out: Any, *, residual: bool) -> np.ndarray:
    """Relative gradient norms ``||g_l|| / ||g_L||`` through a stack of linear blocks.

    Block ``l`` maps a batch of row vectors ``x_l (B, n)`` to ``x_l W_lᵀ`` (plain; torch's
    ``Linear`` convention, ``W_l`` of shape ``(n_out, n_in)``) or ``x_l + x_l W_lᵀ`` (residual), so
    the backward pass is ``g_l = g_{l+1} W_l`` (plain) or ``g_l = g_{l+1} + g_{l+1} W_l``
    (residual), starting from ``g_L = grad_out``. Norms are Frobenius norms over the batch.

    Parameters
    ----------
    weights : sequence of ndarray
        ``W_0, …, W_{L-1}``, each ``(n, n)`` (square: the residual sum needs equal widths; a plain
        stack may change width, ``(n_{l+1}, n_l)``).
    grad_out : ndarray
        The upstream gradient at the last block's output, ``(B, n_L)``; not all zero.
    residual : bool
        With skips or without.

    Returns
    -------
    ndarray of float64
        ``(L + 1,)``; entry ``l`` is ``||g_l|| / ||g_L||`` (the last entry is 1).

    Shapes
    ------
    weights[l] : (n_{l+1}, n_l);  grad_out : (B, n_L);  result : (L + 1,)

    Raises
    ------
    TypeError
        If a weight or `grad_out` is not real numeric data, or `residual` is not a bool.
    ValueError
        If shapes do not chain, a residual weight is not square, or `grad_out` is zero.

    Examples
    --------
    >>> w = [2.0 * np.eye(3), 0.5 * np.eye(3)]
    >>> g = np.ones((1, 3))
    >>> linear_backward_norms(w, g, residual=False)       # g_1 = g W_1, g_0 = g_1 W_0
    array([1. , 0.5, 1. ])
    >>> linear_backward_norms(w, g, residual=True)        # factors 1.5 and 3
    array([4.5, 1.5, 1. ])
    """
    residual = as_bool(residual, "residual")
    g = as_float_array(grad_out, "grad_out").astype(np.float64, copy=False)
    if g.ndim != 2:
        raise ValueError(f"grad_out: expected (B, n) with 2 dims, got shape {g.shape}")
    scale = float(np.linalg.norm(g))
    if scale == 0:
        raise ValueError("grad_out: expected a non-zero upstream gradient, got all zeros")
    ws = [as_float_array(w, f"weights[{i}]").astype(np.float64, copy=False) for i, w in enumerate(weights)]
    norms = [1.0]
    for i in range(len(ws) - 1, -1, -1):
        w = ws[i]
        if w.ndim != 2 or w.shape[0] != g.shape[1]:
            raise ValueError(f"weights[{i}]: expected shape ({g.shape[1]}, n_in) to chain with the gradient "
                             f"of width {g.shape[1]}, got {w.shape}")
        if residual and w.shape[0] != w.shape[1]:
            raise ValueError(f"weights[{i}]: expected a square matrix for a residual block, got {w.shape}")
        g = g @ w + g if residual else g @ w
        norms.append(float(np.linalg.norm(g)) / scale)
    return np.asarray(norms[::-1])


def residual_backward(grad_y: Any, jacobian: Any) -> np.ndarray:
    """Gradient at the input of a residual block ``y = x + F(x)``: ``g + J_Fᵀ g``.

    The skip passes the upstream gradient ``g = ∂L/∂y`` through unchanged; the branch adds its
    transposed Jacobian times ``g``.

    Parameters
    ----------
    grad_y : ndarray
        ``∂L/∂y``, a vector of length ``n`` (or a batch ``(B, n)`` of them).
    jacobian : ndarray
        ``J_F = ∂F/∂x`` at the current ``x``, ``(n, n)`` (rows: outputs of F, columns: inputs).

    Returns
    -------
    ndarray of float64
        ``∂L/∂x``, the shape of `grad_y`.

    Shapes
    ------
    grad_y : (n,) or (B, n);  jacobian : (n, n);  result : like grad_y

    Raises
    ------
    TypeError
        If an argument is not real numeric data.
    ValueError
        If `jacobian` is not ``(n, n)`` with ``n`` the length of `grad_y`.

    Examples
    --------
    >>> residual_backward([1.0, 2.0], [[0.0, 1.0], [0.0, 0.0]])   # g + J^T g = [1, 2] + [0, 1]
    array([1., 3.])
    """
    g = as_float_array(grad_y, "grad_y").astype(np.float64, copy=False)
    j = as_float_array(jacobian, "jacobian").astype(np.float64, copy=False)
    if g.ndim not in (1, 2):
        raise ValueError(f"grad_y: expected (n,) or (B, n), got shape {g.shape}")
    n = g.shape[-1]
    if j.shape != (n, n):
        raise ValueError(f"jacobian: expected shape ({n}, {n}) for a gradient of length {n}, got {j.shape}")
    return g + g @ j
