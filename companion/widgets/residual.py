"""Widget of chap-residual: per-layer gradient norms of plain and residual networks at init.

* :func:`gradient_panel` — the numbers: ``||∂L/∂x_l|| / ||∂L/∂x_L||`` for ``l = 0 … L`` in a
  :class:`~companion.models.PlainNet` and a :class:`~companion.models.ResidualNet` of the same
  depth, width and init scale ``sigma`` (identity activation by default), with the linear
  theory ``sigma^{L-l}`` and ``(1 + sigma²)^{(L-l)/2}`` (norms, not squared norms);
* :func:`draw_panel` / :func:`gradient_grid` — matplotlib drawings (the book's static view);
* :func:`gradient_widget` — the ipywidgets UI (depth, sigma), drawn as a PNG.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_int, as_positive_float
from companion.residual import linear_backward_norms
from companion.widgets._render import WRAP, explore, figure_png, figure_width, show_png, use_static

__all__ = ["GradientPanel", "gradient_panel", "draw_panel", "gradient_grid", "gradient_widget"]


class GradientPanel(NamedTuple):
    depth: int
    sigma: float
    activation: str
    plain: np.ndarray           #: measured relative gradient norm at each block input, (depth + 1,)
    residual: np.ndarray        #: the same for the residual network
    plain_theory: np.ndarray    #: sigma^(L - l)
    residual_theory: np.ndarray  #: (1 + sigma^2)^((L - l) / 2)


def gradient_panel(depth: int = 20, sigma: float = 0.9, *, width: int = 32, batch: int = 32,
                   activation: str = "linear", seed: int = 0) -> GradientPanel:
    """Measure per-layer gradient norms at initialisation for both networks (float64).

    Raises
    ------
    TypeError, ValueError
        If `depth` is not an int in 1 … 200 or `sigma` is not a number in [0, 3].
    """
    depth = as_int(depth, "depth", minimum=1)
    if depth > 200:
        raise ValueError(f"depth: expected an int <= 200, got {depth}")
    sigma = as_positive_float(sigma, "sigma", allow_zero=True)
    if sigma > 3:
        raise ValueError(f"sigma: expected a number in [0, 3], got {sigma}")
    width = as_int(width, "width", minimum=1)
    batch = as_int(batch, "batch", minimum=1)
    back = depth - np.arange(depth + 1)
    if activation == "linear":
        plain, residual = _linear_norms(depth, sigma, width, batch, seed)
    else:
        plain, residual = _torch_norms(depth, sigma, width, batch, activation, seed)
    return GradientPanel(depth, sigma, activation, plain, residual, sigma ** back.astype(float),
                         (1 + sigma ** 2) ** (back / 2))


def _torch_norms(depth, sigma, width, batch, activation, seed):
    import torch

    from companion.models.resnets import PlainNet, ResidualNet, layer_gradient_norms

    x = torch.randn(batch, width, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    out = []
    for cls in (PlainNet, ResidualNet):
        net = cls(depth, width, sigma=sigma, activation=activation, seed=seed).double()
        out.append(layer_gradient_norms(net, x, seed=seed))
    return out[0], out[1]


_CACHE: dict = {}


def _unit_weights(depth: int, width: int, batch: int, seed: int):
    """Block weights of ``PlainNet(depth, width, sigma=1, seed=seed)`` and the upstream gradient of
    :func:`layer_gradient_norms`, as float64 arrays (drawn once, then reused)."""
    key = (width, batch, seed)
    have = _CACHE.get(key)
    if have is None or len(have[0]) < depth:
        import torch

        from companion.models.resnets import PlainNet

        net = PlainNet(max(depth, 64), width, sigma=1.0, seed=seed)
        weights = [b.linear.weight.detach().double().numpy() for b in net.blocks]
        g = torch.randn((batch, width), generator=torch.Generator().manual_seed(seed),
                        dtype=torch.float64).numpy()
        have = _CACHE[key] = (weights, g)
    return have[0][:depth], have[1]


def _linear_norms(depth, sigma, width, batch, seed):
    # Linear blocks x_{l+1} = W_l x_l (+ x_l): companion.residual.linear_backward_norms runs the
    # backward pass g_l = g_{l+1} W_l (+ g_{l+1}). A block's weights are proportional to sigma (the
    # same seeded normal draws), so the sigma = 1 weights are drawn once and scaled: the same
    # numbers as the torch path, ~1 ms per update.
    weights, g = _unit_weights(depth, width, batch, seed)
    scaled = [sigma * w for w in weights]
    return (linear_backward_norms(scaled, g, residual=False),
            linear_backward_norms(scaled, g, residual=True))


def draw_panel(p: GradientPanel, ax: Any, *, legend: bool = True) -> dict:
    """Draw one view (log scale) on `ax`; returns the artists."""
    layers = np.arange(p.depth + 1)
    art = {}
    with np.errstate(divide="ignore"):
        (art["plain"],) = ax.semilogy(layers, p.plain, "o-", ms=2.5, color="C0", label="plain")
        (art["res"],) = ax.semilogy(layers, p.residual, "o-", ms=2.5, color="C3", label="residual")
        (art["pt"],) = ax.semilogy(layers, p.plain_theory, "--", lw=0.8, color="C0", label="σ^(L−l)")
        (art["rt"],) = ax.semilogy(layers, p.residual_theory, "--", lw=0.8, color="C3",
                                   label="(1+σ²)^((L−l)/2)")
    ax.set_xlabel("block input l", fontsize=8)
    ax.set_ylabel("‖∂L/∂x_l‖ / ‖∂L/∂x_L‖", fontsize=8)
    art["title"] = ax.set_title(f"L = {p.depth}, σ = {p.sigma:.2f}", fontsize=9)
    if legend:
        ax.legend(fontsize=7)
    return art


def gradient_grid(settings: Sequence[tuple[int, float]] = ((10, 0.5), (30, 0.5), (10, 1.0), (30, 1.0))):
    """Static view: one panel per ``(depth, sigma)``. Returns the figure."""
    import matplotlib.pyplot as plt

    n = len(settings)
    cols = 2 if n > 1 else 1
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), dpi=80, squeeze=False)
    for i, (ax, (depth, sigma)) in enumerate(zip(axes.flat, settings)):
        draw_panel(gradient_panel(depth, sigma), ax, legend=(i == 0))
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


class _GradientWidget:
    def __init__(self) -> None:
        import ipywidgets as W

        self.depth = W.IntSlider(value=20, min=1, max=60, description="depth L")
        self.sigma = W.FloatSlider(value=0.9, min=0.0, max=2.0, step=0.05, description="init σ")
        self.picture = W.Image(format="png")
        self.panel: GradientPanel | None = None
        self.last_update_s = 0.0
        self._fig = None
        for w in (self.depth, self.sigma):
            w.observe(lambda _c: self.update(), names="value")
        key = W.HTML("<small>blue: plain, red: residual; dots measured, dashed linear theory</small>")
        self.ui = W.VBox([W.HBox([self.depth, self.sigma], layout=W.Layout(**WRAP)), self.picture, key])
        self.ui.controller = self
        self.update()

    def update(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        t0 = time.perf_counter()
        self.panel = gradient_panel(self.depth.value, self.sigma.value)
        if self._fig is None:
            self._fig = Figure(figsize=(5, 2.8), dpi=64)
            FigureCanvasAgg(self._fig)
            self._ax = self._fig.subplots()
            self._fig.subplots_adjust(left=0.16, right=0.97, bottom=0.17, top=0.9)
            self._art = draw_panel(self.panel, self._ax, legend=False)
        else:
            layers = np.arange(self.panel.depth + 1)
            for key, values in (("plain", self.panel.plain), ("res", self.panel.residual),
                                ("pt", self.panel.plain_theory), ("rt", self.panel.residual_theory)):
                self._art[key].set_data(layers, values)
            self._art["title"].set_text(f"L = {self.panel.depth}, σ = {self.panel.sigma:.2f}")
            self._ax.relim()
            self._ax.autoscale_view()
        show_png(self.picture, figure_png(self._fig, close=False), figure_width(self._fig))
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        p = self.panel
        return [f"Relative gradient norm per layer of a plain and a residual network, depth L = {p.depth}, "
                f"init σ = {p.sigma:.2f}: at the first layer the plain network keeps {p.plain[0]:.2g} of the "
                f"output gradient, the residual one {p.residual[0]:.2g}"]


STATIC_GRID = {"depth": (5, 10, 20, 40, 60), "sigma": (0.5, 0.9, 1.0, 1.2, 1.5)}


def gradient_widget(*, static: bool | None = None):
    """The interactive view: sliders for depth and init scale σ.

    Returns the ipywidgets ``VBox``; its ``.controller`` holds the controls (``depth``,
    ``sigma``), the latest :class:`GradientPanel` (``panel``) and ``last_update_s``. With
    ``static=True`` (default: :func:`companion.widgets.static_pages`, true in the book build) a
    static explorer over ``STATIC_GRID`` instead, switched in the browser without a kernel.
    """
    w = _GradientWidget()
    return explore(w, STATIC_GRID) if use_static(static) else w.ui
