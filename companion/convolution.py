"""Cross-correlation, true convolution and their backward pass, in 1, 2 and 3 dimensions.

What deep-learning libraries call a "convolution layer" computes a **cross-correlation**: the
kernel slides over the (zero-padded) input without being flipped,

.. math::

    y[n, o, \\mathbf{i}] = b[o] + \\sum_{c} \\sum_{\\mathbf{k}}
        w[o, c, \\mathbf{k}] \\; x_{\\text{pad}}[n, c, \\mathbf{s} \\odot \\mathbf{i} + \\mathbf{d} \\odot \\mathbf{k}],

with stride :math:`\\mathbf{s}`, dilation :math:`\\mathbf{d}` and zero padding :math:`\\mathbf{p}` on
both sides of every spatial axis. Along each axis the output has
``floor((in + 2p - d(k-1) - 1) / s) + 1`` entries (:func:`output_size`). A true
**convolution** (:func:`convolve`) is the same sum with the kernel flipped along every spatial
axis; it is commutative and associative, correlation is not.

How :func:`correlate` is vectorised
-----------------------------------
:func:`correlate_naive` is the formula as written: a Python loop over every output position,
each taking the dot product of one input window with the kernel. :func:`correlate` computes the
same numbers with no Python loop over positions, in three steps ("im2col"):

1. **Pad** the input once with :func:`numpy.pad`.
2. **Window view.** :func:`numpy.lib.stride_tricks.sliding_window_view` returns, without copying
   a byte, an array ``windows`` of shape ``(N, C_in, *S_out, *K)`` in which
   ``windows[n, c, i, k]`` *is* the input sample ``x_pad[n, c, s*i + d*k]``: it reuses the
   input's memory with extra strides. Dilation and stride are plain slices ``[::d]`` (window
   axes) and ``[::s]`` (position axes) of that view, so they cost nothing either.
3. **One matrix product.** The view is regrouped into the "column matrix"
   ``cols (N, C_in*prod(K), prod(S_out))``: column ``i`` of sample ``n`` holds the window under
   output position ``i``. This is the only copy (``prod(K)`` times the input; the copy runs
   along the output positions, the input's own memory order, so it is fast). Summing over ``c``
   and ``k`` is then one matrix product, ``w.reshape(C_out, -1) @ cols``, batched over ``n`` by
   :func:`numpy.matmul` and run by optimised BLAS code; its result ``(N, C_out, prod(S_out))``
   is already the output's memory layout, so a reshape finishes the job.

So the multiply-adds are exactly those of the loop, regrouped into one general matrix multiply
(GEMM), which is also how Caffe, early cuDNN and many CPU libraries implement convolution
layers. The backward pass reuses the same pieces: the weight gradient contracts the same column
matrix with ``grad_out``, and the input gradient is a correlation of ``grad_out`` (zero-dilated
by the stride, zero-padded to "full" size) with the spatially flipped, channel-transposed kernel.

Performance (``benchmarks/bench_convolution.py``, float32, one thread for both libraries, CPU
time per call, ratio ours/torch 2.13, several runs on a shared machine): a CT slice
1x1x256x256 with 8 3x3 filters 1.2-1.8; a batch 8x16x64x64 -> 32 channels 1.8-1.9; a volume
1x4x32x64x64 -> 8 channels, 3x3x3, 0.25 (torch's CPU 3-D path is slow); a 1-D batch 16x8x4096
-> 16 channels, kernel 9, 0.7-1.0; geometric mean 0.85-0.95. Two alternatives were timed: the
same view contracted with :func:`numpy.tensordot` (5-40 % slower: it needs a transpose
afterwards), and a Python loop over the ``prod(K)`` kernel offsets with one small
``(C_out, C_in)`` product each (1.2 to 20 times slower than im2col: with few input channels
each product is too thin for BLAS). The price of im2col is memory: the column matrix holds
``prod(K)`` copies of the input (27 for a 3x3x3 kernel), which is fine for the book's sizes but
is why production libraries tile the work.

Dtypes
------
``x`` sets the dtype (float32 or float64; integer data and lists become float64; booleans,
complex numbers and strings raise ``TypeError``). ``w``, ``bias`` and ``grad_out`` given as
lists or integer arrays are converted to ``x``'s dtype; a float array of the *other* float precision raises ``TypeError``, as PyTorch does, rather than
silently losing float64 digits or mixing precisions.

References
----------
``dumoulin2016guide`` (arithmetic of output sizes, strides, padding, dilation and transposed
convolution); ``chellapilla2006high`` (unrolling convolution into one matrix product).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from companion._validation import as_float_array, as_int, as_tuple

__all__ = [
    "correlate",
    "convolve",
    "correlate_backward",
    "correlate_naive",
    "conv_transpose",
    "output_size",
    "window_view",
]

IntOrTuple = int | Sequence[int]
_KERNEL_LETTERS = {1: "kL", 2: "kH, kW", 3: "kD, kH, kW"}
_SPATIAL_LETTERS = {1: "L", 2: "H, W", 3: "D, H, W"}


# ----------------------------------------------------------------------------------------------
# Private checkers
# ----------------------------------------------------------------------------------------------

class _ConvArgs(NamedTuple):
    """Checked and normalised arguments of one correlation."""

    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray | None
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    out_shape: tuple[int, ...]


def _like_x(a: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """`a` as an array of `dtype` (the dtype of x); a float array of the other precision raises."""
    arr = as_float_array(a, name)
    original = getattr(a, "dtype", None)
    if arr.dtype != dtype:
        if original is not None and np.dtype(original).kind == "f":
            raise TypeError(f"{name}: expected dtype {np.dtype(dtype).name} (the dtype of x), got "
                            f"{np.dtype(original).name}; cast one of them, e.g. {name}.astype(x.dtype)")
        arr = arr.astype(dtype)
    return arr


def _check_x(x: Any, name: str = "x") -> np.ndarray:
    x = as_float_array(x, name)
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"{name}: expected 3, 4 or 5 dims (N, C, *S) for 1-, 2- or 3-D data, "
                         f"got {x.ndim} (shape {x.shape})")
    if min(x.shape) < 1:
        raise ValueError(f"{name}: expected no empty axis, got shape {x.shape}")
    return x


def _check_w_bias(x: np.ndarray, w: Any, bias: Any, *, transposed: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Kernels ``(C_out, C_in, *K)`` (``(C_in, C_out, *K)`` when `transposed`) and bias ``(C_out,)`` for `x`."""
    nd = x.ndim - 2
    i_in, i_out = (0, 1) if transposed else (1, 0)
    layout = "C_in, C_out" if transposed else "C_out, C_in"
    w = _like_x(w, "w", x.dtype)
    if w.ndim != x.ndim:
        raise ValueError(f"w: expected {x.ndim} dims ({layout}, {_KERNEL_LETTERS[nd]}) for "
                         f"{nd}-D input, got {w.ndim} (shape {w.shape})")
    if min(w.shape) < 1:
        raise ValueError(f"w: expected no empty axis, got shape {w.shape}")
    if w.shape[i_in] != x.shape[1]:
        where = f"w.shape[{i_in}]" + (" (transposed layout (C_in, C_out, *K))" if transposed else "")
        raise ValueError(f"w: expected C_in = {x.shape[1]} input channels (x.shape[1]) in "
                         f"{where}, got {w.shape[i_in]}")
    if bias is not None:
        bias = _like_x(bias, "bias", x.dtype)
        if bias.shape != (w.shape[i_out],):
            raise ValueError(f"bias: expected shape ({w.shape[i_out]},) (one value per output channel, "
                             f"C_out = w.shape[{i_out}]), got {bias.shape}")
    return w, bias


def _check_args(x: Any, w: Any, bias: Any, stride: Any, padding: Any, dilation: Any) -> _ConvArgs:
    """Normalise and check the arguments shared by correlate, convolve and correlate_naive."""
    x = _check_x(x)
    nd = x.ndim - 2
    w, bias = _check_w_bias(x, w, bias, transposed=False)
    stride = as_tuple(stride, nd, "stride", minimum=1)
    padding = as_tuple(padding, nd, "padding", minimum=0)
    dilation = as_tuple(dilation, nd, "dilation", minimum=1)
    out_shape = []
    for axis, (n, k, s, p, d) in enumerate(zip(x.shape[2:], w.shape[2:], stride, padding, dilation)):
        extent = d * (k - 1) + 1
        if extent > n + 2 * p:
            raise ValueError(f"w: expected a (dilated) kernel no larger than the padded input, got "
                             f"extent {extent} = d(k-1)+1 with k={k}, d={d} along spatial axis "
                             f"{axis}, where the padded input has {n} + 2*{p} = {n + 2 * p}")
        out_shape.append((n + 2 * p - extent) // s + 1)
    return _ConvArgs(x, w, bias, stride, padding, dilation, tuple(out_shape))


def _pad(x: np.ndarray, before: Sequence[int], after: Sequence[int] | None = None) -> np.ndarray:
    """Zero-pad the spatial axes of `x` (N, C, *S); no copy when there is nothing to pad."""
    after = before if after is None else after
    if not any(before) and not any(after):
        return x
    return np.pad(x, [(0, 0), (0, 0)] + [(b, a) for b, a in zip(before, after)])


def _windows(x_pad: np.ndarray, kernel: Sequence[int], stride: Sequence[int],
             dilation: Sequence[int]) -> np.ndarray:
    """Read-only view ``(N, C, *S_out, *K)`` with ``view[n, c, i, k] = x_pad[n, c, s*i + d*k]`` (no checks)."""
    nd = len(kernel)
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    view = sliding_window_view(x_pad, extent, axis=tuple(range(2, 2 + nd)))
    index = ((slice(None), slice(None))
             + tuple(slice(None, None, s) for s in stride)
             + tuple(slice(None, None, d) for d in dilation))
    return view[index]


def window_view(x: Any, kernel: IntOrTuple, *, stride: IntOrTuple = 1, dilation: IntOrTuple = 1) -> np.ndarray:
    """Every window of `x` as a read-only view, without copying: step 2 of :func:`correlate`.

    ``view[n, c, i, k] = x[n, c, s*i + d*k]``: the window under output position ``i``. Pad `x`
    first (zeros for a correlation, ``-inf`` for max pooling); pooling and the benchmark variants
    reduce or contract this same view.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input batch, already padded.
    kernel : int or tuple of int
        Window size per spatial axis.
    stride, dilation : int or tuple of int, default 1
        As in :func:`correlate`.

    Returns
    -------
    ndarray
        A read-only view into `x` (write to a copy).

    Shapes
    ------
    x : (N, C, *S);  result : (N, C, *S_out, *K) with ``S_out = output_size(S, K, stride=s, dilation=d)``

    Raises
    ------
    TypeError
        If `x` is not real numeric data or an argument is not an int (tuple).
    ValueError
        If `x` is not 3-, 4- or 5-D or the (dilated) window is larger than `x`.

    Examples
    --------
    >>> window_view(np.arange(5.0).reshape(1, 1, 5), 2, stride=2)[0, 0]
    array([[0., 1.],
           [2., 3.]])
    """
    x = _check_x(x)
    nd = x.ndim - 2
    kernel = as_tuple(kernel, nd, "kernel", minimum=1)
    stride = as_tuple(stride, nd, "stride", minimum=1)
    dilation = as_tuple(dilation, nd, "dilation", minimum=1)
    for axis, (n, k, d) in enumerate(zip(x.shape[2:], kernel, dilation)):
        if d * (k - 1) + 1 > n:
            raise ValueError(f"kernel: expected a (dilated) window no larger than x, got extent {d * (k - 1) + 1} "
                             f"along spatial axis {axis} of size {n}")
    return _windows(x, kernel, stride, dilation)


def _im2col(x_pad: np.ndarray, kernel: Sequence[int], stride: Sequence[int],
            dilation: Sequence[int], out_shape: Sequence[int]) -> np.ndarray:
    """The column matrix ``(N, C*prod(K), prod(S_out))``: every window of the padded input as a column.

    ``cols[n, (c, k), i] = x_pad[n, c, s*i + d*k]``. The window view costs nothing; the one copy
    runs with the output positions as the fast axis, which is the input's own memory order.
    """
    nd = len(kernel)
    windows = _windows(x_pad, kernel, stride, dilation)  # (N, C, *S_out, *K)
    order = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    n, c = x_pad.shape[:2]
    return windows.transpose(order).reshape(n, c * int(np.prod(kernel)), int(np.prod(out_shape)))


def _correlate(x: np.ndarray, w: np.ndarray, stride: Sequence[int], padding: Sequence[int],
               dilation: Sequence[int], out_shape: Sequence[int]) -> np.ndarray:
    """The vectorised correlation, without checks or bias: im2col, then one (batched) matmul."""
    cols = _im2col(_pad(x, padding), w.shape[2:], stride, dilation, out_shape)
    out = np.matmul(w.reshape(w.shape[0], -1), cols)  # (C_out, C_in*K) @ (N, C_in*K, P)
    return out.reshape((x.shape[0], w.shape[0]) + tuple(out_shape))


# ----------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------

def output_size(in_size: IntOrTuple, kernel: IntOrTuple, *, stride: IntOrTuple = 1,
                padding: IntOrTuple = 0, dilation: IntOrTuple = 1) -> int | tuple[int, ...]:
    """Number of output samples of a correlation along each spatial axis.

    ``out = floor((in + 2p - d(k-1) - 1) / s) + 1``

    Parameters
    ----------
    in_size : int or tuple of int
        Input size per spatial axis (without padding).
    kernel : int or tuple of int
        Kernel size per spatial axis.
    stride, padding, dilation : int or tuple of int
        As in :func:`correlate`; padding is added on both sides.

    Returns
    -------
    int or tuple of int
        An int when every argument is an int; a tuple (one entry per axis) when any argument is a
        tuple, the ints being repeated for every axis.

    Shapes
    ------
    Every tuple argument and the tuple result have one entry per spatial axis.

    Raises
    ------
    TypeError
        If an argument is not an int or a tuple of ints.
    ValueError
        If tuples have different lengths, a size/kernel/stride/dilation is below 1, padding is
        negative, or the dilated kernel is larger than the padded input.

    See Also
    --------
    correlate : whose output has these spatial sizes.

    References
    ----------
    ``dumoulin2016guide``, relationships 1 to 6 (and 15 with dilation).

    Examples
    --------
    >>> output_size(256, 3, padding=1)
    256
    >>> output_size((32, 64, 64), 3, stride=(1, 2, 2), padding=1)
    (32, 32, 32)
    >>> output_size(7, 3, dilation=2)
    3
    """
    args = {"in_size": in_size, "kernel": kernel, "stride": stride, "padding": padding,
            "dilation": dilation}
    lengths = {name: len(v) for name, v in args.items() if isinstance(v, (tuple, list, np.ndarray))}
    if len(set(lengths.values())) > 1:
        raise ValueError("in_size: expected tuple arguments of one length (one entry per spatial "
                         f"axis), got lengths {lengths}")
    n = next(iter(lengths.values())) if lengths else 1
    if lengths and n == 0:
        raise ValueError(f"{next(iter(lengths))}: expected at least one spatial axis, got an empty tuple")
    minima = {"in_size": 1, "kernel": 1, "stride": 1, "padding": 0, "dilation": 1}
    norm = {name: as_tuple(v, n, name, minimum=minima[name]) for name, v in args.items()}
    out = []
    for axis, (i, k, s, p, d) in enumerate(zip(*norm.values())):
        extent = d * (k - 1) + 1
        if extent > i + 2 * p:
            raise ValueError(f"kernel: expected a (dilated) kernel no larger than the padded input, "
                             f"got extent {extent} = d(k-1)+1 with k={k}, d={d} (axis {axis}) for a "
                             f"padded input of {i} + 2*{p} = {i + 2 * p}")
        out.append((i + 2 * p - extent) // s + 1)
    return tuple(out) if lengths else out[0]


def correlate(x: Any, w: Any, bias: Any = None, *, stride: IntOrTuple = 1, padding: IntOrTuple = 0,
              dilation: IntOrTuple = 1) -> np.ndarray:
    """Cross-correlation of a batch with a bank of kernels: what a convolution layer computes.

    ``y[n, o, i] = bias[o] + sum_{c, k} w[o, c, k] * x_pad[n, c, s*i + d*k]``, with ``i`` and ``k``
    multi-indices over the 1, 2 or 3 spatial axes. Vectorised: one window view of the padded
    input (no copy) and one tensor contraction (see the module docstring).

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input batch; its number of dims (3, 4 or 5) chooses 1-, 2- or 3-D correlation.
    w : ndarray
        Kernels, one per (output channel, input channel) pair.
    bias : ndarray, optional
        One value added to each output channel.
    stride : int or tuple of int, default 1
        Step between output positions, per spatial axis (>= 1).
    padding : int or tuple of int, default 0
        Zeros added on *both* sides of each spatial axis (>= 0).
    dilation : int or tuple of int, default 1
        Spacing between kernel taps (>= 1); the kernel then spans ``d(k-1)+1`` samples.

    Returns
    -------
    ndarray
        The correlation, in the dtype of `x`; equal to ``torch.nn.functional.conv1d/2d/3d``.

    Shapes
    ------
    x : (N, C_in, *S);  w : (C_out, C_in, *K);  bias : (C_out,);  result : (N, C_out, *S_out)
    with ``S_out = output_size(S, K, stride=..., padding=..., dilation=...)``.

    Raises
    ------
    TypeError
        If `x` is not real numeric data, or `w`/`bias` is a float array of another dtype than `x`.
    ValueError
        If `x` does not have 3-5 dims, `w` has not ``x.ndim`` dims or another number of input
        channels, `bias` has the wrong length, stride/dilation < 1, padding < 0, a tuple has the
        wrong length, or the dilated kernel is larger than the padded input.

    See Also
    --------
    correlate_naive : the same numbers from explicit loops.
    convolve : true convolution (kernel flipped).
    correlate_backward : gradients with respect to x, w and bias.

    References
    ----------
    ``dumoulin2016guide``; ``chellapilla2006high``.

    Examples
    --------
    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> correlate(x, np.array([[[1.0, 0.0, -1.0]]]))
    array([[[-2., -2., -2.]]])
    >>> correlate(np.ones((2, 3, 8, 8)), np.ones((4, 3, 3, 3)), padding=1, stride=2).shape
    (2, 4, 4, 4)
    """
    a = _check_args(x, w, bias, stride, padding, dilation)
    out = _correlate(a.x, a.w, a.stride, a.padding, a.dilation, a.out_shape)
    if a.bias is not None:
        out += a.bias.reshape((1, -1) + (1,) * (a.x.ndim - 2))
    return out


def convolve(x: Any, w: Any, bias: Any = None, *, stride: IntOrTuple = 1, padding: IntOrTuple = 0,
             dilation: IntOrTuple = 1) -> np.ndarray:
    """True convolution: :func:`correlate` with the kernel flipped along every spatial axis.

    ``y[n, o, i] = bias[o] + sum_{c, k} w[o, c, K-1-k] * x_pad[n, c, s*i + d*k]``. For one
    channel, ``padding=0`` is ``scipy.signal.convolve(..., mode="valid")`` and ``padding=k-1``
    is ``mode="full"``. Unlike correlation it is commutative and associative (in full mode).

    Parameters
    ----------
    x, w, bias, stride, padding, dilation
        As in :func:`correlate`.

    Returns
    -------
    ndarray
        The convolution, in the dtype of `x`.

    Shapes
    ------
    x : (N, C_in, *S);  w : (C_out, C_in, *K);  bias : (C_out,);  result : (N, C_out, *S_out)

    Raises
    ------
    TypeError, ValueError
        As :func:`correlate`.

    See Also
    --------
    correlate, scipy.signal.convolve

    References
    ----------
    ``dumoulin2016guide``.

    Examples
    --------
    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> convolve(x, np.array([[[1.0, 0.0, -1.0]]]))
    array([[[2., 2., 2.]]])
    """
    a = _check_args(x, w, bias, stride, padding, dilation)
    flipped = np.flip(a.w, axis=tuple(range(2, a.w.ndim)))
    return correlate(a.x, flipped, a.bias, stride=a.stride, padding=a.padding, dilation=a.dilation)


def correlate_backward(grad_out: Any, x: Any, w: Any, *, stride: IntOrTuple = 1,
                       padding: IntOrTuple = 0, dilation: IntOrTuple = 1
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``L = sum(grad_out * correlate(x, w, bias, ...))`` with respect to x, w, bias.

    * ``grad_bias[o] = sum_{n, i} grad_out[n, o, i]``.
    * ``grad_w[o, c, k] = sum_{n, i} grad_out[n, o, i] * x_pad[n, c, s*i + d*k]``: the correlation
      of the input with ``grad_out`` (the same window view as the forward pass, contracted with
      ``grad_out`` instead of ``w``).
    * ``grad_x`` is the *transposed* correlation: ``grad_out`` is dilated with ``s-1`` zeros
      between its entries (nothing to do when ``s = 1``), zero-padded by ``d(k-1)`` on both sides
      ("full" mode), and correlated with the kernel flipped along every spatial axis and with
      its two channel axes swapped; finally the padding rows are cut off. For ``s = 1`` this is
      the full correlation of ``grad_out`` with the flipped kernel, i.e. the full *convolution*
      of ``grad_out`` with ``w``. Input samples that no window reaches (when the stride does not
      divide ``in + 2p - d(k-1) - 1``) get gradient 0.

    Parameters
    ----------
    grad_out : ndarray
        Upstream gradient ``dL/dy``, the shape of ``correlate(x, w, ...)``.
    x, w : ndarray
        The forward pass's input and kernels.
    stride, padding, dilation : int or tuple of int
        As in the forward pass.

    Returns
    -------
    grad_x, grad_w, grad_bias : ndarray
        In the dtype of `x`; equal to torch autograd of ``F.conv1d/2d/3d``.

    Shapes
    ------
    grad_out : (N, C_out, *S_out);  x, grad_x : (N, C_in, *S);  w, grad_w : (C_out, C_in, *K);
    grad_bias : (C_out,)

    Raises
    ------
    TypeError, ValueError
        As :func:`correlate`, and a ValueError if `grad_out` does not have the output's shape.

    See Also
    --------
    correlate : the forward pass.

    References
    ----------
    ``dumoulin2016guide``, chapter 4 (transposed convolution).

    Examples
    --------
    >>> x, w = np.arange(5.0).reshape(1, 1, 5), np.array([[[1.0, 2.0]]])
    >>> gx, gw, gb = correlate_backward(np.ones((1, 1, 4)), x, w)
    >>> gx, gw, gb
    (array([[[1., 3., 3., 3., 2.]]]), array([[[ 6., 10.]]]), array([4.]))
    """
    a = _check_args(x, w, None, stride, padding, dilation)
    x, w, nd = a.x, a.w, a.x.ndim - 2
    grad_out = _like_x(grad_out, "grad_out", x.dtype)
    expected = (x.shape[0], w.shape[0]) + a.out_shape
    if grad_out.shape != expected:
        raise ValueError(f"grad_out: expected shape {expected} (the shape of correlate(x, w, ...)), "
                         f"got {grad_out.shape}")
    spatial = tuple(range(2, 2 + nd))
    kernel = w.shape[2:]

    grad_bias = grad_out.sum(axis=(0,) + spatial)

    # grad_w: contract grad_out with the forward pass's column matrix over n and positions i
    cols = _im2col(_pad(x, a.padding), kernel, a.stride, a.dilation, a.out_shape)
    g = grad_out.reshape(grad_out.shape[0], grad_out.shape[1], -1)  # (N, C_out, P)
    grad_w = np.tensordot(g, cols, axes=([0, 2], [0, 2])).reshape(w.shape)

    grad_x = _input_grad(grad_out, w, x.shape[2:], a.stride, a.padding, a.dilation)
    return grad_x, grad_w, grad_bias


def _input_grad(grad_out: np.ndarray, w: np.ndarray, in_spatial: Sequence[int], stride: Sequence[int],
                padding: Sequence[int], dilation: Sequence[int]) -> np.ndarray:
    """Input gradient of a correlation with kernel ``w (C_out, C_in, *K)`` whose input had spatial
    size `in_spatial`: zero-dilate `grad_out` by the stride, pad it to "full" size, correlate with
    the flipped, channel-transposed kernel, cut off the padding. Also the transposed convolution."""
    nd = grad_out.ndim - 2
    spatial = tuple(range(2, 2 + nd))
    kernel, out_shape = w.shape[2:], grad_out.shape[2:]
    dilated = grad_out
    if any(s > 1 for s in stride):
        size = tuple(s * (o - 1) + 1 for s, o in zip(stride, out_shape))
        dilated = np.zeros(grad_out.shape[:2] + size, dtype=grad_out.dtype)
        dilated[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)] = grad_out
    full = [d * (k - 1) for k, d in zip(kernel, dilation)]
    # input samples past the last window (the stride's remainder) receive no gradient
    unused = [n + 2 * p - (d * (k - 1) + 1) - s * (o - 1)
              for n, p, k, d, s, o in zip(in_spatial, padding, kernel, dilation, stride, out_shape)]
    w_t = np.flip(w, axis=spatial).swapaxes(0, 1)  # (C_in, C_out, *K), flipped
    padded = _pad(dilated, full, [f + u for f, u in zip(full, unused)])
    padded_shape = tuple(n + 2 * p for n, p in zip(in_spatial, padding))
    grad_x_pad = _correlate(padded, w_t, (1,) * nd, (0,) * nd, dilation, padded_shape)
    crop = (slice(None), slice(None)) + tuple(slice(p, p + n) for p, n in zip(padding, in_spatial))
    return np.ascontiguousarray(grad_x_pad[crop])


def conv_transpose(x: Any, w: Any, bias: Any = None, *, stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                   output_padding: IntOrTuple = 0, dilation: IntOrTuple = 1) -> np.ndarray:
    """Transposed convolution: the input gradient of a strided correlation, used as a layer.

    A correlation ``y = correlate(z, w, stride=s, padding=p, dilation=d)`` with kernel
    ``w (C_in, C_out, *K)`` maps ``z (N, C_out, *S_out)`` to ``y (N, C_in, *S)``; it is linear,
    ``y = A z``. The transposed convolution is the transposed map: ``conv_transpose(x, w) = A^T x``,
    i.e. exactly ``correlate_backward(x, z, w, ...)``'s ``grad_x``. Each input sample scatters a
    copy of the kernel, scaled by its value, into the output at ``s`` times its position, and the
    copies are summed where they overlap:

    ``out[n, o, s*i - p + d*k] += x[n, c, i] * w[c, o, k]`` (+ ``bias[o]``),

    so a stride ``s`` *up*-samples by ``s``. Along each axis the output has
    ``(S - 1) s - 2p + d(k - 1) + output_padding + 1`` samples; `output_padding` (< s or < d)
    picks one of the ``s`` input sizes a stride-``s`` correlation maps to the same output size.
    When the kernel size is not a multiple of the stride the copies overlap unevenly and a
    constant input gives a periodic output: the *checkerboard artefact* (odena2016deconvolution).

    Parameters
    ----------
    x : ndarray
        Input ``(N, C_in, *S)``, 1-, 2- or 3-D by ``x.ndim`` (3, 4 or 5).
    w : ndarray
        Kernels in torch's layout for transposed convolution, ``(C_in, C_out, *K)`` (the layout of
        ``ConvTranspose{1,2,3}d.weight``; note C_in first).
    bias : ndarray, optional
        ``(C_out,)``.
    stride, padding, output_padding, dilation : int or tuple of int
        One entry per spatial axis; `padding` removes ``p`` samples from both ends of the output.

    Returns
    -------
    ndarray
        ``(N, C_out, *S_out)``, in the dtype of `x`; equal to ``F.conv_transpose{1,2,3}d``
        (groups=1).

    Shapes
    ------
    x : (N, C_in, *S);  w : (C_in, C_out, *K);  bias : (C_out,);  result : (N, C_out, *S_out),
    ``S_out = (S - 1) s - 2p + d(k - 1) + output_padding + 1``

    Raises
    ------
    TypeError
        For non-numeric input or mixed float precisions.
    ValueError
        For wrong dims, ``w.shape[0] != x.shape[1]``, a bias of the wrong length, an
        `output_padding` not smaller than the stride or the dilation, or an empty output;
        the message names the argument.

    See Also
    --------
    correlate_backward : its ``grad_x`` is this function.

    References
    ----------
    ``dumoulin2016guide``, chapter 4; ``odena2016deconvolution``.

    Examples
    --------
    >>> conv_transpose(np.array([[[1.0, 2.0]]]), np.array([[[1.0, 1.0, 1.0]]]), stride=2)
    array([[[1., 1., 3., 2., 2.]]])
    """
    x = _check_x(x)
    nd = x.ndim - 2
    w, bias = _check_w_bias(x, w, bias, transposed=True)
    stride = as_tuple(stride, nd, "stride", minimum=1)
    padding = as_tuple(padding, nd, "padding", minimum=0)
    output_padding = as_tuple(output_padding, nd, "output_padding", minimum=0)
    dilation = as_tuple(dilation, nd, "dilation", minimum=1)
    out_spatial = []
    for axis, (n, k, s, p, op, d) in enumerate(zip(x.shape[2:], w.shape[2:], stride, padding,
                                                   output_padding, dilation)):
        if op >= s and op >= d:
            raise ValueError(f"output_padding: expected less than the stride ({s}) or the dilation "
                             f"({d}) along spatial axis {axis}, got {op}")
        size = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        if size < 1:
            raise ValueError(f"padding: expected an output of at least 1 sample, got {size} = "
                             f"({n}-1)*{s} - 2*{p} + {d}*({k}-1) + {op} + 1 along spatial axis {axis}")
        out_spatial.append(size)
    w_corr = w  # as the kernel of the forward correlation: (C_out_corr = C_in, C_in_corr = C_out, *K)
    out = _input_grad(x, w_corr, out_spatial, stride, padding, dilation)
    if bias is not None:
        out = out + bias.reshape((1, -1) + (1,) * nd)
    return out


def correlate_naive(x: Any, w: Any, bias: Any = None, *, stride: IntOrTuple = 1,
                    padding: IntOrTuple = 0, dilation: IntOrTuple = 1) -> np.ndarray:
    """Cross-correlation by explicit loops over samples, output channels and output positions.

    The formula of :func:`correlate` written out: for each output position, cut the window of
    the padded input that the (dilated) kernel covers and take its dot product with the kernel.
    For teaching and for testing :func:`correlate`; slow, so use small inputs only.

    Parameters
    ----------
    x, w, bias, stride, padding, dilation
        As in :func:`correlate`.

    Returns
    -------
    ndarray
        The same values as :func:`correlate`, in the dtype of `x`.

    Shapes
    ------
    x : (N, C_in, *S);  w : (C_out, C_in, *K);  bias : (C_out,);  result : (N, C_out, *S_out)

    Raises
    ------
    TypeError, ValueError
        As :func:`correlate`.

    See Also
    --------
    correlate : the vectorised version.

    Examples
    --------
    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> correlate_naive(x, np.array([[[1.0, 0.0, -1.0]]]))
    array([[[-2., -2., -2.]]])
    """
    a = _check_args(x, w, bias, stride, padding, dilation)
    x_pad = _pad(a.x, a.padding)
    kernel = a.w.shape[2:]
    out = np.zeros((a.x.shape[0], a.w.shape[0]) + a.out_shape, dtype=a.x.dtype)
    for n in range(a.x.shape[0]):
        for o in range(a.w.shape[0]):
            for i in np.ndindex(*a.out_shape):
                # the window that the dilated kernel covers at output position i
                window = tuple(slice(s * ii, s * ii + d * (k - 1) + 1, d)
                               for ii, s, d, k in zip(i, a.stride, a.dilation, kernel))
                value = np.sum(x_pad[(n, slice(None)) + window] * a.w[o])
                out[(n, o) + i] = value + (a.bias[o] if a.bias is not None else 0)
    return out
