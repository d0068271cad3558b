"""Widget of chap-batchnorm: how noisy are batch statistics for small batches of smooth volumes?

Three layers, from pure to interactive:

* :func:`batch_stat_sample` — pure NumPy (and scipy's Gaussian filter): many batches of N
  smoothed-noise volumes, their batch means and biased batch variances, and the exact theory of
  :func:`companion.normalization.batch_statistics_theory` for the same setting;
* :func:`draw_sample` / :func:`batch_stat_grid` — matplotlib drawings (the static view);
* :func:`batch_stat_widget` — the ipywidgets UI (batch size N, correlation length s), drawn as PNG.

Volumes come from a cached pool per smoothing level; a batch takes N distinct volumes of the
pool, so moving the N slider costs only a few milliseconds.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_int, as_positive_float
from companion.normalization import BatchStatTheory, batch_statistics_theory, smoothed_noise
from companion.widgets._render import WRAP, explore, figure_png, figure_width, show_png, use_static

__all__ = ["BatchStatSample", "batch_stat_sample", "draw_sample", "batch_stat_grid", "batch_stat_widget"]

SHAPE = (8, 8, 8)


class BatchStatSample(NamedTuple):
    """Batch statistics measured over many batches, and their theory."""

    n: int
    sigma: float
    shape: tuple[int, ...]
    means: np.ndarray        #: batch mean of each batch, (n_batches,)
    variances: np.ndarray    #: biased batch variance of each batch, (n_batches,)
    theory: BatchStatTheory  #: exact moments for this (shape, sigma, n)
    m: int                   #: voxels per batch, n * prod(shape)


@lru_cache(maxsize=16)
def _pool(sigma: float, shape: tuple[int, ...], pool: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    v = smoothed_noise(pool, shape, sigma, seed=seed).reshape(pool, -1)
    return v.mean(axis=1), np.mean(v * v, axis=1)


def batch_stat_sample(n: int = 1, sigma: float = 0.0, *, shape: tuple[int, ...] = SHAPE,
                      n_batches: int = 400, pool: int = 2048, seed: int = 0) -> BatchStatSample:
    """Measure batch means and variances over `n_batches` batches of `n` smoothed-noise volumes.

    Each batch takes `n` distinct volumes from a pool of `pool` independent volumes of
    :func:`~companion.normalization.smoothed_noise` (unit variance per voxel). Its mean is the
    mean of the volume means and its biased variance ``mean(x²) − mean(x)²``, exactly what batch
    norm computes for one channel.

    Parameters
    ----------
    n : int
        Batch size N (1 to `pool`).
    sigma : float
        Gaussian smoothing in voxels (0 = independent voxels).
    shape : tuple of int
        Spatial shape of a volume.
    n_batches, pool, seed : int
        Number of batches, size of the pool, seed.

    Returns
    -------
    BatchStatSample

    Raises
    ------
    TypeError, ValueError
        For a non-int or out-of-range `n`, a negative `sigma`, and bad sizes.
    """
    pool = as_int(pool, "pool", minimum=2)
    n = as_int(n, "n", minimum=1)
    if n > pool:
        raise ValueError(f"n: expected a batch size <= pool ({pool}), got {n}")
    sigma = as_positive_float(sigma, "sigma", allow_zero=True)
    n_batches = as_int(n_batches, "n_batches", minimum=2)
    shape = tuple(as_int(s, "shape", minimum=1) for s in shape)
    mean_v, sq_v = _pool(sigma, shape, pool, seed)
    rng = np.random.default_rng(seed + 1)
    # n distinct (cyclically consecutive) volumes of the i.i.d. pool, from a random start
    idx = (rng.integers(0, pool, n_batches)[:, None] + np.arange(n)) % pool
    means = mean_v[idx].mean(axis=1)
    variances = sq_v[idx].mean(axis=1) - means ** 2
    theory = batch_statistics_theory(shape, sigma, n)
    return BatchStatSample(n, sigma, shape, means, variances, theory, n * int(np.prod(shape)))


def _gamma_pdf(x: np.ndarray, mean: float, var: float) -> np.ndarray:
    """The Gamma density with the given mean and variance (a scaled chi-square)."""
    from scipy.special import gammaln

    k, theta = mean ** 2 / var, var / mean
    return np.exp((k - 1) * np.log(x) - x / theta - gammaln(k) - k * np.log(theta))


def _curves(s: BatchStatSample):
    t = s.theory
    sd_m = np.sqrt(t.var_mean)
    xm = np.linspace(-4 * sd_m, 4 * sd_m, 200)
    pm = np.exp(-0.5 * (xm / sd_m) ** 2) / (sd_m * np.sqrt(2 * np.pi))
    sd_v = np.sqrt(t.var_var)
    xv = np.linspace(max(1e-6, t.mean_var - 4 * sd_v), t.mean_var + 5 * sd_v, 200)
    return xm, pm, xv, _gamma_pdf(xv, t.mean_var, t.var_var)


def _titles(s: BatchStatSample) -> tuple[str, str]:
    t = s.theory
    return (f"N={s.n}, s={s.sigma:g}: batch means, Var {s.means.var():.2g} (theory {t.var_mean:.2g}); "
            f"M_eff={t.m_eff:.0f} of M={s.m}",
            f"batch variances: SD {s.variances.std():.2g} (theory {np.sqrt(t.var_var):.2g}), "
            f"mean {s.variances.mean():.2f} (theory {t.mean_var:.2f})")


def _hists(s: BatchStatSample, xm: np.ndarray, xv: np.ndarray):
    em = np.linspace(xm[0], xm[-1], 31)
    ev = np.linspace(min(xv[0], s.variances.min()), max(xv[-1], s.variances.max()), 31)
    hm, _ = np.histogram(s.means, em, density=True)
    hv, _ = np.histogram(s.variances, ev, density=True)
    return hm, em, hv, ev


def draw_sample(s: BatchStatSample, axes: Sequence[Any], *, text: bool = True) -> dict:
    """Histograms of batch means and variances with the theory's densities, on two axes.

    With ``text=False`` there are no titles or legends (the widget shows them as HTML: text
    layout dominates a redraw). Returns the artists, so that a widget can update them in place.
    """
    ax_m, ax_v = axes
    xm, pm, xv, pv = _curves(s)
    hm, em, hv, ev = _hists(s, xm, xv)
    art = {
        "hm": ax_m.stairs(hm, em, fill=True, color="tab:blue", alpha=0.6),
        "pm": ax_m.plot(xm, pm, color="k", lw=1.2, label="N(0, 1/M_eff)")[0],
        "hv": ax_v.stairs(hv, ev, fill=True, color="tab:orange", alpha=0.6),
        "pv": ax_v.plot(xv, pv, color="k", lw=1.2, label="theory (moment-matched Gamma)")[0],
    }
    ax_m.axvline(0, color="tab:red", lw=0.8)
    ax_v.axvline(1.0, color="tab:red", lw=0.8, label="true variance 1")
    if text:
        ax_m.legend(fontsize=6, frameon=False, loc="upper right")
        ax_v.legend(fontsize=6, frameon=False, loc="upper right")
    for ax in axes:
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    _limits(s, axes, art, text=text)
    return art


def _limits(s: BatchStatSample, axes: Sequence[Any], art: dict, *, text: bool = True) -> None:
    ax_m, ax_v = axes
    em, ev = art["hm"].get_data().edges, art["hv"].get_data().edges
    ax_m.set_xlim(em[0], em[-1])
    ax_v.set_xlim(min(ev[0], 0.95), max(ev[-1], 1.05))
    ax_m.set_ylim(0, 1.15 * max(art["hm"].get_data().values.max(), art["pm"].get_ydata().max()))
    ax_v.set_ylim(0, 1.15 * max(art["hv"].get_data().values.max(), art["pv"].get_ydata().max()))
    if text:
        for ax, title in zip(axes, _titles(s)):
            ax.set_title(title, fontsize=7)


def _update_sample(s: BatchStatSample, axes: Sequence[Any], art: dict, *, text: bool = True) -> None:
    xm, pm, xv, pv = _curves(s)
    hm, em, hv, ev = _hists(s, xm, xv)
    art["hm"].set_data(hm, em)
    art["hv"].set_data(hv, ev)
    art["pm"].set_data(xm, pm)
    art["pv"].set_data(xv, pv)
    _limits(s, axes, art, text=text)


DEFAULT_SETTINGS = (dict(n=16, sigma=0.0), dict(n=16, sigma=1.5), dict(n=1, sigma=1.5))


def batch_stat_grid(settings: Sequence[dict] | None = None, *, seed: int = 0):
    """The static view: one row (means, variances) per setting (a matplotlib Figure)."""
    import matplotlib.pyplot as plt

    settings = list(DEFAULT_SETTINGS if settings is None else settings)
    # 6.7 in at 100 dpi: the 672 px column of the book, so nothing is shrunk; titles on two lines
    fig, axes = plt.subplots(len(settings), 2, figsize=(6.7, 2.2 * len(settings)), squeeze=False)
    for row, st in zip(axes, settings):
        draw_sample(batch_stat_sample(seed=seed, **st), row)
        for ax in row:
            ax.set_title(ax.get_title().replace(": ", ":\n", 1).replace("; ", "\n", 1), fontsize=7)
    fig.tight_layout()
    return fig


class _BatchStatWidget:
    def __init__(self, seed: int) -> None:
        import ipywidgets as W
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        self.seed = seed
        style, lay = {"description_width": "120px"}, W.Layout(width="330px")
        self.n = W.IntSlider(value=2, min=1, max=16, description="batch size N", style=style, layout=lay)
        self.sigma = W.SelectionSlider(options=[0.0, 0.5, 1.0, 1.5, 2.0], value=1.0,
                                       description="smoothing s (voxels)", style=style, layout=lay)
        self.picture = W.Image(format="png")
        self.text = W.HTML()
        self.fig = Figure(figsize=(9.0, 2.0), dpi=72)
        FigureCanvasAgg(self.fig)
        self.axes = self.fig.subplots(1, 2)
        self.fig.subplots_adjust(left=0.02, right=0.98, top=0.97, bottom=0.12, wspace=0.06)
        for ax in self.axes:
            ax.xaxis.set_major_locator(MaxNLocator(4))
        self.sample: BatchStatSample | None = None
        self._art: dict | None = None
        self.last_update_s = float("nan")
        for w in (self.n, self.sigma):
            w.observe(self._on_change, names="value")
        self.ui = W.VBox([W.HBox([self.n, self.sigma], layout=W.Layout(**WRAP)), self.text, self.picture])
        self.ui.controller = self
        self.update()

    def _on_change(self, _change: Any) -> None:
        self.update()

    def update(self) -> None:
        t0 = time.perf_counter()
        self.sample = batch_stat_sample(self.n.value, float(self.sigma.value), seed=self.seed)
        if self._art is None:  # first draw builds the artists; later updates only move their data
            self._art = draw_sample(self.sample, self.axes, text=False)
        else:
            _update_sample(self.sample, self.axes, self._art, text=False)
        left, right = _titles(self.sample)
        self.text.value = (f"<small><b>left</b> (blue; black: theory, red: true mean 0): {left}<br>"
                           f"<b>right</b> (orange; black: theory, red: true variance 1): {right}</small>")
        show_png(self.picture, figure_png(self.fig, close=False), figure_width(self.fig))
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        left, right = _titles(self.sample)
        return [f"Histograms over many batches of N = {self.n.value} images smoothed with s = "
                f"{float(self.sigma.value):g} voxels, against the theory: the batch mean, {left}; "
                f"the batch variance, {right}"]


STATIC_NS = (1, 2, 4, 8, 16)


def batch_stat_widget(*, seed: int = 0, static: bool | None = None):
    """The interactive view: an ipywidgets box to display.

    ``box.controller`` holds the controls (``n``, ``sigma``), the last :class:`BatchStatSample`
    as ``sample``, and ``last_update_s``. With ``static=True`` (default:
    :func:`companion.widgets.static_pages`, true in the book build) a static explorer instead:
    the batch sizes ``STATIC_NS`` by every smoothing, switched in the browser without a kernel.
    """
    w = _BatchStatWidget(seed)
    if not use_static(static):
        return w.ui
    return explore(w, {"n": STATIC_NS, "sigma": list(w.sigma.options)})
