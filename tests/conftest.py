"""Shared test fixtures and the one gradient oracle of the test suite.

Exercise checks with a learner's name record the attempt in a local progress file: in tests that
file lives in a temporary folder, never in the user's data directory.

:func:`numerical_vjp` is the centred-difference oracle every gradient test compares with, written
here once and independent of :mod:`companion.gradcheck` (whose own tests check it against closed
forms and torch autograd). Test modules import it with ``from conftest import numerical_vjp``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _progress_in_tmp(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("COMPANION_PROGRESS_DIR", str(tmp_path_factory.mktemp("progress")))


def _as_float64(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):  # a torch tensor
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def numerical_vjp(f: Callable, x: Any, grad_out: Any = None, *, h: float = 1e-6):
    """Centred differences in float64, one input entry at a time.

    Without `grad_out`: the gradient of the scalar ``f(x)``. With it: the gradient of
    ``sum(grad_out * f(x))``, the vector-Jacobian product backpropagation computes. `x` may be a
    NumPy array or a torch tensor (then `f` is called with float64 tensors under ``no_grad`` and
    the result is a tensor); `x` itself is never changed.
    """
    is_torch = hasattr(x, "detach")
    x64 = _as_float64(x)
    g = None if grad_out is None else _as_float64(grad_out)
    if is_torch:
        import torch

        def call(v: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return _as_float64(f(torch.from_numpy(v)))
    else:
        def call(v: np.ndarray) -> np.ndarray:
            return _as_float64(f(v))
    grad = np.zeros(x64.shape)
    for i in np.ndindex(x64.shape):
        x_plus, x_minus = x64.copy(), x64.copy()
        x_plus[i] += h
        x_minus[i] -= h
        diff = call(x_plus) - call(x_minus)
        grad[i] = (diff if g is None else np.sum(g * diff)) / (2 * h)
    if is_torch:
        import torch

        return torch.from_numpy(grad)
    return grad


def relative_error(a: Any, b: Any, *, kind: str = "elementwise") -> float:
    """Relative error of two gradients.

    ``"elementwise"``: ``max |a - b| / (|a| + |b|)`` over entries (every entry must agree);
    ``"norm"``: ``||a - b|| / (||a|| + ||b||)`` (entries near 0 do not dominate).
    """
    a, b = _as_float64(a), _as_float64(b)
    if kind == "norm":
        return float(np.linalg.norm(a - b) / max(1e-300, np.linalg.norm(a) + np.linalg.norm(b)))
    return float(np.max(np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))))
