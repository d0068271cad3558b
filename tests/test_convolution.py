"""Tests of companion.convolution against independent oracles.

* ``correlate`` (and ``correlate_naive``) against ``torch.nn.functional.conv1d/2d/3d`` over 1-, 2-
  and 3-D cases with stride, padding (int and per axis), dilation and bias, in float32 (1e-5) and
  float64 (1e-10), dtype asserted. Each case names the mistake it would catch.
* ``convolve`` against ``scipy.signal.convolve`` (modes "valid" and "full") and
  ``scipy.ndimage.convolve``, and against ``correlate`` with the flipped kernel.
* Algebra: convolution (full mode) is commutative and associative; correlation is not
  commutative (swapping the arguments reverses the result).
* ``correlate_backward`` against float64 centred differences (relative error < 1e-7) and
  against torch autograd, including strides that leave input samples unused.
* ``output_size`` against the formula and against torch's output shapes.
* A table of bad calls with the exception and a message regex.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import numerical_vjp, relative_error  # the one centred-difference oracle
import companion.convolution as conv_module
from companion.convolution import (
    convolve,
    correlate,
    correlate_backward,
    correlate_naive,
    output_size,
)

TORCH_CONV = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}
DTYPES = [pytest.param(np.float32, 1e-5, id="float32"), pytest.param(np.float64, 1e-10, id="float64")]

CASES = [  # x shape, w shape, keyword arguments; the comment names the mistake the case catches
    # 1-D
    pytest.param((1, 1, 7), (1, 1, 3), dict(), id="1d-plain"),                    # flipped kernel
    pytest.param((2, 3, 9), (4, 3, 3), dict(stride=2), id="1d-stride"),           # stride ignored
    pytest.param((2, 3, 10), (4, 3, 3), dict(stride=3, padding=1), id="1d-stride-unused"),  # floor
    pytest.param((1, 2, 12), (3, 2, 3), dict(dilation=3), id="1d-dilation"),      # dilation as stride
    pytest.param((2, 2, 8), (2, 2, 4), dict(padding=2), id="1d-even-kernel-pad"),  # pad one side only
    pytest.param((1, 1, 5), (1, 1, 5), dict(), id="1d-kernel-fills-input"),        # off by one
    pytest.param((3, 2, 11), (2, 2, 1), dict(stride=2), id="1d-1x1-kernel"),       # kernel size 1
    # 2-D
    pytest.param((1, 1, 6, 7), (1, 1, 3, 3), dict(), id="2d-plain"),
    pytest.param((2, 3, 8, 9), (4, 3, 3, 2), dict(padding=1), id="2d-rect-kernel"),  # kH/kW swapped
    pytest.param((1, 2, 7, 8), (3, 2, 3, 3), dict(padding=1, dilation=2), id="2d-pad-dilation"),
    pytest.param((2, 2, 9, 10), (3, 2, 3, 3), dict(stride=(2, 3), padding=(1, 0)), id="2d-per-axis"),
    pytest.param((1, 3, 11, 9), (2, 3, 2, 3), dict(stride=(3, 1), dilation=(2, 1)), id="2d-aniso"),
    pytest.param((2, 1, 5, 5), (2, 1, 5, 5), dict(padding=2), id="2d-same-5x5"),
    pytest.param((1, 4, 6, 6), (5, 4, 1, 1), dict(), id="2d-1x1-mixes-channels"),  # channel sum
    pytest.param((1, 1, 4, 4), (1, 1, 3, 3), dict(padding=3), id="2d-pad-beyond-kernel"),
    # 3-D
    pytest.param((1, 1, 5, 6, 7), (2, 1, 3, 3, 3), dict(padding=(0, 1, 1)), id="3d-aniso-pad"),
    pytest.param((2, 2, 6, 7, 5), (3, 2, 2, 3, 2), dict(stride=2), id="3d-stride"),
    pytest.param((1, 2, 7, 7, 7), (2, 2, 3, 3, 3), dict(dilation=(1, 2, 3), padding=1), id="3d-dilation"),
    pytest.param((1, 3, 4, 9, 8), (2, 3, 1, 3, 3), dict(stride=(1, 2, 2), padding=(0, 1, 1)), id="3d-slab"),
]


def _data(x_shape, w_shape, dtype, seed=0, bias=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype) if bias else None
    return x, w, b


def _torch_conv(x, w, b=None, **kwargs):
    bt = None if b is None else torch.from_numpy(b)
    return TORCH_CONV[x.ndim](torch.from_numpy(x), torch.from_numpy(w), bt, **kwargs).numpy()


# ---------------------------------------------------------------------------------------------
# Forward: correlate, correlate_naive
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype, tol", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, kwargs", CASES)
def test_correlate_matches_torch(x_shape, w_shape, kwargs, dtype, tol):
    x, w, b = _data(x_shape, w_shape, dtype)
    expected = _torch_conv(x, w, b, **kwargs)
    out = correlate(x, w, b, **kwargs)
    assert out.dtype == dtype
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype, tol", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, kwargs", CASES)
def test_correlate_naive_equals_vectorised(x_shape, w_shape, kwargs, dtype, tol):
    x, w, b = _data(x_shape, w_shape, dtype, seed=1)
    naive = correlate_naive(x, w, b, **kwargs)
    assert naive.dtype == dtype
    np.testing.assert_allclose(naive, correlate(x, w, b, **kwargs), rtol=tol, atol=tol)


def test_correlate_hand_checked_values():
    # 1-D: [0 1 2 3 4] against [1 0 -1] gives x[i] - x[i+2] = -2 everywhere (convolution: +2)
    x = np.arange(5.0).reshape(1, 1, 5)
    k = np.array([[[1.0, 0.0, -1.0]]])
    np.testing.assert_array_equal(correlate(x, k), [[[-2.0, -2.0, -2.0]]])
    np.testing.assert_array_equal(convolve(x, k), [[[2.0, 2.0, 2.0]]])
    # 2-D: a 3x3 grid 10*i + j against a kernel that picks the top-left sample, with bias 0.5
    x2 = (10 * np.arange(3)[:, None] + np.arange(3)).astype(float).reshape(1, 1, 3, 3)
    pick = np.zeros((1, 1, 2, 2))
    pick[0, 0, 0, 0] = 1.0
    np.testing.assert_array_equal(correlate(x2, pick, [0.5]), [[[[0.5, 1.5], [10.5, 11.5]]]])


def test_correlate_does_not_mutate_and_accepts_lists_and_tensors():
    x, w, b = _data((1, 2, 6, 6), (3, 2, 3, 3), np.float32)
    x0, w0, b0 = x.copy(), w.copy(), b.copy()
    out = correlate(x, w, b, padding=1)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(b, b0)
    # a list kernel takes the dtype of x; torch tensors are read as arrays
    assert correlate(x, w.tolist(), b.tolist(), padding=1).dtype == np.float32
    np.testing.assert_array_equal(correlate(torch.from_numpy(x), w, b, padding=1), out)
    # integer input becomes float64 (the package-wide rule for integer data)
    assert correlate(np.arange(10).reshape(1, 1, 10), [[[1, 2, 3]]]).dtype == np.float64


# ---------------------------------------------------------------------------------------------
# convolve: scipy oracle, flipped kernel, algebra
# ---------------------------------------------------------------------------------------------

SIGNALS = [  # single-channel input shape, kernel shape (odd and even, asymmetric)
    pytest.param((13,), (4,), id="1d"),
    pytest.param((9, 8), (3, 2), id="2d"),
    pytest.param((5, 6, 7), (2, 3, 3), id="3d"),
]


@pytest.mark.parametrize("dtype, tol", DTYPES)
@pytest.mark.parametrize("s_shape, k_shape", SIGNALS)
def test_convolve_matches_scipy_valid_and_full(s_shape, k_shape, dtype, tol):
    rng = np.random.default_rng(2)
    s = rng.standard_normal(s_shape).astype(dtype)
    k = rng.standard_normal(k_shape).astype(dtype)
    x, w = s[None, None], k[None, None]
    valid = convolve(x, w)[0, 0]
    full = convolve(x, w, padding=tuple(n - 1 for n in k_shape))[0, 0]
    assert valid.dtype == full.dtype == dtype
    np.testing.assert_allclose(valid, scipy.signal.convolve(s, k, mode="valid", method="direct"),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(full, scipy.signal.convolve(s, k, mode="full", method="direct"),
                               rtol=tol, atol=tol)
    # and correlate is scipy's correlate (no flip)
    np.testing.assert_allclose(correlate(x, w)[0, 0],
                               scipy.signal.correlate(s, k, mode="valid", method="direct"),
                               rtol=tol, atol=tol)


def test_convolve_matches_scipy_ndimage_same_size():
    # scipy.ndimage.convolve with zero boundary ("constant") and an odd kernel = padding k // 2
    rng = np.random.default_rng(3)
    image, kernel = rng.standard_normal((12, 10)), rng.standard_normal((3, 5))
    expected = scipy.ndimage.convolve(image, kernel, mode="constant", cval=0.0)
    out = convolve(image[None, None], kernel[None, None], padding=(1, 2))[0, 0]
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CASES)
def test_convolve_is_correlate_with_flipped_kernel(x_shape, w_shape, kwargs):
    x, w, b = _data(x_shape, w_shape, np.float64, seed=4)
    flipped = np.flip(w, axis=tuple(range(2, w.ndim)))
    np.testing.assert_allclose(convolve(x, w, b, **kwargs), correlate(x, flipped, b, **kwargs),
                               rtol=1e-12, atol=1e-12)
    assert convolve(x.astype(np.float32), w.astype(np.float32)).dtype == np.float32


def _full_convolve(a, b):
    """Full-mode convolution of two single-channel arrays (1-D or 2-D), through convolve."""
    return convolve(a[None, None], b[None, None], padding=tuple(n - 1 for n in b.shape))[0, 0]


def _full_correlate(a, b):
    return correlate(a[None, None], b[None, None], padding=tuple(n - 1 for n in b.shape))[0, 0]


_arrays_1d = st.integers(1, 7).map(lambda n: n)


@settings(max_examples=30, deadline=None)
@given(na=st.integers(1, 8), nb=st.integers(1, 8), nc=st.integers(1, 5), seed=st.integers(0, 2**16),
       two_d=st.booleans())
def test_convolution_is_commutative_and_associative(na, nb, nc, seed, two_d):
    rng = np.random.default_rng(seed)
    shape = (lambda n: (n, max(1, 9 - n))) if two_d else (lambda n: (n,))
    a, b, c = (rng.standard_normal(shape(n)) for n in (na, nb, nc))
    np.testing.assert_allclose(_full_convolve(a, b), _full_convolve(b, a), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(_full_convolve(_full_convolve(a, b), c),
                               _full_convolve(a, _full_convolve(b, c)), rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(na=st.integers(2, 8), nb=st.integers(2, 8), seed=st.integers(0, 2**16))
def test_correlation_is_not_commutative(na, nb, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(na), rng.standard_normal(nb)
    ab, ba = _full_correlate(a, b), _full_correlate(b, a)
    # swapping the arguments reverses the result, which (for generic data) is a different array
    np.testing.assert_allclose(ba, ab[::-1], rtol=1e-10, atol=1e-10)
    assert not np.allclose(ab, ba)


def test_correlation_is_not_commutative_on_a_hand_case():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0])
    np.testing.assert_array_equal(_full_correlate(a, b), [1.0, 2.0, 3.0, 0.0])
    np.testing.assert_array_equal(_full_correlate(b, a), [0.0, 3.0, 2.0, 1.0])
    np.testing.assert_array_equal(_full_convolve(a, b), _full_convolve(b, a))


# ---------------------------------------------------------------------------------------------
# Backward
# ---------------------------------------------------------------------------------------------

rel_error = relative_error  # elementwise: every entry of the gradient must agree


GRAD_CASES = [  # small shapes: centred differences call correlate twice per entry
    pytest.param((2, 2, 9), (3, 2, 3), dict(stride=2, padding=1), id="1d-stride-pad"),
    pytest.param((1, 2, 10), (2, 2, 3), dict(stride=3), id="1d-stride-leaves-input-unused"),
    pytest.param((1, 2, 11), (2, 2, 3), dict(dilation=2, padding=2), id="1d-dilation"),
    pytest.param((2, 2, 6, 5), (3, 2, 3, 2), dict(padding=(1, 0)), id="2d-per-axis-pad"),
    pytest.param((1, 2, 8, 7), (2, 2, 3, 3), dict(stride=(2, 3), dilation=(1, 2), padding=1),
                 id="2d-stride-dilation-unused"),
    pytest.param((1, 1, 4, 5, 5), (2, 1, 2, 3, 3), dict(stride=2, padding=(0, 1, 1)), id="3d-stride-pad"),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs", GRAD_CASES)
def test_correlate_backward_matches_centred_differences(x_shape, w_shape, kwargs):
    x, w, b = _data(x_shape, w_shape, np.float64, seed=5)
    grad_out = np.random.default_rng(6).standard_normal(correlate(x, w, **kwargs).shape)
    grad_x, grad_w, grad_bias = correlate_backward(grad_out, x, w, **kwargs)
    assert rel_error(grad_x, numerical_vjp(lambda v: correlate(v, w, b, **kwargs), x, grad_out)) < 1e-7
    assert rel_error(grad_w, numerical_vjp(lambda v: correlate(x, v, b, **kwargs), w, grad_out)) < 1e-7
    assert rel_error(grad_bias, numerical_vjp(lambda v: correlate(x, w, v, **kwargs), b, grad_out)) < 1e-7


@pytest.mark.parametrize("dtype, tol", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, kwargs", GRAD_CASES + CASES)
def test_correlate_backward_matches_autograd(x_shape, w_shape, kwargs, dtype, tol):
    x, w, b = _data(x_shape, w_shape, dtype, seed=7)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = TORCH_CONV[x.ndim](xt, wt, bt, **kwargs)
    grad_out = torch.randn(y.shape, dtype=y.dtype, generator=torch.Generator().manual_seed(8))
    y.backward(grad_out)
    grads = correlate_backward(grad_out.numpy(), x, w, **kwargs)
    for ours, theirs, name in zip(grads, (xt.grad, wt.grad, bt.grad), ("grad_x", "grad_w", "grad_bias")):
        assert ours.dtype == dtype, name
        assert ours.shape == tuple(theirs.shape), name
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=tol, atol=10 * tol, err_msg=name)


def test_correlate_backward_unused_input_gets_zero_gradient():
    # L = 10, k = 3, s = 3: windows start at 0, 3, 6 and cover samples 0..8; sample 9 is never read
    x, w, _ = _data((1, 1, 10), (1, 1, 3), np.float64, seed=9)
    grad_x, _, _ = correlate_backward(np.ones((1, 1, 3)), x, w, stride=3)
    assert grad_x[0, 0, 9] == 0.0
    np.testing.assert_allclose(grad_x[0, 0, :9], np.tile(w[0, 0], 3))


def test_correlate_backward_grad_x_is_full_convolution_for_stride_one():
    # the book's statement: for stride 1, grad_x = full correlation of grad_out with the flipped
    # kernel, i.e. full convolution of grad_out with w (channels swapped)
    x, w, _ = _data((2, 3, 7, 6), (4, 3, 3, 2), np.float64, seed=10)
    g = np.random.default_rng(11).standard_normal(correlate(x, w).shape)
    grad_x, grad_w, _ = correlate_backward(g, x, w)
    w_t = w.swapaxes(0, 1)
    np.testing.assert_allclose(grad_x, convolve(g, w_t, padding=(2, 1)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_x, correlate(g, np.flip(w_t, (2, 3)), padding=(2, 1)),
                               rtol=1e-12, atol=1e-12)
    # and grad_w = correlation of the input with grad_out (batch and channel roles swapped)
    np.testing.assert_allclose(grad_w, correlate(x.swapaxes(0, 1), g.swapaxes(0, 1)).swapaxes(0, 1),
                               rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# output_size
# ---------------------------------------------------------------------------------------------

def _formula(i, k, s, p, d):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CASES)
def test_output_size_matches_torch_shapes(x_shape, w_shape, kwargs):
    x, w, _ = _data(x_shape, w_shape, np.float32, bias=False)
    torch_shape = _torch_conv(x, w, **kwargs).shape[2:]
    assert output_size(x_shape[2:], w_shape[2:], **kwargs) == torch_shape


@pytest.mark.parametrize("i, k, s, p, d, expected", [
    pytest.param(256, 3, 1, 1, 1, 256, id="same-3x3"),
    pytest.param(10, 3, 3, 0, 1, 3, id="floor-not-ceil"),        # ceil would give 4 (=(7/3)+1 up)
    pytest.param(7, 3, 1, 0, 2, 3, id="dilation"),                # forgetting d gives 5
    pytest.param(5, 5, 1, 0, 1, 1, id="kernel-fills-input"),      # no +1 would give 0
    pytest.param(32, 4, 2, 1, 1, 16, id="stride-2-even-kernel"),  # padding once gives 15
    pytest.param(1, 1, 1, 0, 1, 1, id="one-by-one"),
])
def test_output_size_formula(i, k, s, p, d, expected):
    assert output_size(i, k, stride=s, padding=p, dilation=d) == expected == _formula(i, k, s, p, d)
    assert isinstance(output_size(i, k, stride=s, padding=p, dilation=d), int)


def test_output_size_tuples_in_tuple_out():
    assert output_size((32, 64, 64), 3, stride=(1, 2, 2), padding=1) == (32, 32, 32)
    assert output_size(64, (3, 5), padding=(1, 2)) == (64, 64)
    assert output_size([9], 3) == (7,)
    assert isinstance(output_size((9, 9), (3, 3)), tuple)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------

_X = np.zeros((1, 3, 8, 8), np.float32)
_W = np.zeros((4, 3, 3, 3), np.float32)

BAD_CALLS = [  # call, exception, message regex
    pytest.param(lambda: correlate(np.zeros((8, 8), np.float32), _W), ValueError,
                 r"^x: expected 3, 4 or 5 dims \(N, C, \*S\)", id="x-ndim"),
    pytest.param(lambda: correlate(np.zeros((1, 1, 1, 1, 1, 8)), _W), ValueError,
                 r"^x: expected 3, 4 or 5 dims", id="x-ndim-6"),
    pytest.param(lambda: correlate(_X, np.zeros((4, 3, 3), np.float32)), ValueError,
                 r"^w: expected 4 dims \(C_out, C_in, kH, kW\) for 2-D input, got 3", id="w-ndim"),
    pytest.param(lambda: correlate(np.zeros((1, 1, 8)), np.zeros((1, 1, 3, 3))), ValueError,
                 r"^w: expected 3 dims \(C_out, C_in, kL\) for 1-D input, got 4", id="w-ndim-1d"),
    pytest.param(lambda: correlate(_X, np.zeros((4, 2, 3, 3), np.float32)), ValueError,
                 r"^w: expected C_in = 3 input channels", id="channel-mismatch"),
    pytest.param(lambda: correlate(_X, np.zeros((4, 3, 9, 3), np.float32)), ValueError,
                 r"^w: expected a \(dilated\) kernel no larger than the padded input", id="kernel-too-large"),
    pytest.param(lambda: correlate(_X, _W, dilation=4), ValueError,
                 r"^w: expected a \(dilated\) kernel no larger.*extent 9", id="dilated-kernel-too-large"),
    pytest.param(lambda: correlate(_X, _W, stride=0), ValueError,
                 r"^stride: expected an int >= 1, got 0", id="stride-zero"),
    pytest.param(lambda: correlate(_X, _W, stride=(1, -2)), ValueError,
                 r"^stride: expected an int >= 1, got -2", id="stride-negative"),
    pytest.param(lambda: correlate(_X, _W, stride=1.5), TypeError,
                 r"^stride: expected an int", id="stride-float"),
    pytest.param(lambda: correlate(_X, _W, padding=-1), ValueError,
                 r"^padding: expected an int >= 0, got -1", id="padding-negative"),
    pytest.param(lambda: correlate(_X, _W, padding=(1, 1, 1)), ValueError,
                 r"^padding: expected an int or 2 ints \(one per spatial axis\), got 3", id="padding-length"),
    pytest.param(lambda: correlate(_X, _W, padding="same"), TypeError,
                 r"^padding: expected an int or a tuple of 2 ints", id="padding-string"),
    pytest.param(lambda: correlate(_X, _W, dilation=0), ValueError,
                 r"^dilation: expected an int >= 1, got 0", id="dilation-zero"),
    pytest.param(lambda: correlate(_X.astype(complex), _W), TypeError,
                 r"^x: expected a float32 or float64 array, got dtype complex128", id="x-complex"),
    pytest.param(lambda: correlate(_X > 0, _W), TypeError,
                 r"^x: expected a float32 or float64 array, got dtype bool", id="x-bool"),
    pytest.param(lambda: correlate(None, _W), TypeError, r"^x: expected a float array", id="x-none"),
    pytest.param(lambda: correlate(_X, _W.astype(np.float64)), TypeError,
                 r"^w: expected dtype float32 \(the dtype of x\), got float64", id="dtype-mismatch"),
    pytest.param(lambda: correlate(_X, _W, np.zeros(3, np.float32)), ValueError,
                 r"^bias: expected shape \(4,\) \(one value per output channel", id="bias-length"),
    pytest.param(lambda: correlate(_X, _W, np.zeros(4, np.float64)), TypeError,
                 r"^bias: expected dtype float32", id="bias-dtype"),
    pytest.param(lambda: convolve(_X, _W, stride=0), ValueError, r"^stride: expected an int >= 1",
                 id="convolve-checks"),
    pytest.param(lambda: correlate_naive(_X, np.zeros((4, 2, 3, 3), np.float32)), ValueError,
                 r"^w: expected C_in = 3", id="naive-checks"),
    pytest.param(lambda: correlate_backward(np.zeros((1, 4, 5, 5), np.float32), _X, _W), ValueError,
                 r"^grad_out: expected shape \(1, 4, 6, 6\)", id="grad-out-shape"),
    pytest.param(lambda: correlate_backward(np.zeros((1, 4, 6, 6)), _X, _W), TypeError,
                 r"^grad_out: expected dtype float32", id="grad-out-dtype"),
    pytest.param(lambda: output_size(5, 7), ValueError,
                 r"^kernel: expected a \(dilated\) kernel no larger than the padded input", id="os-kernel"),
    pytest.param(lambda: output_size((8, 8), (3, 3, 3)), ValueError,
                 r"^in_size: expected tuple arguments of one length", id="os-lengths"),
    pytest.param(lambda: output_size(8, 3, stride=0), ValueError, r"^stride: expected an int >= 1",
                 id="os-stride"),
    pytest.param(lambda: output_size(8, 3, padding=-1), ValueError, r"^padding: expected an int >= 0",
                 id="os-padding"),
    pytest.param(lambda: output_size(0, 1), ValueError, r"^in_size: expected an int >= 1", id="os-in-size"),
    pytest.param(lambda: output_size(8, 2.5), TypeError, r"^kernel: expected an int", id="os-kernel-float"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_input_raises_naming_the_argument(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_docstring_examples_run():
    result = doctest.testmod(conv_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8
    assert result.failed == 0


# ---------------------------------------------------------------------------------------------
# The chapter's exercises (companion/exercises/bank/convolution.py): every misconception recognisable
# for many learners, not only the three that tests/test_exercises.py tries
# ---------------------------------------------------------------------------------------------

def test_conv_exercises_recognise_every_misconception_for_many_learners():
    from companion.exercises import EXERCISES, check, exercise

    ids = sorted(i for i in EXERCISES if i.startswith("conv.") and EXERCISES[i].kind in ("number", "array", "choice", "experiment"))
    assert ids == ["conv.convolve-vs-correlate", "conv.input-gradient", "conv.output-size",
                   "conv.padding-error", "conv.param-count", "conv.patch-padding", "conv.value-by-hand"]
    for exercise_id in ids:
        ex = EXERCISES[exercise_id]
        for n in range(10):
            learner = f"learner-{n}"
            params = exercise(exercise_id, learner=learner).params
            for mis in ex.misconceptions:
                fb = check(exercise_id, mis.value(params), learner=learner)
                assert not fb.correct and fb.message == mis.message, (exercise_id, learner, mis.name)


def test_conv_exercise_answers_match_independent_arithmetic():
    from companion.exercises import answer, exercise

    p = exercise("conv.output-size", learner="ada").params
    assert answer("conv.output-size", learner="ada") == _formula(p["n"], p["k"], p["s"], p["p"], p["d"])
    p = exercise("conv.param-count", learner="ada").params
    expected = sum(t.numel() for t in getattr(torch.nn, f"Conv{p['dims']}d")(p["c_in"], p["c_out"], p["k"]).parameters())
    assert answer("conv.param-count", learner="ada") == expected
    p = exercise("conv.value-by-hand", learner="ada").params
    x, w = np.array(p["x"]), np.array(p["w"])
    i, j = p["i"], p["j"]
    assert answer("conv.value-by-hand", learner="ada") == np.sum(x[i:i + 3, j:j + 3] * w)
    p = exercise("conv.convolve-vs-correlate", learner="ada").params
    np.testing.assert_array_equal(answer("conv.convolve-vs-correlate", learner="ada"),
                                  np.convolve(p["x"], p["w"], mode="valid"))
    p = exercise("conv.input-gradient", learner="ada").params
    xt = torch.tensor(p["x"], dtype=torch.float64, requires_grad=True)
    y = F.conv1d(xt[None, None], torch.tensor(p["w"], dtype=torch.float64)[None, None])
    (y[0, 0] * torch.tensor(p["g"], dtype=torch.float64)).sum().backward()
    assert answer("conv.input-gradient", learner="ada") == xt.grad[p["i"]].item()


# ----------------------------------------------------------------------------------------------
# conv_transpose: the input gradient of a strided correlation, used as a layer
# ----------------------------------------------------------------------------------------------

CT_CASES = [  # x spatial, kernel, kwargs
    ((7,), (3,), dict()),
    ((5,), (4,), dict(stride=2, padding=1)),
    ((6,), (3,), dict(stride=3, padding=2, output_padding=1, dilation=2)),
    ((5, 6), (2, 2), dict(stride=2)),                       # the U-Net's up-convolution
    ((4, 5), (3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((4, 5), (3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), output_padding=(1, 1))),
    ((4, 5), (3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), output_padding=(1, 0))),
    ((3, 4, 5), (2, 2, 2), dict(stride=2)),
    ((3, 4, 4), (3, 3, 3), dict(stride=(1, 2, 2), padding=1, output_padding=(0, 1, 1))),
]


@pytest.mark.parametrize("s_shape, k_shape, kwargs", CT_CASES)
@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_conv_transpose_matches_torch(s_shape, k_shape, kwargs, dtype, tol):
    from companion.convolution import conv_transpose

    rng = np.random.default_rng(len(s_shape) * 10 + len(kwargs))
    x = rng.standard_normal((2, 3) + s_shape).astype(dtype)
    w = rng.standard_normal((3, 4) + k_shape).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    f = getattr(F, f"conv_transpose{len(s_shape)}d")
    ref = f(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), **kwargs).numpy()
    ours = conv_transpose(x, w, b, **kwargs)
    assert ours.dtype == dtype and ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("s_shape, k_shape, kwargs", CT_CASES)
def test_conv_transpose_is_the_input_gradient_of_the_strided_correlation(s_shape, k_shape, kwargs):
    """conv_transpose(g, w) == correlate_backward(g, z, w)'s grad_x, z of the transposed output's shape."""
    from companion.convolution import conv_transpose

    if any(o >= s for o, s in zip(np.broadcast_to(kwargs.get("output_padding", 0), len(s_shape)),
                                  np.broadcast_to(kwargs.get("stride", 1), len(s_shape)))):
        pytest.skip("output_padding >= stride (allowed below the dilation): no correlation maps back to x's size")
    rng = np.random.default_rng(7)
    g = rng.standard_normal((2, 3) + s_shape)
    w = rng.standard_normal((3, 4) + k_shape)
    up = conv_transpose(g, w, **kwargs)
    fwd = {k: v for k, v in kwargs.items() if k != "output_padding"}
    z = rng.standard_normal(up.shape)
    assert correlate(z, w, **fwd).shape == g.shape
    grad_x, _, _ = correlate_backward(g, z, w, **fwd)
    np.testing.assert_allclose(up, grad_x, rtol=1e-12, atol=1e-12)
    # adjointness <A z, g> = <z, A^T g>, the definition of the transpose
    assert np.sum(correlate(z, w, **fwd) * g) == pytest.approx(np.sum(z * up), rel=1e-12)


def test_conv_transpose_hand_case_and_checkerboard():
    from companion.convolution import conv_transpose

    out = conv_transpose(np.array([[[1.0, 2.0]]]), np.array([[[1.0, 1.0, 1.0]]]), stride=2)
    np.testing.assert_array_equal(out, [[[1.0, 1.0, 3.0, 2.0, 2.0]]])
    # constant input, k = 3, s = 2: the copies overlap on every other sample -> period-2 pattern
    flat = conv_transpose(np.ones((1, 1, 6, 6)), np.ones((1, 1, 3, 3)), stride=2)
    inner = flat[0, 0, 1:-2, 1:-2]
    assert set(np.unique(inner).tolist()) == {1.0, 2.0, 4.0}
    even = conv_transpose(np.ones((1, 1, 6, 6)), np.ones((1, 1, 2, 2)), stride=2)   # k = s: no overlap
    assert np.all(even == 1.0)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: __import__("companion.convolution").convolution.conv_transpose(np.ones((1, 2, 4)), np.ones((3, 1, 2))),
     ValueError, r"^w: expected C_in = 2 input channels"),
    (lambda: __import__("companion.convolution").convolution.conv_transpose(np.ones((1, 2, 4)), np.ones((2, 1, 2, 2))),
     ValueError, r"^w: expected 3 dims \(C_in, C_out, kL\)"),
    (lambda: __import__("companion.convolution").convolution.conv_transpose(np.ones((1, 2, 4)), np.ones((2, 1, 2)),
                                                                            np.ones(2)),
     ValueError, r"^bias: expected shape \(1,\)"),
    (lambda: __import__("companion.convolution").convolution.conv_transpose(np.ones((1, 2, 4)), np.ones((2, 1, 2)),
                                                                            stride=2, output_padding=2),
     ValueError, r"^output_padding: expected less than the stride"),
    (lambda: __import__("companion.convolution").convolution.conv_transpose(np.ones((1, 2, 1)), np.ones((2, 1, 1)),
                                                                            padding=1),
     ValueError, r"^padding: expected an output of at least 1"),
    (lambda: __import__("companion.convolution").convolution.conv_transpose(np.ones((1, 2, 4)),
                                                                            np.ones((2, 1, 2), dtype=np.float32)),
     TypeError, r"^w: expected dtype float64"),
])
def test_conv_transpose_bad_input(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_padding_error_exercise_against_torch_padding():
    """conv.padding-error's reference, recomputed with torch's own padding modes and conv2d."""
    from companion.data import load_ct_slice
    from companion.exercises import answer, exercise

    hu = torch.from_numpy(load_ct_slice().pixels.astype(np.float64))
    b = torch.tensor([1.0, 4, 6, 4, 1], dtype=torch.float64) / 16
    k = torch.outer(b, b)[None, None]
    modes = {"zeros in HU (water)": ("constant", 0.0), "zeros after normalising (air, -1000 HU)": ("constant", -1000.0),
             "reflect": ("reflect", None), "replicate": ("replicate", None)}
    seen = set()
    for n in range(12):
        p = exercise("conv.padding-error", learner=f"learner-{n}").params
        size, top, left = p["size"], p["top"], p["left"]
        context = hu[top - 2:top + size + 2, left - 2:left + size + 2][None, None]
        truth = F.conv2d(context, k)[0, 0]
        mode, value = modes[p["mode"]]
        patch = context[..., 2:-2, 2:-2]
        padded = F.pad(patch, (2, 2, 2, 2), mode=mode, value=value) if mode == "constant" else F.pad(patch, (2, 2, 2, 2), mode=mode)
        err = (F.conv2d(padded, k)[0, 0] - truth).numpy()
        band = np.ones((size, size), bool)
        band[2:-2, 2:-2] = False
        assert np.isclose(answer("conv.padding-error", learner=f"learner-{n}"), np.sqrt(np.mean(err[band] ** 2)), rtol=1e-9)
        seen.add(p["mode"])
    assert len(seen) >= 3  # the learners get different paddings


@pytest.mark.parametrize("shape, kernel, stride, dilation", [
    ((2, 3, 11), 3, 2, 1), ((1, 2, 9, 8), (3, 2), (1, 2), (2, 1)), ((1, 1, 6, 7, 5), 2, (2, 1, 2), 1)])
def test_window_view_is_every_window(shape, kernel, stride, dilation):
    """view[n, c, i, k] = x[n, c, s*i + d*k], checked entry by entry; sizes as output_size."""
    from companion.convolution import window_view

    x = np.random.default_rng(0).standard_normal(shape)
    nd = len(shape) - 2
    k, s, d = (tuple(v) if isinstance(v, tuple) else (v,) * nd for v in (kernel, stride, dilation))
    view = window_view(x, kernel, stride=stride, dilation=dilation)
    out = output_size(shape[2:], k, stride=s, dilation=d)
    assert view.shape == shape[:2] + out + k and not view.flags.writeable
    for i in np.ndindex(*out):
        for kk in np.ndindex(*k):
            src = tuple(si * ii + di * ki for si, ii, di, ki in zip(s, i, d, kk))
            np.testing.assert_array_equal(view[(slice(None), slice(None)) + i + kk], x[(slice(None), slice(None)) + src])
    with pytest.raises(ValueError, match=r"^kernel: expected a \(dilated\) window no larger than x"):
        window_view(x, 20)
