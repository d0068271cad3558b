"""Widget of chap-activations: an activation, its derivative, and what it does to a layer.

Three layers, from pure to interactive:

* :func:`activation_panel` — pure NumPy: the function and its derivative on a grid, and the
  pre-activations ``z = W x + b + shift`` of a random layer over a small data set, with the
  fraction of silent entries (z <= 0) against its Gaussian theory, the fraction of dead units,
  and the mean output;
* :func:`draw_panel` / :func:`activation_grid` — matplotlib drawings (the static view of the book);
* :func:`activation_widget` — the ipywidgets UI (activation, slope/alpha, bias shift), drawn as a
  PNG so that an update stays well under 100 ms.
"""

from __future__ import annotations

import math
import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_int
from companion.activations import ACTIVATIONS, activation, activation_grad, dead_fraction
from companion.widgets._render import WRAP, explore, figure_png, figure_width, show_png, use_static

__all__ = ["ActivationPanel", "activation_panel", "draw_panel", "activation_grid", "activation_widget"]

_LABEL = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "elu": "ELU"}
_DEFAULT_PARAM = {"relu": None, "leaky_relu": 0.01, "elu": 1.0}


class ActivationPanel(NamedTuple):
    """Everything one view shows (all NumPy, no drawing)."""

    name: str
    param: float | None
    shift: float
    x: np.ndarray             #: grid for the curves
    f: np.ndarray             #: activation on the grid
    df: np.ndarray            #: derivative on the grid (torch's convention at 0)
    z: np.ndarray             #: pre-activations, (n_samples, n_units)
    inactive: float           #: fraction of (sample, unit) entries with z <= 0
    inactive_theory: float    #: its expectation given the weights: mean_j Phi(-shift / ||w_j||)
    dead: float               #: fraction of units with z <= 0 for every sample
    mean_output: float        #: mean of f(z) over samples and units


def _phi(t: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(np.asarray(t, dtype=float))


def activation_panel(name: str = "relu", param: float | None = None, shift: float = 0.0, *,
                     n_samples: int = 256, n_units: int = 128, n_inputs: int = 16,
                     seed: int = 0) -> ActivationPanel:
    """Compute one view: curves, and a random layer's pre-activations shifted by `shift`.

    Inputs ``x ~ N(0, I)`` of `n_inputs` features and weights ``W ~ N(0, 1/n_inputs)`` give, for
    unit j, ``z_j = w_j·x + shift ~ N(shift, ||w_j||²)`` with ``||w_j||² ≈ 1``. So the fraction of
    entries with ``z <= 0`` is, in expectation, ``mean_j Φ(−shift/||w_j||) ≈ Φ(−shift)``.

    Parameters
    ----------
    name : {"relu", "leaky_relu", "elu"}
    param : float or None
        ``negative_slope`` or ``alpha`` (defaults 0.01 and 1.0); ignored for ReLU.
    shift : float
        Added to every bias (negative: a bad initialisation or a too-large update).
    n_samples, n_units, n_inputs : int
        Size of the data set and of the layer.
    seed : int
        Seed of the data and the weights (the same for every setting, so views compare).

    Returns
    -------
    ActivationPanel

    Raises
    ------
    TypeError, ValueError
        For an unknown `name`, a non-number `shift`, or sizes < 1.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"name: expected one of {sorted(ACTIVATIONS)}, got {name!r}")
    if isinstance(shift, bool) or not isinstance(shift, (int, float, np.integer, np.floating)):
        raise TypeError(f"shift: expected a number, got {type(shift).__name__} {shift!r}")
    shift = float(shift)
    n_samples = as_int(n_samples, "n_samples", minimum=1)
    n_units = as_int(n_units, "n_units", minimum=1)
    n_inputs = as_int(n_inputs, "n_inputs", minimum=1)
    if param is None:
        param = _DEFAULT_PARAM[name]
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((n_samples, n_inputs))
    w = rng.standard_normal((n_units, n_inputs)) / math.sqrt(n_inputs)
    z = xs @ w.T + shift
    grid = np.linspace(-4.0, 4.0, 401)
    out = activation(z, name, param)
    theory = float(np.mean(_phi(-shift / np.linalg.norm(w, axis=1))))
    return ActivationPanel(name, None if name == "relu" else float(param), shift, grid,
                           activation(grid, name, param), activation_grad(grid, name, param), z,
                           float(np.mean(z <= 0)), theory, dead_fraction(z), float(out.mean()))


def _title(p: ActivationPanel) -> str:
    extra = "" if p.param is None else (f", a={p.param:g}" if p.name == "leaky_relu" else f", α={p.param:g}")
    return f"{_LABEL[p.name]}{extra}, shift {p.shift:+.1f}"


Z_BINS = np.linspace(-6.0, 6.0, 61)
Y_BINS = np.linspace(-2.0, 6.0, 41)


def _histograms(p: ActivationPanel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = p.z.ravel()
    on, _ = np.histogram(z[z > 0], Z_BINS)
    off, _ = np.histogram(z[z <= 0], Z_BINS)
    out, _ = np.histogram(activation(z, p.name, p.param), Y_BINS)
    return on, off, out


def _titles(p: ActivationPanel) -> tuple[str, str, str]:
    return (_title(p),
            f"z: {p.inactive:.1%} silent (theory {p.inactive_theory:.1%}), {p.dead:.0%} dead",
            f"outputs f(z): mean {p.mean_output:+.2f}")


def draw_panel(p: ActivationPanel, axes: Sequence[Any], *, text: bool = True) -> dict:
    """Draw a panel on three axes: curves; histogram of z (grey: z <= 0); histogram of f(z).

    With ``text=False`` there are no titles (the widget shows them as HTML: text layout dominates
    a redraw). Returns the artists, so that a widget can update them in place.
    """
    ax_f, ax_z, ax_y = axes
    on, off, out = _histograms(p)
    art = {
        "f": ax_f.plot(p.x, p.f, color="tab:blue", label="f(x)")[0],
        "df": ax_f.plot(p.x, p.df, color="tab:orange", ls="--", label="f'(x)")[0],
        "on": ax_z.stairs(on, Z_BINS, fill=True, color="tab:green", alpha=0.8, label="z > 0"),
        "off": ax_z.stairs(off, Z_BINS, fill=True, color="0.55", alpha=0.8, label="z <= 0"),
        "out": ax_y.stairs(out, Y_BINS, fill=True, color="tab:blue", alpha=0.8),
        "mean": ax_y.axvline(p.mean_output, color="tab:red", lw=1.2),
    }
    ax_f.axhline(0, color="0.7", lw=0.6)
    ax_f.axvline(0, color="0.7", lw=0.6)
    ax_f.set_ylim(-2.2, 4.2)
    ax_f.legend(fontsize=7, loc="upper left", frameon=False)
    ax_z.axvline(0, color="k", lw=0.8)
    ax_z.set_xlabel("z", fontsize=7)
    ax_z.set_ylim(0, max(on.max(initial=0), off.max(initial=0)) * 1.1 + 1)
    ax_y.set_xlabel("f(z)", fontsize=7)
    ax_y.set_ylim(0, out.max(initial=0) * 1.1 + 1)
    for ax, title in zip(axes, _titles(p)):
        if text:
            ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=7)
    ax_z.set_yticks([])
    ax_y.set_yticks([])
    return art


def _update_panel(p: ActivationPanel, axes: Sequence[Any], art: dict, *, text: bool = True) -> None:
    on, off, out = _histograms(p)
    art["f"].set_ydata(p.f)
    art["df"].set_ydata(p.df)
    art["on"].set_data(on, Z_BINS)
    art["off"].set_data(off, Z_BINS)
    art["out"].set_data(out, Y_BINS)
    art["mean"].set_xdata([p.mean_output, p.mean_output])
    axes[1].set_ylim(0, max(on.max(initial=0), off.max(initial=0)) * 1.1 + 1)
    axes[2].set_ylim(0, out.max(initial=0) * 1.1 + 1)
    if text:
        for ax, title in zip(axes, _titles(p)):
            ax.set_title(title, fontsize=8)


DEFAULT_SETTINGS = (
    dict(name="relu", shift=0.0),
    dict(name="elu", param=1.0, shift=0.0),
    dict(name="relu", shift=-2.5),
    dict(name="leaky_relu", param=0.1, shift=-2.5),
)


def activation_grid(settings: Sequence[dict] | None = None, *, seed: int = 0):
    """The static view: one row of three panels per setting (a matplotlib Figure)."""
    import matplotlib.pyplot as plt

    settings = list(DEFAULT_SETTINGS if settings is None else settings)
    fig, axes = plt.subplots(len(settings), 3, figsize=(9, 2.0 * len(settings)), squeeze=False)
    for row, s in zip(axes, settings):
        draw_panel(activation_panel(seed=seed, **s), row)
    fig.tight_layout()
    return fig


class _ActivationWidget:
    def __init__(self, seed: int) -> None:
        import ipywidgets as W
        from matplotlib.figure import Figure

        self.seed = seed
        style, lay = {"description_width": "90px"}, W.Layout(width="290px")
        self.name = W.Dropdown(options=[(v, k) for k, v in _LABEL.items()], value="relu",
                               description="activation", style=style, layout=lay)
        self.param = W.FloatSlider(value=0.1, min=0.0, max=2.0, step=0.01,
                                   description="slope / α", style=style, layout=lay)
        self.shift = W.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1,
                                   description="bias shift", style=style, layout=lay)
        self.picture = W.Image(format="png")
        self.text = W.HTML()
        self.fig = Figure(figsize=(9.0, 2.2), dpi=72)
        self.axes = self.fig.subplots(1, 3)
        self.fig.subplots_adjust(left=0.05, right=0.98, top=0.96, bottom=0.2, wspace=0.25)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.ticker import MaxNLocator

        FigureCanvasAgg(self.fig)
        for ax in self.axes:  # few tick labels: text layout dominates a redraw
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_locator(MaxNLocator(4))
        self.panel: ActivationPanel | None = None
        self._art: dict | None = None
        self.last_update_s = float("nan")
        for w in (self.name, self.param, self.shift):
            w.observe(self._on_change, names="value")
        self.ui = W.VBox([W.HBox([self.name, self.param, self.shift], layout=W.Layout(**WRAP)), self.text,
                          self.picture])
        self.ui.controller = self
        self.update()

    def _on_change(self, _change: Any) -> None:
        self.update()

    def update(self) -> None:
        t0 = time.perf_counter()
        self.panel = activation_panel(self.name.value, self.param.value, self.shift.value, seed=self.seed)
        if self._art is None:  # first draw builds the artists; later updates only move their data
            self._art = draw_panel(self.panel, self.axes, text=False)
        else:
            _update_panel(self.panel, self.axes, self._art, text=False)
        curve, hist_z, hist_y = _titles(self.panel)
        self.text.value = (f"<small><b>{curve}</b> (blue f, dashed orange f') &nbsp;|&nbsp; "
                           f"pre-activations {hist_z} (grey: z ≤ 0) &nbsp;|&nbsp; {hist_y} (red line)</small>")
        show_png(self.picture, figure_png(self.fig, close=False), figure_width(self.fig))
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        curve, hist_z, hist_y = _titles(self.panel)
        return [f"Three panels for {curve} with bias shift {self.panel.shift:g}: the curve and its derivative; "
                f"the histogram of pre-activations, {hist_z}; the histogram of activations, {hist_y}"]


STATIC_SHIFTS = (-2.0, -1.0, 0.0, 1.0, 2.0)


def activation_widget(*, seed: int = 0, static: bool | None = None):
    """The interactive view: an ipywidgets box to display.

    ``box.controller`` holds the controls (``name``, ``param``, ``shift``), the last
    :class:`ActivationPanel` as ``panel``, and ``last_update_s``. With ``static=True`` (default:
    :func:`companion.widgets.static_pages`, true in the book build) a static explorer instead:
    each activation at the bias shifts ``STATIC_SHIFTS`` (slope / α fixed at 0.1), switched in the
    browser without a kernel.
    """
    w = _ActivationWidget(seed)
    if not use_static(static):
        return w.ui
    return explore(w, {"name": list(_LABEL), "shift": STATIC_SHIFTS},
                   fmt=lambda v: _LABEL[v] if isinstance(v, str) else f"{v:g}")
