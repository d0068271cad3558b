"""Widget of chap-pooling: a cosine, its average-pooled version, and both spectra.

* :func:`pooling_panel` — pure NumPy: a cosine of frequency ``f0`` (cycles per sample), its
  average pooling by ``k`` (:func:`companion.pooling.avg_pool`), the amplitude spectra of both
  and where the pooled cosine lands: at ``f0`` if ``f0 < 1/(2k)``, else folded back to
  ``|k f0 - round(k f0)|`` cycles per output sample, with amplitude ``|H(f0)|``;
* :func:`draw_panel` / :func:`pooling_grid` — the matplotlib drawing (the book's static view);
* :func:`pooling_widget` — the ipywidgets UI (kernel size, input frequency), drawn as a PNG.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_int, as_positive_float
from companion.pooling import avg_pool, box_filter_response
from companion.widgets._render import WRAP, explore, figure_png, figure_width, show_png, use_static

__all__ = ["PoolingPanel", "pooling_panel", "draw_panel", "pooling_grid", "pooling_widget"]


class PoolingPanel(NamedTuple):
    """Everything one view shows (NumPy only)."""

    k: int
    f0: float
    t: np.ndarray          #: sample positions of the input
    x: np.ndarray          #: the input cosine
    y: np.ndarray          #: its average pooling by k (one value per k samples)
    freq_x: np.ndarray     #: frequencies of the input spectrum (cycles per input sample)
    spec_x: np.ndarray     #: amplitude spectrum of x
    freq_y: np.ndarray     #: frequencies of the pooled spectrum (cycles per output sample)
    spec_y: np.ndarray     #: amplitude spectrum of y
    alias_f: float         #: where the cosine appears after pooling (cycles per output sample)
    gain: float            #: |H(f0)| of the box filter: the pooled cosine's amplitude
    aliased: bool          #: True when f0 is above the new Nyquist frequency 1/(2k)


def pooling_panel(k: int = 2, f0: float = 0.4, *, n: int = 240) -> PoolingPanel:
    """Compute one view: ``x[t] = cos(2 pi f0 t)``, ``t = 0 … n-1``, pooled by `k`.

    Amplitude spectra are ``|rfft| / (length / 2)`` (a unit cosine on a bin reads 1).

    Raises
    ------
    TypeError, ValueError
        If `k` is not an int in 1 … 8, `f0` is not in [0, 0.5], or `n` is not a multiple of `k`.
    """
    k = as_int(k, "k", minimum=1)
    if k > 8:
        raise ValueError(f"k: expected an int <= 8, got {k}")
    f0 = as_positive_float(f0, "f0", allow_zero=True)
    if f0 > 0.5:
        raise ValueError(f"f0: expected a frequency in [0, 0.5] cycles per sample, got {f0}")
    n = as_int(n, "n", minimum=2 * k)
    if n % k:
        raise ValueError(f"n: expected a multiple of k = {k}, got {n}")
    t = np.arange(n, dtype=np.float64)
    x = np.cos(2 * np.pi * f0 * t)
    y = avg_pool(x[None, None], k)[0, 0]
    spec_x = np.abs(np.fft.rfft(x)) / (n / 2)
    spec_y = np.abs(np.fft.rfft(y)) / (y.size / 2)
    folded = k * f0 - np.round(k * f0)
    return PoolingPanel(k, f0, t, x, y, np.fft.rfftfreq(n), spec_x, np.fft.rfftfreq(y.size), spec_y,
                        float(abs(folded)), float(box_filter_response(k, f0)), bool(f0 > 1 / (2 * k)))


def _signal_xy(p: PoolingPanel) -> tuple[np.ndarray, np.ndarray]:
    m = 48 // p.k  # pooled samples shown: the first 48 input samples
    return np.append(p.t[: m * p.k: p.k], m * p.k), np.append(p.y[:m], p.y[m - 1])


def _titles(p: PoolingPanel) -> tuple[str, str]:
    state = "aliased" if p.aliased else "kept"
    return (f"f0 = {p.f0:.3f}, k = {p.k}",
            f"{state}: at {p.alias_f:.3f} cyc/out sample, |H(f0)| = {p.gain:.2f}")


def draw_panel(p: PoolingPanel, axes: Sequence[Any], *, legend: bool = True) -> dict:
    """Draw a view on two axes: signals (first 48 samples) and spectra on one frequency axis.

    The pooled spectrum is drawn against ``f / k`` (cycles per *input* sample), so a folded
    component shows up below the new Nyquist frequency ``1/(2k)``. Returns the artists.
    """
    ax0, ax1 = axes
    art = {}
    (art["x"],) = ax0.plot(p.t[:48], p.x[:48], lw=0.8, color="0.6", label="input")
    (art["y"],) = ax0.step(*_signal_xy(p), where="post", color="C3", label="average pooled")
    ax0.set_ylim(-1.1, 1.1)
    ax0.set_xlabel("input sample", fontsize=8)
    (art["sx"],) = ax1.plot(p.freq_x, p.spec_x, color="0.6", label="input")
    (art["sy"],) = ax1.plot(p.freq_y / p.k, p.spec_y, color="C3", label="pooled")
    f = np.linspace(0, 0.5, 200)
    (art["h"],) = ax1.plot(f, box_filter_response(p.k, f), "k--", lw=0.8, label="|H(f)|")
    art["nyq"] = ax1.axvline(1 / (2 * p.k), color="C0", lw=0.8, ls=":", label="1/(2k)")
    ax1.set_xlim(0, 0.5)
    ax1.set_ylim(0, 1.1)
    ax1.set_xlabel("frequency (cycles per input sample)", fontsize=8)
    t0, t1 = _titles(p)
    art["t0"], art["t1"] = ax0.set_title(t0, fontsize=9), ax1.set_title(t1, fontsize=9)
    if legend:
        ax0.legend(fontsize=7, loc="lower right")
        ax1.legend(fontsize=7, loc="upper right")
    return art


def _update_panel(p: PoolingPanel, art: dict) -> None:
    art["x"].set_data(p.t[:48], p.x[:48])
    art["y"].set_data(*_signal_xy(p))
    art["sx"].set_data(p.freq_x, p.spec_x)
    art["sy"].set_data(p.freq_y / p.k, p.spec_y)
    f = np.linspace(0, 0.5, 200)
    art["h"].set_data(f, box_filter_response(p.k, f))
    art["nyq"].set_xdata([1 / (2 * p.k)] * 2)
    t0, t1 = _titles(p)
    art["t0"].set_text(t0)
    art["t1"].set_text(t1)


def pooling_grid(settings: Sequence[tuple[int, float]] = ((2, 0.1), (2, 0.4), (4, 0.2))):
    """Static view: one row (signals, spectra) per ``(k, f0)`` setting. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(settings), 2, figsize=(9, 2.3 * len(settings)), dpi=80, squeeze=False)
    for row, (k, f0) in zip(axes, settings):
        draw_panel(pooling_panel(k, f0), row)
    fig.tight_layout()
    return fig


class _PoolingWidget:
    def __init__(self) -> None:
        import ipywidgets as W

        self.k = W.IntSlider(value=2, min=1, max=8, description="kernel k")
        self.f0 = W.FloatSlider(value=0.4, min=0.0, max=0.5, step=0.005, readout_format=".3f",
                                description="f0 (cyc/sample)")
        self.picture = W.Image(format="png")
        self.panel: PoolingPanel | None = None
        self._fig = None
        self._art: dict = {}
        for w in (self.k, self.f0):
            w.observe(lambda _c: self.update(), names="value")
        key = W.HTML("<small>grey: input cosine and its spectrum; red: average pooled; dashed: |H(f)|; "
                     "dotted blue: new Nyquist frequency 1/(2k)</small>")
        self.ui = W.VBox([W.HBox([self.k, self.f0], layout=W.Layout(**WRAP)), self.picture, key])
        self.ui.controller = self  # for headless tests
        self.update()

    def update(self) -> None:
        t0 = time.perf_counter()
        self.panel = pooling_panel(self.k.value, self.f0.value)
        if self._fig is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            self._fig = Figure(figsize=(9, 2.4), dpi=56)
            FigureCanvasAgg(self._fig)
            self._art = draw_panel(self.panel, self._fig.subplots(1, 2), legend=False)
            self._fig.subplots_adjust(left=0.05, right=0.98, bottom=0.2, top=0.88, wspace=0.15)
        else:
            _update_panel(self.panel, self._art)
        show_png(self.picture, figure_png(self._fig, close=False), figure_width(self._fig))
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        p = self.panel
        where = (f"aliased: it appears at {p.alias_f:.3f} cycles per output sample" if p.aliased
                 else f"below the new Nyquist frequency {1 / (2 * p.k):.3f}: it stays at {p.f0:.3f}")
        return [f"A cosine of {p.f0:.3f} cycles per sample, average pooled by k = {p.k} (left), and both "
                f"amplitude spectra (right): the pooled cosine keeps amplitude {p.gain:.2f} and is {where}"]


STATIC_GRID = {"k": (2, 3, 4), "f0": (0.05, 0.1, 0.2, 0.3, 0.4, 0.45)}


def pooling_widget(*, static: bool | None = None):
    """The interactive view: sliders for the kernel size and the input frequency.

    Returns the ipywidgets ``VBox``; its ``.controller`` holds the controls (``k``, ``f0``) and the
    latest :class:`PoolingPanel` (``panel``). With ``static=True`` (default:
    :func:`companion.widgets.static_pages`, true in the book build) a static explorer over
    ``STATIC_GRID`` instead, switched in the browser without a kernel.
    """
    w = _PoolingWidget()
    return explore(w, STATIC_GRID) if use_static(static) else w.ui
