"""The frequency view of convolution: the DFT convolution theorem and a kernel's frequency response.

On ``N`` samples, the discrete Fourier transform (DFT) turns a **circular** convolution into a
pointwise product,

.. math::

    (x \\circledast g)[n] = \\sum_{m=0}^{N-1} x[m]\\, g[(n - m) \\bmod N]
    \\quad\\Longleftrightarrow\\quad
    \\operatorname{DFT}(x \\circledast g)[k] = X[k]\\, G[k],

so a kernel acts on each frequency separately, multiplying it by its **frequency response**
``H(f) = sum_k g[k] exp(-2 pi i f k)`` (``f`` in cycles per sample, ``0 <= f <= 1/2``). A cosine
of frequency ``f`` goes through a correlation or convolution with its amplitude multiplied by
``|H(f)|``. The DFT's convolution is circular (the signal wraps around); padding both arrays
with zeros to at least ``len(x) + len(g) - 1`` samples leaves nothing to wrap, and the circular
result equals the ordinary (linear, "full") convolution.

This module is a NumPy core (no torch, no matplotlib). Arrays are plain n-D signals (no batch or
channel axes), unlike :mod:`companion.convolution`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion._validation import as_float_array, as_int

__all__ = ["circular_convolve", "fft_convolve", "frequency_response"]


def _pair(x: Any, g: Any) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(x, "x")
    g = as_float_array(g, "g")
    if x.ndim < 1:
        raise ValueError("x: expected at least 1 dim, got a scalar")
    if g.ndim != x.ndim:
        raise ValueError(f"g: expected {x.ndim} dims (as x), got {g.ndim} (shape {g.shape})")
    return x, g.astype(x.dtype, copy=False)


def circular_convolve(x: Any, g: Any) -> np.ndarray:
    """Circular convolution by its definition: ``y[n] = sum_m g[m] x[(n - m) mod N]`` per axis.

    Computed directly (a sum of rolled copies of `x`, one per kernel entry), without the DFT, so
    that it can check :func:`fft_convolve`.

    Parameters
    ----------
    x : array_like, shape S
        The signal (1-, 2- or 3-D, or more), periodic with period ``S``.
    g : array_like
        The kernel, same number of dims as `x` and no longer than `x` along any axis; its entry
        ``g[0, ...]`` sits at lag 0.

    Returns
    -------
    ndarray
        Same shape as `x` (float32 stays float32, else float64).

    Shapes
    ------
    x : S;  g : K with K <= S;  result : S

    Raises
    ------
    TypeError
        If `x` or `g` is not numeric.
    ValueError
        If the dims differ or `g` is longer than `x` along an axis.

    Examples
    --------
    >>> circular_convolve([1.0, 2.0, 3.0, 4.0], [1.0, 1.0]).tolist()
    [5.0, 3.0, 5.0, 7.0]
    """
    x, g = _pair(x, g)
    if any(k > n for k, n in zip(g.shape, x.shape)):
        raise ValueError(f"g: expected no longer than x along every axis, got {g.shape} for x {x.shape}")
    y = np.zeros_like(x)
    for m in np.ndindex(g.shape):
        if g[m] != 0:
            y += g[m] * np.roll(x, m, axis=tuple(range(x.ndim)))
    return y


def fft_convolve(x: Any, g: Any, *, mode: str = "full") -> np.ndarray:
    """Convolution through the DFT: ``ifft(fft(x, n) * fft(g, n))``.

    Parameters
    ----------
    x : array_like
        The signal.
    g : array_like
        The kernel, same number of dims as `x`.
    mode : {"full", "circular"}, default "full"
        ``"circular"``: DFT length ``S`` (the shape of `x`), giving the circular convolution of
        :func:`circular_convolve` (wrap-around included). ``"full"``: both arrays zero-padded to
        ``S + K - 1`` per axis, giving the linear full convolution, equal to
        ``scipy.signal.convolve(x, g, mode="full")``.

    Returns
    -------
    ndarray
        Real result: shape ``S`` (circular) or ``S + K - 1`` (full); float32 stays float32.

    Shapes
    ------
    x : S;  g : K;  result : S or S + K - 1

    Raises
    ------
    TypeError
        If `x` or `g` is not numeric.
    ValueError
        If the dims differ, `mode` is unknown, or (circular) `g` is longer than `x`.

    Examples
    --------
    >>> fft_convolve([1.0, 2.0, 3.0, 4.0], [1.0, 1.0], mode="circular").round(12).tolist()
    [5.0, 3.0, 5.0, 7.0]
    >>> fft_convolve([1.0, 2.0, 3.0, 4.0], [1.0, 1.0]).round(12).tolist()
    [1.0, 3.0, 5.0, 7.0, 4.0]
    """
    x, g = _pair(x, g)
    if mode == "circular":
        if any(k > n for k, n in zip(g.shape, x.shape)):
            raise ValueError(f"g: expected no longer than x along every axis, got {g.shape} for x {x.shape}")
        shape = x.shape
    elif mode == "full":
        shape = tuple(n + k - 1 for n, k in zip(x.shape, g.shape))
    else:
        raise ValueError(f"mode: expected 'full' or 'circular', got {mode!r}")
    axes = tuple(range(x.ndim))
    spectrum = np.fft.rfftn(x, shape, axes=axes) * np.fft.rfftn(g, shape, axes=axes)
    return np.fft.irfftn(spectrum, shape, axes=axes).astype(x.dtype, copy=False)


def frequency_response(g: Any, n_freq: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Frequency response ``H(f) = sum_k g[k] exp(-2 pi i f k)`` of a 1-D kernel.

    ``H`` is what a convolution with `g` multiplies a complex exponential of frequency ``f``
    by; a correlation with `g` multiplies it by ``conj(H(f))`` (same magnitude). The phase refers
    to lag 0 at ``g[0]``; for a kernel centred at ``g[len(g) // 2]`` multiply by
    ``exp(2 pi i f (len(g) // 2))``.

    Parameters
    ----------
    g : array_like, shape (K,)
        The kernel.
    n_freq : int, default 256
        Number of frequencies, evenly spaced from 0 to 1/2 cycle per sample inclusive, >= 2.

    Returns
    -------
    f : ndarray of float64, shape (n_freq,)
        Frequencies in cycles per sample.
    H : ndarray of complex128, shape (n_freq,)
        The response at each frequency.

    Shapes
    ------
    g : (K,);  f, H : (n_freq,)

    Raises
    ------
    TypeError
        If `g` is not numeric or `n_freq` not an integer.
    ValueError
        If `g` is not 1-D or `n_freq` < 2.

    See Also
    --------
    companion.pooling.box_filter_response : the closed form for a box of ``k`` equal taps.

    Examples
    --------
    >>> f, H = frequency_response([0.25, 0.5, 0.25], n_freq=3)
    >>> f.tolist(), np.abs(H).round(6).tolist()
    ([0.0, 0.25, 0.5], [1.0, 0.5, 0.0])
    """
    g = as_float_array(g, "g", ndim=1).astype(np.float64)
    n_freq = as_int(n_freq, "n_freq", minimum=2)
    f = np.linspace(0.0, 0.5, n_freq)
    H = np.exp(-2j * np.pi * np.outer(f, np.arange(g.size))) @ g
    return f, H
