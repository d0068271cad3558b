"""companion.pooling against torch (F.avg_pool*, F.max_pool*), numpy.fft and the closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import numerical_vjp, relative_error  # the one centred-difference oracle
from companion.pooling import (avg_pool, binomial_filter, blur_pool, box_filter_response, max_pool,
                               max_pool_backward, pool_output_size)

TORCH_AVG = {3: F.avg_pool1d, 4: F.avg_pool2d, 5: F.avg_pool3d}
TORCH_MAX = {3: F.max_pool1d, 4: F.max_pool2d, 5: F.max_pool3d}
TOLS = [pytest.param(np.float32, 1e-5, id="f32"), pytest.param(np.float64, 1e-10, id="f64")]

POOL_CASES = [  # x shape, kernel, stride, padding; the mistake each catches
    pytest.param((2, 3, 10), 2, None, 0, id="1d-default-stride"),        # stride must default to kernel
    pytest.param((1, 2, 11), 3, 2, 1, id="1d-overlap-pad"),              # padding counted in the mean
    pytest.param((2, 2, 7, 9), 2, None, 0, id="2d-odd-size-floor"),      # last partial window dropped
    pytest.param((1, 3, 8, 9), (3, 2), (2, 1), (1, 0), id="2d-aniso"),   # per-axis tuples, axes not swapped
    pytest.param((1, 1, 6, 7), 3, 1, 1, id="2d-stride1-pad"),
    pytest.param((1, 2, 5, 6, 7), 2, None, 0, id="3d-default"),
    pytest.param((1, 1, 6, 5, 7), (3, 1, 2), (2, 1, 2), (1, 0, 1), id="3d-aniso-pad"),
]


@pytest.mark.parametrize("dtype, tol", TOLS)
@pytest.mark.parametrize("shape, kernel, stride, padding", POOL_CASES)
def test_avg_pool_matches_torch(shape, kernel, stride, padding, dtype, tol):
    x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    expected = TORCH_AVG[x.ndim](torch.from_numpy(x), kernel, stride, padding,
                                 count_include_pad=True).numpy()
    x_copy = x.copy()
    out = avg_pool(x, kernel, stride, padding)
    assert out.dtype == dtype and out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)
    np.testing.assert_array_equal(x, x_copy)  # input not mutated


@pytest.mark.parametrize("dtype, tol", TOLS)
@pytest.mark.parametrize("shape, kernel, stride, padding", POOL_CASES)
def test_max_pool_matches_torch(shape, kernel, stride, padding, dtype, tol):
    x = np.random.default_rng(2).standard_normal(shape).astype(dtype) - 3.0  # negative: -inf padding matters
    expected = TORCH_MAX[x.ndim](torch.from_numpy(x), kernel, stride, padding).numpy()
    out = max_pool(x, kernel, stride, padding)
    assert out.dtype == dtype and out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


# ---- max-pool backward: the gradient goes to each window's argmax ----

def _torch_max_pool_grad(x, grad_out, kernel, stride, padding):
    t = torch.tensor(x, requires_grad=True)
    y = TORCH_MAX[x.ndim](t, kernel, stride, padding)
    y.backward(torch.from_numpy(grad_out))
    return t.grad.numpy()


@pytest.mark.parametrize("dtype, tol", TOLS)
@pytest.mark.parametrize("shape, kernel, stride, padding", POOL_CASES)
def test_max_pool_backward_matches_torch_autograd(shape, kernel, stride, padding, dtype, tol):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape).astype(dtype) - 3.0                       # negative: padding must never win
    g = rng.standard_normal(max_pool(x, kernel, stride, padding).shape).astype(dtype)
    out = max_pool_backward(g, x, kernel, stride, padding)
    assert out.dtype == dtype and out.shape == x.shape
    np.testing.assert_allclose(out, _torch_max_pool_grad(x, g, kernel, stride, padding), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape, kernel, stride, padding", POOL_CASES)
def test_max_pool_backward_ties_go_to_the_first_maximum_like_torch(shape, kernel, stride, padding):
    # integer-valued input: many ties inside windows; a wrong tie rule (last max, or split) differs from torch
    rng = np.random.default_rng(8)
    x = rng.integers(0, 3, shape).astype(np.float64)
    g = rng.standard_normal(max_pool(x, kernel, stride, padding).shape)
    np.testing.assert_array_equal(max_pool_backward(g, x, kernel, stride, padding),
                                  _torch_max_pool_grad(x, g, kernel, stride, padding))


@pytest.mark.parametrize("shape, kernel, stride, padding", [
    pytest.param((1, 2, 9), 3, 2, 1, id="1d-overlap"),                      # overlapping windows accumulate
    pytest.param((1, 1, 6, 7), (3, 2), (2, 1), (1, 1), id="2d-aniso-overlap"),
    pytest.param((1, 1, 4, 5, 6), (1, 2, 2), None, 0, id="3d-1x2x2"),      # nnU-Net's anisotropic pooling
])
def test_max_pool_backward_matches_centred_differences(shape, kernel, stride, padding):
    # distinct values spaced >> h: no tie and no change of argmax within +-h, so max_pool is linear there
    rng = np.random.default_rng(9)
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.01 + rng.uniform(0, 1e-3, shape)
    g = rng.standard_normal(max_pool(x, kernel, stride, padding).shape)
    num = numerical_vjp(lambda v: max_pool(v, kernel, stride, padding), x, g)
    ana = max_pool_backward(g, x, kernel, stride, padding)
    err = relative_error(ana, num)
    assert err < 1e-7, err
    # each window's gradient lands once: the totals agree, and most inputs (non-winners) get nothing
    np.testing.assert_allclose(ana.sum(), g.sum(), rtol=1e-12)


def test_max_pool_backward_hand_case():
    # windows [1, 3] and [2, 0] (the 5 is dropped by the floor): gradients go to the 3 and the 2
    out = max_pool_backward(np.array([[[10.0, 20.0]]]), np.array([[[1.0, 3.0, 2.0, 0.0, 5.0]]]), 2)
    np.testing.assert_array_equal(out, [[[0.0, 10.0, 20.0, 0.0, 0.0]]])


def test_avg_pool_hand_case_counts_padding():
    # [1, 2, 3] padded to [0, 1, 2, 3, 0], windows of 2 at stride 2 -> [(0+1)/2, (2+3)/2]
    out = avg_pool(np.array([[[1.0, 2.0, 3.0]]]), 2, 2, 1)
    np.testing.assert_allclose(out, [[[0.5, 2.5]]], rtol=0, atol=1e-15)


@pytest.mark.parametrize("args, expected", [
    pytest.param((64, 2), 32, id="halve"),
    pytest.param((7, 2), 3, id="floor"),
    pytest.param(((7, 8), 3, 2, 1), (4, 4), id="tuple"),
])
def test_pool_output_size_matches_torch_shapes(args, expected):
    assert pool_output_size(*args) == expected


# ---- box filter response ----

@pytest.mark.parametrize("k", [2, 3, 4, 7])
def test_box_filter_response_matches_dft_of_box_kernel(k):
    n = 256  # zero-padded DFT samples the DTFT at f = m/n
    h = np.zeros(n)
    h[:k] = 1.0 / k
    dft = np.abs(np.fft.rfft(h))
    f = np.fft.rfftfreq(n)
    np.testing.assert_allclose(box_filter_response(k, f), dft, rtol=1e-10, atol=1e-12)


def test_box_filter_response_landmarks():
    assert box_filter_response(2, 0.0) == 1.0
    np.testing.assert_allclose(box_filter_response(2, 0.25), np.sqrt(0.5), rtol=1e-12)
    for k in (2, 3, 5):
        np.testing.assert_allclose(box_filter_response(k, 1.0 / k), 0.0, atol=1e-12)     # first zero
        f = np.linspace(1e-6, 1.0 / k - 1e-6, 50)
        assert np.all(box_filter_response(k, f) > 0)                                     # none before it
        np.testing.assert_allclose(box_filter_response(k, 1 / (2 * k)), 1 / (k * np.sin(np.pi / (2 * k))))
    assert box_filter_response(3, np.float32(0.1)).dtype == np.float32
    np.testing.assert_allclose(box_filter_response(4, [1.0, 2.0]), [1.0, 1.0])           # periodic limit


def test_avg_pool_is_box_filter_then_decimation():
    x = np.random.default_rng(3).standard_normal((1, 1, 40))
    k = 4
    box = np.convolve(x[0, 0], np.ones(k) / k, mode="valid")
    np.testing.assert_allclose(avg_pool(x, k)[0, 0], box[::k], rtol=1e-12)


def test_avg_pool_aliased_frequency_position():
    # a cosine at f0 = 0.4 cycles/sample, pooled by 2, reappears at |2*f0 - 1| = 0.2 cycles per new sample
    n, f0 = 250, 0.4  # whole numbers of cycles before and after: no spectral leakage
    x = np.cos(2 * np.pi * f0 * np.arange(n))[None, None]
    y = avg_pool(x, 2)[0, 0]
    spec = np.abs(np.fft.rfft(y))
    peak = np.fft.rfftfreq(y.size)[np.argmax(spec)]
    assert peak == pytest.approx(0.2, abs=1 / y.size)
    # its amplitude is the box response at f0 (=|cos(pi*0.4)|), not zero
    assert spec.max() / (y.size / 2) == pytest.approx(box_filter_response(2, f0), rel=1e-6)


def test_avg_pool_white_noise_variance_divides_by_k_to_the_d():
    rng = np.random.default_rng(4)
    for shape, k, factor in [((1, 1, 200_000), 4, 4), ((1, 1, 400, 400), 2, 4), ((1, 1, 60, 60, 60), 2, 8)]:
        x = rng.standard_normal(shape)
        ratio = x.var() / avg_pool(x, k).var()
        assert ratio == pytest.approx(factor, rel=0.05)


# ---- blur pool against an independent torch implementation (Zhang 2019) ----

def _torch_blur_pool(x, kernel, stride, filter_size):
    t = torch.from_numpy(x)
    d = t.ndim - 2
    if kernel > 1:
        lo = (kernel - 1) // 2
        t = F.pad(t, (lo, kernel - 1 - lo) * d, mode="constant", value=float("-inf"))
        t = [F.max_pool1d, F.max_pool2d, F.max_pool3d][d - 1](t, kernel, stride=1)
    a = torch.tensor([float(math.comb(filter_size - 1, i)) for i in range(filter_size)],
                     dtype=torch.float64)
    a = a / a.sum()
    filt = a
    for _ in range(d - 1):
        filt = filt[..., None] * a
    c = t.shape[1]
    w = filt.to(t.dtype).expand(c, 1, *([filter_size] * d)).contiguous()
    before, after = (filter_size - 1) // 2, filter_size // 2
    t = F.pad(t, (before, after) * d, mode="reflect")
    return [F.conv1d, F.conv2d, F.conv3d][d - 1](t, w, stride=stride, groups=c).numpy()


BLUR_CASES = [  # shape, kernel, stride, filter_size
    pytest.param((2, 3, 16, 16), 2, 2, 3, id="2d-default"),
    pytest.param((1, 2, 15, 12), 2, 2, 3, id="2d-odd-ceil"),
    pytest.param((1, 2, 13, 14), 3, 2, 5, id="2d-k3-f5"),
    pytest.param((1, 1, 12, 12), 2, 3, 4, id="2d-even-filter"),
    pytest.param((1, 2, 12, 12), 1, 2, 3, id="2d-no-max"),
    pytest.param((1, 2, 9, 8, 10), 2, 2, 3, id="3d-default"),
    pytest.param((2, 2, 17), 2, 2, 3, id="1d"),
]


@pytest.mark.parametrize("dtype, tol", TOLS)
@pytest.mark.parametrize("shape, kernel, stride, filter_size", BLUR_CASES)
def test_blur_pool_matches_independent_torch(shape, kernel, stride, filter_size, dtype, tol):
    x = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    expected = _torch_blur_pool(x, kernel, stride, filter_size)
    out = blur_pool(x, kernel, stride, filter_size)
    assert out.dtype == dtype
    assert out.shape[2:] == tuple(-(-s // stride) for s in shape[2:])
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


def test_blur_pool_without_blur_is_max_pool():
    x = np.random.default_rng(6).standard_normal((1, 2, 12, 12))
    np.testing.assert_array_equal(blur_pool(x, 2, 2, filter_size=1), max_pool(x, 2))


def test_binomial_filter():
    np.testing.assert_allclose(binomial_filter(4), [1 / 8, 3 / 8, 3 / 8, 1 / 8])
    for n in (2, 3, 5):
        taps = binomial_filter(n)
        assert taps.sum() == pytest.approx(1.0)
        assert abs(np.sum(taps * (-1.0) ** np.arange(n))) < 1e-15  # zero gain at Nyquist


def test_blur_pool_removes_nyquist_alias():
    # the checkerboard at Nyquist survives max pooling as a constant (+1 everywhere) but blur removes it
    x = np.indices((16, 16)).sum(0) % 2 * 2.0 - 1.0
    x = x[None, None]
    assert np.all(max_pool(x, 2) == 1.0)
    np.testing.assert_allclose(blur_pool(x, kernel=1, stride=2), 0.0, atol=1e-12)


# ---- bad input ----

BAD_CALLS = [
    pytest.param(lambda: avg_pool(np.zeros((4, 4)), 2), ValueError, r"^x: expected 3, 4 or 5 dims", id="2-dim x"),
    pytest.param(lambda: avg_pool("abc", 2), TypeError, r"^x: expected a float array", id="str x"),
    pytest.param(lambda: avg_pool(np.zeros((1, 1, 4), bool), 2), TypeError, r"^x: expected a float32", id="bool x"),
    pytest.param(lambda: avg_pool(np.zeros((1, 1, 4, 4)), (2, 2, 2)), ValueError, r"^kernel: expected an int or 2 ints", id="kernel len"),
    pytest.param(lambda: avg_pool(np.zeros((1, 1, 4, 4)), 0), ValueError, r"^kernel: expected an int >= 1", id="kernel 0"),
    pytest.param(lambda: max_pool(np.zeros((1, 1, 4, 4)), 2.5), TypeError, r"^kernel: expected an int", id="kernel float"),
    pytest.param(lambda: max_pool(np.zeros((1, 1, 4, 4)), 2, 0), ValueError, r"^stride: expected an int >= 1", id="stride 0"),
    pytest.param(lambda: max_pool(np.zeros((1, 1, 4, 4)), 2, 2, 2), ValueError, r"^padding: expected at most half", id="pad too big"),
    pytest.param(lambda: max_pool(np.zeros((1, 1, 4, 4)), 2, 2, -1), ValueError, r"^padding: expected an int >= 0", id="pad negative"),
    pytest.param(lambda: avg_pool(np.zeros((1, 1, 2, 4)), 3), ValueError, r"^x: spatial size", id="window too big"),
    pytest.param(lambda: box_filter_response(0, 0.1), ValueError, r"^k: expected an int >= 1", id="k 0"),
    pytest.param(lambda: box_filter_response(2, "a"), TypeError, r"^f: expected a float array", id="f str"),
    pytest.param(lambda: blur_pool(np.zeros((1, 1, 1, 8)), 2, 2, 3), ValueError, r"^x: expected every spatial size", id="blur tiny"),
    pytest.param(lambda: blur_pool(np.zeros((8, 8)), 2, 2, 3), ValueError, r"^x: expected 3, 4 or 5 dims", id="blur 2-dim"),
    pytest.param(lambda: blur_pool(np.zeros((1, 1, 8, 8)), 2, 2, 0), ValueError, r"^filter_size: expected an int >= 1", id="filter 0"),
    pytest.param(lambda: pool_output_size(2, 3), ValueError, r"^in_size: expected at least", id="size too small"),
    pytest.param(lambda: max_pool_backward(np.zeros((1, 1, 3)), np.zeros((1, 1, 4, 4)), 2), ValueError,
                 r"^grad_out: expected the pooled shape \(1, 1, 2, 2\)", id="grad_out shape"),
    pytest.param(lambda: max_pool_backward("a", np.zeros((1, 1, 4, 4)), 2), TypeError, r"^grad_out: expected a float",
                 id="grad_out str"),
    pytest.param(lambda: max_pool_backward(np.zeros((1, 1, 2, 2)), np.zeros((4, 4)), 2), ValueError,
                 r"^x: expected 3, 4 or 5 dims", id="backward 2-dim x"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_calls_raise_named_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
