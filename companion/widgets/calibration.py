"""Widget of chap-calibration: a reliability diagram under temperature scaling.

* :func:`reliability_at_temperature` — pure NumPy: top-label reliability statistics of
  ``softmax(logits / T)`` (companion.losses, companion.calibration);
* :func:`draw_reliability` / :func:`reliability_grid` — matplotlib drawings (the static view and
  the chapter's comparison of losses); :func:`draw_confidence_histogram` — the share of
  predictions in each bin, drawn under a reliability diagram (log scale: most voxels sit in the
  last bin);
* :func:`temperature_widget` — the ipywidgets UI: a slider for ``T``.

A bar below the diagonal is a bin where the model is right less often than it claims
(over-confidence); ``T > 1`` flattens the probabilities and moves the bars' confidence left.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from companion._validation import as_int, as_positive_float
from companion.calibration import Reliability, reliability_diagram, top_label
from companion.losses import softmax
from companion.widgets._render import explore, figure_png, figure_width, show_png, use_static

__all__ = ["reliability_at_temperature", "draw_reliability", "draw_confidence_histogram", "reliability_grid",
           "temperature_widget"]


def reliability_at_temperature(logits: Any, target: Any, temperature: float = 1.0, *,
                               n_bins: int = 15) -> Reliability:
    """Reliability statistics (top-label, equal-width bins) of ``softmax(logits / temperature)``.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S)

    Raises
    ------
    ValueError
        For a temperature that is not a finite positive number, or as :func:`top_label`.
    """
    t = as_positive_float(temperature, "temperature")
    n_bins = as_int(n_bins, "n_bins", minimum=1)
    z = np.asarray(logits)
    return reliability_diagram(*top_label(softmax(z / t, axis=1), target), n_bins=n_bins)


def draw_reliability(rel: Reliability, ax: Any, title: str = "") -> dict:
    """Bars of accuracy per bin, the gap to the mean confidence, the diagonal; return the artists."""
    centres = (rel.edges[:-1] + rel.edges[1:]) / 2
    width = rel.edges[1] - rel.edges[0]
    acc = np.nan_to_num(rel.accuracy)
    conf = np.where(rel.counts > 0, rel.mean_confidence, centres)
    ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--")
    art = {
        "acc": ax.bar(centres, acc, width=width * 0.95, color="tab:blue", edgecolor="k", lw=0.4, label="accuracy"),
        "gap": ax.bar(centres, conf - acc, bottom=acc, width=width * 0.95, color="tab:red", alpha=0.35,
                      label="gap to confidence"),
        "text": ax.text(0.03, 0.93, f"ECE = {rel.ece:.4f}", transform=ax.transAxes, fontsize=8, va="top"),
    }
    for bar, n in zip(art["gap"], rel.counts):
        bar.set_visible(bool(n))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence", fontsize=7)
    ax.set_ylabel("accuracy", fontsize=7)
    ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6, loc="lower right", frameon=False)
    return art


def draw_confidence_histogram(rel: Reliability, ax: Any, *, log: bool = True) -> Any:
    """Bars of the share of predictions per confidence bin (the histogram under a reliability diagram).

    A reliability diagram shows every non-empty bin with the same weight; this panel shows how
    many predictions each bin holds, so that a large gap in a nearly empty bin is not mistaken for
    a large calibration error. On a log axis (default) the share of the last bin, often above
    0.95 for a segmentation, and the few voxels in the middle bins are both readable.

    Parameters
    ----------
    rel : Reliability
        From :func:`companion.calibration.reliability_diagram`.
    ax : matplotlib Axes
    log : bool, default True
        Logarithmic y axis (from 1e-5 to 1).

    Returns
    -------
    BarContainer
        The bars; their heights are ``rel.counts / rel.counts.sum()``.
    """
    centres = (rel.edges[:-1] + rel.edges[1:]) / 2
    share = rel.counts / rel.counts.sum()
    bars = ax.bar(centres, share, width=(rel.edges[1] - rel.edges[0]) * 0.95, color="0.45")
    ax.set_xlim(0, 1)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(1e-5, 1.5)
    else:
        ax.set_ylim(0, 1)
    ax.set_xlabel("confidence", fontsize=7)
    ax.set_ylabel("share of voxels", fontsize=7)
    ax.tick_params(labelsize=7)
    return bars


def _update(rel: Reliability, art: dict) -> None:
    centres = (rel.edges[:-1] + rel.edges[1:]) / 2
    acc = np.nan_to_num(rel.accuracy)
    conf = np.where(rel.counts > 0, rel.mean_confidence, centres)
    for bar, a in zip(art["acc"], acc):
        bar.set_height(a)
    for bar, a, c, n in zip(art["gap"], acc, conf, rel.counts):
        bar.set_y(a)
        bar.set_height(c - a)
        bar.set_visible(bool(n))
    art["text"].set_text(f"ECE = {rel.ece:.4f}")


def reliability_grid(logits: Any, target: Any, temperatures: Sequence[float] = (0.5, 1.0, 2.0), *,
                     n_bins: int = 15):
    """The static view: one reliability diagram per temperature, side by side (a Figure)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(temperatures), figsize=(2.8 * len(temperatures), 2.8), squeeze=False)
    for ax, t in zip(axes[0], temperatures):
        draw_reliability(reliability_at_temperature(logits, target, t, n_bins=n_bins), ax, f"T = {t:g}")
    fig.tight_layout()
    return fig


class _TemperatureWidget:
    def __init__(self, logits: Any, target: Any, n_bins: int, t_max: float) -> None:
        import ipywidgets as W
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.logits, self.target, self.n_bins = np.asarray(logits), np.asarray(target), n_bins
        self.temperature = W.FloatLogSlider(value=1.0, base=10, min=-np.log10(t_max), max=np.log10(t_max),
                                            step=0.02, description="temperature T",
                                            style={"description_width": "100px"}, layout=W.Layout(width="360px"))
        self.picture = W.Image(format="png")
        self.fig = Figure(figsize=(3.4, 3.2), dpi=72)
        self.ax = self.fig.subplots()
        self.fig.subplots_adjust(left=0.16, right=0.97, top=0.9, bottom=0.15)
        FigureCanvasAgg(self.fig)
        self.reliability: Reliability | None = None
        self._art: dict | None = None
        self.last_update_s = float("nan")
        self.temperature.observe(lambda _c: self.update(), names="value")
        self.ui = W.VBox([self.temperature, self.picture])
        self.ui.controller = self
        self.update()

    def update(self) -> None:
        t0 = time.perf_counter()
        self.reliability = reliability_at_temperature(self.logits, self.target, self.temperature.value,
                                                      n_bins=self.n_bins)
        if self._art is None:
            self._art = draw_reliability(self.reliability, self.ax, "reliability diagram")
        else:
            _update(self.reliability, self._art)
        show_png(self.picture, figure_png(self.fig, close=False), figure_width(self.fig))
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        rel = self.reliability
        return [f"Reliability diagram at temperature T = {self.temperature.value:.2f}: accuracy per confidence "
                f"bin against the diagonal, ECE {rel.ece:.4f}"]


STATIC_TEMPERATURES = (0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0)


def temperature_widget(logits: Any, target: Any, *, n_bins: int = 15, t_max: float = 5.0,
                       static: bool | None = None):
    """The interactive view: a reliability diagram of ``softmax(logits / T)`` with a slider for ``T``.

    ``box.controller`` holds the slider ``temperature``, the current :class:`Reliability` as
    ``reliability`` and ``last_update_s``. Keep `logits` small (a few hundred thousand voxels)
    for updates under 100 ms.

    With ``static=True`` (default: :func:`companion.widgets.static_pages`, true in the book
    build) the box is a static explorer instead: the diagram precomputed at the temperatures
    ``STATIC_TEMPERATURES`` (up to `t_max`), switched in the browser without a kernel;
    ``box.controller`` is then a :class:`companion.widgets._render.Explorer`.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S)
    """
    t_max = as_positive_float(t_max, "t_max")
    w = _TemperatureWidget(logits, target, as_int(n_bins, "n_bins", minimum=1), t_max)
    if use_static(static):
        ts = [t for t in STATIC_TEMPERATURES if 1 / t_max - 1e-9 <= t <= t_max + 1e-9]
        return explore(w, {"temperature": ts})
    return w.ui
