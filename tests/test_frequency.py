"""companion.frequency: the DFT convolution theorem and frequency responses, against NumPy/SciPy."""

import numpy as np
import pytest
import scipy.signal

from companion.frequency import circular_convolve, fft_convolve, frequency_response
from companion.pooling import box_filter_response

CASES = [  # x shape, g shape
    pytest.param((16,), (3,), id="1d"),
    pytest.param((9, 12), (3, 4), id="2d-asym"),
    pytest.param((5, 6, 7), (2, 3, 3), id="3d"),
]


@pytest.mark.parametrize("x_shape, g_shape", CASES)
@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-4), (np.float64, 1e-10)])
def test_fft_full_is_linear_convolution(x_shape, g_shape, dtype, tol):
    rng = np.random.default_rng(0)
    x, g = (rng.standard_normal(s).astype(dtype) for s in (x_shape, g_shape))
    out = fft_convolve(x, g)
    assert out.dtype == dtype and out.shape == tuple(n + k - 1 for n, k in zip(x_shape, g_shape))
    np.testing.assert_allclose(out, scipy.signal.convolve(x.astype(float), g.astype(float), method="direct"),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("x_shape, g_shape", CASES)
def test_circular_theorem_against_numpy_fft(x_shape, g_shape):
    """Direct circular sum == ifft(fft(x) fft(g)) (numpy.fft as the oracle), and != linear (wrap)."""
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal(x_shape), rng.standard_normal(g_shape)
    direct = circular_convolve(x, g)
    oracle = np.real(np.fft.ifftn(np.fft.fftn(x) * np.fft.fftn(g, x.shape, axes=tuple(range(x.ndim)))))
    np.testing.assert_allclose(direct, oracle, atol=1e-10)
    np.testing.assert_allclose(fft_convolve(x, g, mode="circular"), oracle, atol=1e-10)
    # wrap-around: the circular result is the full one with its tail folded onto the start
    full = scipy.signal.convolve(x, g)
    folded = full[tuple(slice(0, n) for n in x.shape)].copy()
    assert not np.allclose(direct, folded)  # (catches "circular" computed as linear)


def test_circular_by_hand():
    # y[n] = x[n] + x[n-1 mod 4] for x = 1, 2, 3, 4
    np.testing.assert_allclose(circular_convolve([1.0, 2, 3, 4], [1.0, 1.0]), [5, 3, 5, 7])


def test_frequency_response_against_freqz_and_closed_forms():
    rng = np.random.default_rng(2)
    g = rng.standard_normal(5)
    f, H = frequency_response(g, n_freq=65)
    _, H_ref = scipy.signal.freqz(g, worN=2 * np.pi * f)
    np.testing.assert_allclose(H, H_ref, atol=1e-12)
    # closed forms: box of k taps, central difference, second difference
    for k in (2, 3, 5):
        np.testing.assert_allclose(np.abs(frequency_response(np.ones(k) / k, 65)[1]),
                                   box_filter_response(k, f), atol=1e-12)
    np.testing.assert_allclose(np.abs(frequency_response([1.0, 0, -1], 65)[1]), 2 * np.abs(np.sin(2 * np.pi * f)), atol=1e-12)
    np.testing.assert_allclose(np.abs(frequency_response([1.0, -2, 1], 65)[1]), 4 * np.sin(np.pi * f) ** 2, atol=1e-12)


def test_response_is_gain_on_a_cosine():
    """A cosine through the kernel comes out scaled by |H(f)| (away from the ends)."""
    g = np.array([0.1, 0.6, 0.3])
    f, H = frequency_response(g, n_freq=9)
    n = np.arange(400)
    for fk, Hk in zip(f[1:-1], H[1:-1]):
        y = np.convolve(np.cos(2 * np.pi * fk * n), g, mode="valid")
        m = n[len(g) - 1:]  # y[j] is centred on sample m = j + len(g) - 1 (the newest input)
        basis = np.stack([np.cos(2 * np.pi * fk * m), np.sin(2 * np.pi * fk * m)], axis=1)
        a, b = np.linalg.lstsq(basis, y, rcond=None)[0]
        np.testing.assert_allclose(a - 1j * b, Hk, atol=1e-9)  # amplitude |H| and phase arg H


BAD_CALLS = [
    (lambda: circular_convolve([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, r"^g: expected no longer"),
    (lambda: circular_convolve([[1.0]], [1.0]), ValueError, r"^g: expected 2 dims"),
    (lambda: fft_convolve([1.0], [1.0], mode="same"), ValueError, r"^mode: expected"),
    (lambda: fft_convolve("x", [1.0]), TypeError, r"^x: expected"),
    (lambda: frequency_response([[1.0]]), ValueError, r"^g: expected 1 dims"),
    (lambda: frequency_response([1.0], n_freq=1), ValueError, r"^n_freq: expected an int >= 2"),
]


@pytest.mark.parametrize("call, exc, match", BAD_CALLS)
def test_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
