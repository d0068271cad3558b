"""Argument checks shared by every companion module.

Each public function normalises and checks its arguments at the entry point, before any work,
with the helpers below. Errors follow one form: ``"<arg>: expected <what>, got <what>"``, a
``TypeError`` for the wrong kind of thing and a ``ValueError`` for the wrong value or shape.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def as_float_array(a: Any, name: str, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Return `a` as a float32 or float64 NumPy array, without copying when it already is one.

    float32 and float64 arrays keep their dtype; Python numbers, lists and integer arrays become
    float64. Booleans, complex numbers, strings and objects are refused.

    Parameters
    ----------
    a : array_like
        The argument to check.
    name : str
        The argument's name, used in error messages.
    ndim : int or tuple of int, optional
        The number (or allowed numbers) of dimensions.

    Raises
    ------
    TypeError
        If `a` is not real numeric data.
    ValueError
        If `a` has the wrong number of dimensions.
    """
    if hasattr(a, "detach") and hasattr(a, "numpy"):  # a torch tensor: read it, never keep the graph
        a = a.detach().cpu().numpy()
    if isinstance(a, (str, bytes)) or a is None:
        raise TypeError(f"{name}: expected a float array, got {type(a).__name__}")
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name}: expected a float array, got {type(a).__name__} ({exc})") from None
    if arr.dtype.kind == "f":
        if arr.dtype not in FLOAT_DTYPES:
            arr = arr.astype(np.float64)
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.float64)
    else:
        raise TypeError(f"{name}: expected a float32 or float64 array, got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{name}: expected {want} dims, got {arr.ndim} (shape {arr.shape})")
    return arr


def as_int(v: Any, name: str, *, minimum: int | None = None) -> int:
    """Return `v` as a Python int, refusing bools, floats with fractions and values below `minimum`."""
    if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)):
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        else:
            raise TypeError(f"{name}: expected an int, got {type(v).__name__} {v!r}")
    v = int(v)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {v}")
    return v


def as_tuple(v: Any, n: int, name: str, *, minimum: int | None = None) -> tuple[int, ...]:
    """Normalise an int-or-tuple argument to a tuple of `n` ints.

    ``as_tuple(2, 3, "stride")`` gives ``(2, 2, 2)``; a tuple must have exactly `n` entries.

    Raises
    ------
    TypeError
        If `v` is neither an int nor a sequence of ints.
    ValueError
        If a sequence has the wrong length or an entry is below `minimum`.
    """
    if isinstance(v, (list, tuple, np.ndarray)):
        items = list(np.asarray(v).ravel()) if isinstance(v, np.ndarray) else list(v)
        if len(items) != n:
            raise ValueError(f"{name}: expected an int or {n} ints (one per spatial axis), got {len(items)}: {tuple(v)}")
        out = []
        for item in items:
            try:
                out.append(as_int(item, name, minimum=minimum))
            except TypeError:
                raise TypeError(f"{name}: expected an int or a tuple of {n} ints, got {v!r}") from None
        return tuple(out)
    try:
        return (as_int(v, name, minimum=minimum),) * n
    except TypeError:
        raise TypeError(f"{name}: expected an int or a tuple of {n} ints, got {type(v).__name__} {v!r}") from None


def as_positive_float(v: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return `v` as a finite float > 0 (>= 0 with `allow_zero`)."""
    if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a number, got {type(v).__name__} {v!r}")
    v = float(v)
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a finite number {bound}, got {v}")
    return v


def as_label_map(mask: Any, shape: tuple[int, ...], name: str = "mask") -> np.ndarray:
    """An integer or boolean label map of the given shape (torch tensors are converted).

    Raises TypeError naming `name` for a non-integer dtype and ValueError for another shape.
    """
    if hasattr(mask, "detach") and hasattr(mask, "numpy"):
        mask = mask.detach().cpu().numpy()
    m = np.asarray(mask)
    if m.dtype.kind not in "biu":
        raise TypeError(f"{name}: expected an integer or boolean label map, got dtype {m.dtype}")
    if m.shape != tuple(shape):
        raise ValueError(f"{name}: expected the image's shape {tuple(shape)}, got {m.shape}")
    return m
