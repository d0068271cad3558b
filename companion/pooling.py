"""Pooling as filtering plus decimation: average and max pooling, the box filter's response, blur pooling.

Average pooling with window ``k`` and stride ``k`` is a convolution with the box kernel
``h[n] = 1/k`` (``n = 0 … k-1``) followed by keeping every ``k``-th sample. The box kernel's
frequency response (a Dirichlet kernel) is

    |H(f)| = |sin(pi f k) / (k sin(pi f))|,     f in cycles per sample,

a poor low-pass filter: for ``k = 2`` it still passes ``cos(pi/4) ≈ 0.707`` of the amplitude at the
new Nyquist frequency ``1/(2k)``, and what it passes above that frequency folds back (aliasing).
Max pooling is non-linear; :func:`blur_pool` (Zhang 2019's MaxBlurPool) puts a binomial low-pass
filter between the dense max and the subsampling.

All functions take ``x (N, C, *S)`` with ``S`` = ``(L)``, ``(H, W)`` or ``(D, H, W)`` and keep the
input's float dtype. Only NumPy is needed.
"""

from __future__ import annotations

from math import comb
from typing import Sequence

import numpy as np
from companion._validation import as_float_array, as_int, as_tuple
from companion.convolution import correlate, output_size, window_view

__all__ = ["avg_pool", "max_pool", "max_pool_backward", "box_filter_response", "binomial_filter", "blur_pool",
           "pool_output_size"]

IntOrTuple = int | Sequence[int]


# --------------------------------------------------------------------------------------------
# Private checkers
# --------------------------------------------------------------------------------------------

def _pool_args(x, kernel, stride, padding):
    x = as_float_array(x, "x")
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"x: expected 3, 4 or 5 dims (N, C, *S) for 1-, 2- or 3-D pooling, "
                         f"got {x.ndim} (shape {x.shape})")
    d = x.ndim - 2
    k = as_tuple(kernel, d, "kernel", minimum=1)
    s = k if stride is None else as_tuple(stride, d, "stride", minimum=1)
    p = as_tuple(padding, d, "padding", minimum=0)
    for ki, pi in zip(k, p):
        if 2 * pi > ki:
            raise ValueError(f"padding: expected at most half the kernel size (kernel {k}), got {p}")
    spatial = x.shape[2:]
    for i, (n, ki, si, pi) in enumerate(zip(spatial, k, s, p)):
        if n + 2 * pi < ki:
            raise ValueError(f"x: spatial size {spatial} with padding {p} is smaller than kernel {k} "
                             f"along axis {i}")
    return x, k, s, p


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------

def pool_output_size(in_size: IntOrTuple, kernel: IntOrTuple, stride: IntOrTuple | None = None,
                     padding: IntOrTuple = 0) -> int | tuple[int, ...]:
    """Output length of a pooling window: ``floor((in + 2p - k) / s) + 1`` (``s`` defaults to ``k``).

    An int in gives an int out; a tuple in gives a tuple out (one entry per spatial axis).

    Parameters
    ----------
    in_size : int or tuple of int
        Input size per spatial axis.
    kernel, stride, padding : int or tuple of int
        As in :func:`avg_pool` (`stride` defaults to `kernel`).

    Returns
    -------
    int or tuple of int

    Shapes
    ------
    ``avg_pool(x, ...)`` maps ``(N, C, *S)`` to ``(N, C, *pool_output_size(S, ...))``.

    Raises
    ------
    TypeError, ValueError
        If an argument is not a positive int (or tuple of them), or the window does not fit.

    Examples
    --------
    >>> pool_output_size(64, 2)
    32
    >>> pool_output_size((7, 8), 3, stride=2, padding=1)
    (4, 4)
    """
    scalar = not isinstance(in_size, (list, tuple, np.ndarray))
    n = 1 if scalar else len(in_size)
    size = as_tuple(in_size, n, "in_size", minimum=1)
    k = as_tuple(kernel, n, "kernel", minimum=1)
    s = k if stride is None else as_tuple(stride, n, "stride", minimum=1)
    p = as_tuple(padding, n, "padding", minimum=0)
    for ni, ki, pi in zip(size, k, p):
        if ni + 2 * pi < ki:
            raise ValueError(f"in_size: expected at least kernel - 2*padding = {ki - 2 * pi}, got {ni}")
    out = output_size(size, k, stride=s, padding=p)  # the correlation's arithmetic, dilation 1
    return out[0] if scalar else out


def avg_pool(x: np.ndarray, kernel: IntOrTuple, stride: IntOrTuple | None = None,
             padding: IntOrTuple = 0) -> np.ndarray:
    """Average pooling (zero padding counted in the mean, as torch's ``count_include_pad=True``).

    ``y[n, c, i] = (1 / prod(k)) * sum_{u in window} x_pad[n, c, s*i + u]``: a box filter followed
    by decimation by the stride.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input batch.
    kernel : int or tuple of int
        Window size, one entry per spatial axis (an int is used for every axis).
    stride : int or tuple of int, optional
        Step between windows; defaults to `kernel` (non-overlapping windows).
    padding : int or tuple of int, default 0
        Zeros added on both sides of each spatial axis; at most half the kernel (as torch).

    Returns
    -------
    ndarray
        The pooled batch, in the dtype of `x`.

    Shapes
    ------
    x : (N, C, *S);  result : (N, C, *S_out) with ``S_out = floor((S + 2p - k) / s) + 1``

    Raises
    ------
    TypeError
        If `x` is not real numeric data or an argument is not an int (tuple).
    ValueError
        If `x` is not 3-, 4- or 5-D, the padding exceeds half the kernel, or the window does not fit.

    See Also
    --------
    max_pool, box_filter_response

    References
    ----------
    torch.nn.functional.avg_pool1d/2d/3d.

    Examples
    --------
    >>> avg_pool(np.arange(8.0).reshape(1, 1, 8), 2)
    array([[[0.5, 2.5, 4.5, 6.5]]])
    """
    x, k, s, p = _pool_args(x, kernel, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((pi, pi) for pi in p))
    win = window_view(xp, k, stride=s)
    axes = tuple(range(-len(k), 0))
    return (win.sum(axis=axes, dtype=x.dtype) / x.dtype.type(np.prod(k))).astype(x.dtype, copy=False)


def max_pool(x: np.ndarray, kernel: IntOrTuple, stride: IntOrTuple | None = None,
             padding: IntOrTuple = 0) -> np.ndarray:
    """Max pooling: the largest value in each window (padding is ``-inf``, as in torch).

    ``y[n, c, i] = max_{u in window} x_pad[n, c, s*i + u]``. Non-linear: it commutes with
    neither addition nor (in general) shifts.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input batch.
    kernel : int or tuple of int
        Window size, one entry per spatial axis.
    stride : int or tuple of int, optional
        Step between windows; defaults to `kernel`.
    padding : int or tuple of int, default 0
        Implicit ``-inf`` padding on both sides; at most half the kernel (as torch).

    Returns
    -------
    ndarray
        The pooled batch, in the dtype of `x`.

    Shapes
    ------
    x : (N, C, *S);  result : (N, C, *S_out) with ``S_out = floor((S + 2p - k) / s) + 1``

    Raises
    ------
    TypeError, ValueError
        As :func:`avg_pool`.

    See Also
    --------
    avg_pool, blur_pool

    References
    ----------
    torch.nn.functional.max_pool1d/2d/3d.

    Examples
    --------
    >>> max_pool(np.array([[[1.0, 3.0, 2.0, 0.0, 5.0]]]), 2)
    array([[[3., 2.]]])
    """
    x, k, s, p = _pool_args(x, kernel, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((pi, pi) for pi in p), constant_values=-np.inf)
    win = window_view(xp, k, stride=s)
    return win.max(axis=tuple(range(-len(k), 0)))


def max_pool_backward(grad_out: np.ndarray, x: np.ndarray, kernel: IntOrTuple,
                      stride: IntOrTuple | None = None, padding: IntOrTuple = 0) -> np.ndarray:
    """Gradient of :func:`max_pool` with respect to its input: each window's gradient goes to its argmax.

    ``grad_x[n, c, j] = sum over windows i whose argmax is j of grad_out[n, c, i]``. Every window
    passes its whole upstream gradient to the one input value that won the max and nothing to the
    others; where windows overlap (stride < kernel) a value that wins several windows collects
    several gradients. Ties go to the first maximum in the window's row-major order, as in torch's
    CPU kernels, so the result equals autograd through ``max_pool{1,2,3}d``. The ``-inf`` padding
    never wins (padding is at most half the kernel, so every window holds a real value).

    Parameters
    ----------
    grad_out : ndarray
        Upstream gradient, the shape of ``max_pool(x, kernel, stride, padding)``.
    x : ndarray of float32 or float64
        The input of the forward pass.
    kernel, stride, padding : int or tuple of int
        As in :func:`max_pool` (stride defaults to `kernel`).

    Returns
    -------
    ndarray
        ``grad_x``, the shape and dtype of `x`.

    Shapes
    ------
    x, result : (N, C, *S);  grad_out : (N, C, *S_out) with ``S_out = floor((S + 2p - k) / s) + 1``

    Raises
    ------
    TypeError
        If `x` or `grad_out` is not real numeric data, or an argument is not an int.
    ValueError
        As :func:`max_pool`, or if `grad_out` does not have the pooled shape.

    See Also
    --------
    max_pool

    References
    ----------
    torch.nn.functional.max_pool1d/2d/3d (autograd).

    Examples
    --------
    >>> x = np.array([[[1.0, 3.0, 2.0, 0.0, 5.0]]])
    >>> max_pool_backward(np.array([[[10.0, 20.0]]]), x, 2)
    array([[[ 0., 10., 20.,  0.,  0.]]])
    """
    x, k, s, p = _pool_args(x, kernel, stride, padding)
    grad_out = as_float_array(grad_out, "grad_out")
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((pi, pi) for pi in p), constant_values=-np.inf)
    win = window_view(xp, k, stride=s)                                       # (N, C, *S_out, *k)
    d = len(k)
    out_shape = win.shape[:2 + d]
    if grad_out.shape != out_shape:
        raise ValueError(f"grad_out: expected the pooled shape {out_shape}, got {grad_out.shape}")
    flat = win.reshape(out_shape + (-1,))
    arg = np.argmax(flat, axis=-1)                                 # first maximum, row-major window order
    offsets = np.unravel_index(arg, k)                              # position of the max inside each window
    grid = np.indices(out_shape, sparse=True)
    index = tuple(grid[:2]) + tuple(grid[2 + i] * s[i] + offsets[i] for i in range(d))
    grad_pad = np.zeros(xp.shape, dtype=x.dtype)
    np.add.at(grad_pad, index, grad_out.astype(x.dtype, copy=False))
    crop = tuple(slice(pi, pi + n) for pi, n in zip(p, x.shape[2:]))
    return np.ascontiguousarray(grad_pad[(slice(None), slice(None)) + crop])


def box_filter_response(k: int, f) -> np.ndarray:
    """Magnitude response of the length-`k` box (moving-average) filter.

    The box kernel ``h[n] = 1/k`` for ``n = 0 … k-1`` has the discrete-time Fourier transform
    ``H(f) = e^{-i pi f (k-1)} sin(pi f k) / (k sin(pi f))``, so

        |H(f)| = |sin(pi f k) / (k sin(pi f))|,

    with the limit 1 at integer `f` (``f = 0``: the mean is kept). Zeros at ``f = m/k``
    (``m = 1 … k-1``); at the new Nyquist frequency ``1/(2k)`` of pooling by `k` it is
    ``1 / (k sin(pi/(2k)))``: 0.7071 for ``k = 2``.

    Parameters
    ----------
    k : int
        Window length, >= 1.
    f : float or array_like
        Frequency in cycles per sample (period 1; 0.5 is the Nyquist frequency).

    Returns
    -------
    ndarray or float
        ``|H(f)|``, the same shape as `f` (float64 unless `f` is float32).

    Shapes
    ------
    f : any;  result : same as f

    Raises
    ------
    TypeError
        If `k` is not an int or `f` is not numeric.
    ValueError
        If `k` < 1.

    Examples
    --------
    >>> round(float(box_filter_response(2, 0.25)), 4)
    0.7071
    """
    k = as_int(k, "k", minimum=1)
    f = as_float_array(f, "f")
    s = np.sin(np.pi * f)
    near_int = np.isclose(f, np.round(f), rtol=0, atol=1e-12)
    safe = np.where(near_int, 1.0, s)
    out = np.abs(np.sin(np.pi * f * k) / (k * safe))
    out = np.where(near_int, 1.0, out).astype(f.dtype, copy=False)
    return out[()] if out.ndim == 0 else out


def binomial_filter(filter_size: int, dtype=np.float64) -> np.ndarray:
    """Normalised 1-D binomial filter ``C(n-1, i) / 2^(n-1)``: [1], [1,1]/2, [1,2,1]/4, [1,3,3,1]/8 …

    Its DC gain is 1 and, for ``n >= 2``, its response at the Nyquist frequency is 0.

    Parameters
    ----------
    filter_size : int
        Number of taps ``n``, >= 1.
    dtype : NumPy float dtype, default float64

    Returns
    -------
    ndarray

    Shapes
    ------
    result : (filter_size,)

    Raises
    ------
    TypeError, ValueError
        If `filter_size` is not an int >= 1.

    Examples
    --------
    >>> binomial_filter(3)
    array([0.25, 0.5 , 0.25])
    """
    n = as_int(filter_size, "filter_size", minimum=1)
    taps = np.array([comb(n - 1, i) for i in range(n)], dtype=np.float64)
    return (taps / taps.sum()).astype(dtype)


def blur_pool(x: np.ndarray, kernel: int = 2, stride: int = 2, filter_size: int = 3) -> np.ndarray:
    """Anti-aliased max pooling (MaxBlurPool, Zhang 2019): dense max, binomial blur, subsample.

    1. A max over a window of `kernel` at stride 1, padded with ``-inf`` (``(kernel-1)//2`` before,
       the rest after) so the size stays ``S``; ``kernel=1`` skips this step.
    2. A depthwise blur with the separable normalised binomial filter of `filter_size` taps
       (DC gain 1), reflect padding ``(filter_size-1)//2`` before and the rest after, so the size
       stays ``S``.
    3. Keep every `stride`-th sample from index 0: output size ``ceil(S / stride)``.

    Max pooling with stride 2 equals steps 1 and 3 without the blur; the blur removes what would
    alias in step 3.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input batch, 1-, 2- or 3-D.
    kernel : int, default 2
        Window of the dense max (1 skips it).
    stride : int, default 2
        Subsampling factor.
    filter_size : int, default 3
        Taps of the binomial filter (1 means no blur).

    Returns
    -------
    ndarray
        The pooled batch, in the dtype of `x`.

    Shapes
    ------
    x : (N, C, *S);  result : (N, C, *ceil(S / stride))

    Raises
    ------
    TypeError
        If `x` is not real numeric data or an argument is not an int.
    ValueError
        If `x` is not 3-, 4- or 5-D, or a spatial size is too small for the reflect padding.

    See Also
    --------
    max_pool, binomial_filter

    References
    ----------
    zhang2019shiftinvariant

    Examples
    --------
    >>> blur_pool(np.zeros((1, 3, 8, 9), np.float32)).shape
    (1, 3, 4, 5)
    """
    x = as_float_array(x, "x")
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"x: expected 3, 4 or 5 dims (N, C, *S), got {x.ndim} (shape {x.shape})")
    kernel = as_int(kernel, "kernel", minimum=1)
    stride = as_int(stride, "stride", minimum=1)
    filter_size = as_int(filter_size, "filter_size", minimum=1)
    d = x.ndim - 2
    spatial = x.shape[2:]
    pad_before, pad_after = (filter_size - 1) // 2, filter_size // 2
    if min(spatial) <= max(pad_after, kernel - 1):
        raise ValueError(f"x: expected every spatial size > {max(pad_after, kernel - 1)} for kernel "
                         f"{kernel} and filter_size {filter_size} (reflect padding), got {spatial}")
    out = x
    if kernel > 1:
        lo = (kernel - 1) // 2
        pads = ((0, 0), (0, 0)) + ((lo, kernel - 1 - lo),) * d
        out = max_pool(np.pad(x, pads, constant_values=-np.inf), kernel, stride=1)
    if filter_size > 1:
        taps = binomial_filter(filter_size, x.dtype)
        out = np.pad(out, ((0, 0), (0, 0)) + ((pad_before, pad_after),) * d, mode="reflect")
        depthwise = out.reshape((-1, 1) + out.shape[2:])  # every channel filtered on its own
        for axis in range(d):  # separable blur: one 1-D correlation per axis
            depthwise = correlate(depthwise, taps.reshape((1, 1) + (1,) * axis + (-1,) + (1,) * (d - 1 - axis)))
        out = depthwise.reshape(x.shape[:2] + depthwise.shape[2:])
    return np.ascontiguousarray(out[(slice(None), slice(None)) + (slice(None, None, stride),) * d])
