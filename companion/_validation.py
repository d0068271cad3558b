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
    a = to_numpy(a)  # a torch tensor: read it, never keep the graph
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
    m = np.asarray(to_numpy(mask))
    if m.dtype.kind not in "biu":
        raise TypeError(f"{name}: expected an integer or boolean label map, got dtype {m.dtype}")
    if m.shape != tuple(shape):
        raise ValueError(f"{name}: expected the image's shape {tuple(shape)}, got {m.shape}")
    return m


def to_numpy(a: Any) -> Any:
    """A torch tensor as a NumPy array (detached, on the CPU); anything else unchanged."""
    if hasattr(a, "detach") and hasattr(a, "numpy"):
        return a.detach().cpu().numpy()
    return a


def as_bool(v: Any, name: str, *, expected: str = "a bool") -> bool:
    """Return `v` as a Python bool, refusing anything that is not a bool (``bool("no")`` is True).

    >>> as_bool(True, "affine")
    True
    >>> as_bool(1, "affine")
    Traceback (most recent call last):
    ...
    TypeError: affine: expected a bool, got int 1
    """
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name}: expected {expected}, got {type(v).__name__} {v!r}")
    return bool(v)


def as_real(v: Any, name: str, *, positive: bool = False, expected: str = "a real number") -> float:
    """Return `v` as a finite Python float (``> 0`` with `positive`); bools and strings are refused.

    >>> as_real(2, "alpha")
    2.0
    >>> as_real(float("nan"), "alpha")
    Traceback (most recent call last):
    ...
    ValueError: alpha: expected a finite number, got nan
    """
    if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name}: expected {expected}, got {type(v).__name__} {v!r}")
    v = float(v)
    if not np.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {v}")
    if positive and v <= 0:
        raise ValueError(f"{name}: expected a number > 0, got {v}")
    return v


def as_choice(v: Any, name: str, options: Any, *, expected: str | None = None) -> Any:
    """Return `v` if it is one of `options`, else raise ValueError naming `name`.

    The message reads ``"<name>: expected one of <options>, got <v>"``, or
    ``"<name>: expected <expected>, got <v>"`` when `expected` describes the options in words.

    >>> as_choice("sum", "reduction", ("mean", "sum", "none"))
    'sum'
    >>> as_choice("avg", "reduction", ("mean", "sum", "none"), expected="'mean', 'sum' or 'none'")
    Traceback (most recent call last):
    ...
    ValueError: reduction: expected 'mean', 'sum' or 'none', got 'avg'
    """
    try:
        ok = v in options
    except TypeError:  # an unhashable value asked of a dict or set
        ok = False
    if not ok:
        raise ValueError(f"{name}: expected {expected or f'one of {options}'}, got {v!r}")
    return v


def as_typed_array(a: Any, name: str, kinds: str, expected: str) -> np.ndarray:
    """`a` (a torch tensor is read) as a NumPy array whose dtype kind is one of `kinds` (e.g. ``"iu"``).

    Raises TypeError ``"<name>: expected <expected>, got ..."`` for None, strings and other dtypes.

    >>> as_typed_array([0, 2], "target", "iu", "an integer label array")
    array([0, 2])
    """
    a = to_numpy(a)
    if a is None or isinstance(a, (str, bytes)):
        raise TypeError(f"{name}: expected {expected}, got {type(a).__name__}")
    arr = np.asarray(a)
    if arr.dtype.kind not in kinds:
        raise TypeError(f"{name}: expected {expected}, got dtype {arr.dtype}")
    return arr


def as_class_scores(a: Any, name: str, *, min_dims: int = 2) -> np.ndarray:
    """Per-class scores ``(N, K, *S)`` (logits or probabilities) as a float array.

    Raises
    ------
    TypeError
        If `a` is not real numeric data.
    ValueError
        If `a` has fewer than `min_dims` dims or no class on axis 1.
    """
    z = as_float_array(a, name)
    if z.ndim < min_dims:
        raise ValueError(f"{name}: expected (N, K, *S) with at least {min_dims} dims, got shape {z.shape}")
    if z.shape[1] < 1:
        raise ValueError(f"{name}: expected at least 1 class on axis 1, got shape {z.shape}")
    return z


def as_class_labels(target: Any, scores: np.ndarray, *, scores_name: str = "logits",
                    name: str = "target") -> np.ndarray:
    """Integer class labels ``(N, *S)`` in ``[0, K)`` for scores ``(N, K, *S)``, as int64.

    Raises
    ------
    TypeError
        If `target` is not an integer array (bool and float labels are refused).
    ValueError
        If its shape is not ``(N, *S)`` of `scores` or a label lies outside ``[0, K)``.
    """
    t = as_typed_array(target, name, "iu", "an integer array of class labels (int64)")
    want = (scores.shape[0],) + scores.shape[2:]
    if t.shape != want:
        hint = " (drop the channel axis: target[:, 0])" if t.ndim == scores.ndim and t.shape[1] == 1 else ""
        raise ValueError(f"{name}: expected shape {want} = (N, *S) of {scores_name} {scores.shape}, "
                         f"got {t.shape}{hint}")
    k = scores.shape[1]
    if t.size and (t.min() < 0 or t.max() >= k):
        raise ValueError(f"{name}: expected class labels in [0, {k}) for K={k} classes, "
                         f"got values in [{t.min()}, {t.max()}]")
    return t.astype(np.int64, copy=False)
