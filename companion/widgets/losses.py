"""Widget of chap-losses: cross-entropy and Dice loss of a small lesion, and their gradients.

A toy segmentation of `n_pixels` pixels, a fraction `fraction` of them lesion. The network gives
every lesion pixel the foreground probability ``p`` and every background pixel ``background_prob``.
As ``p`` varies we follow

* the mean cross-entropy and the soft Dice loss of the lesion class (``1 - D_soft``);
* the gradient of each loss with respect to the logit of *one* lesion pixel.

The gradient of the mean cross-entropy on one pixel is ``(p - 1)/n_pixels``: it shrinks as the
image grows, whatever the lesion size. The soft Dice gradient is ``-(2 - D)/U · p(1-p)`` with
``U ≈ 2 × lesion size``: it depends on the lesion, not on the image. That is the sense in which
Dice "gives the foreground a stronger signal" under class imbalance.

* :func:`loss_landscape` — pure NumPy (companion.losses), no drawing;
* :func:`draw_landscape` / :func:`landscape_grid` — matplotlib (the static view);
* :func:`loss_widget` — the ipywidgets UI (sliders for ``p`` and the lesion fraction).
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_int, as_positive_float
from companion.losses import cross_entropy, cross_entropy_grad, dice_loss_grad, soft_dice, softmax
from companion.widgets._render import WRAP, explore, figure_png, figure_width, sharpen, show_png, use_static

__all__ = ["Landscape", "loss_landscape", "draw_landscape", "landscape_grid", "loss_widget"]


class Landscape(NamedTuple):
    """Losses and one lesion pixel's gradients along a grid of probabilities ``p``."""

    fraction: float
    n_foreground: int
    n_pixels: int
    p: np.ndarray          #: (G,) foreground probability given to every lesion pixel
    ce: np.ndarray         #: (G,) mean cross-entropy over all pixels
    dice: np.ndarray       #: (G,) soft Dice loss of the lesion class, 1 - D_soft
    ce_grad: np.ndarray    #: (G,) ∂CE/∂z of one lesion pixel's foreground logit
    dice_grad: np.ndarray  #: (G,) ∂(1 - D)/∂z of the same logit


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def loss_landscape(fraction: float = 0.01, *, background_prob: float = 0.05, n_pixels: int = 1000,
                   eps: float = 1e-5, grid: Sequence[float] | None = None) -> Landscape:
    """Compute cross-entropy, Dice loss and their gradients on one lesion pixel along ``p``.

    Two classes; a pixel's logits are ``(0, z)`` so that its foreground probability is
    ``sigmoid(z)``. Everything is computed with :mod:`companion.losses` on a batch of ``G``
    images (one per grid value).

    Parameters
    ----------
    fraction : float
        Share of lesion pixels, in ``(0, 1)`` (at least one pixel).
    background_prob : float
        Foreground probability given to the background pixels, in ``(0, 1)``.
    n_pixels : int
        Image size.
    eps : float
        Dice smoothing.
    grid : sequence of float, optional
        The values of ``p`` (default 99 values from 0.01 to 0.99).

    Returns
    -------
    Landscape

    Raises
    ------
    ValueError
        For a fraction or probability outside ``(0, 1)``.
    """
    fraction = as_positive_float(fraction, "fraction")
    if fraction >= 1:
        raise ValueError(f"fraction: expected a share in (0, 1), got {fraction}")
    b = as_positive_float(background_prob, "background_prob")
    if b >= 1:
        raise ValueError(f"background_prob: expected a probability in (0, 1), got {b}")
    n = as_int(n_pixels, "n_pixels", minimum=2)
    n_fg = int(min(n - 1, max(1, round(fraction * n))))
    p = np.linspace(0.01, 0.99, 99) if grid is None else np.asarray(grid, dtype=float)
    if p.ndim != 1 or np.any((p <= 0) | (p >= 1)):
        raise ValueError("grid: expected a 1-D sequence of probabilities in (0, 1)")
    g = len(p)
    target = np.broadcast_to((np.arange(n) < n_fg).astype(np.int64), (g, n))
    z = np.where(target == 1, _logit(p)[:, None], _logit(np.array(b)))
    logits = np.stack([np.zeros_like(z), z], axis=1)  # (G, 2, n)
    ce = cross_entropy(logits, target, reduction="none").mean(axis=1)
    probs = softmax(logits)
    onehot = np.stack([1 - target, target], axis=1).astype(float)
    dice = 1 - soft_dice(probs[:, 1:], onehot[:, 1:], eps)[:, 0]
    ce_grad = cross_entropy_grad(logits, target, reduction="none", grad_out=np.full((g, n), 1.0 / n))
    dice_grad = g * dice_loss_grad(logits, target, eps=eps, include_background=False)  # per image, not mean over G
    return Landscape(float(fraction), n_fg, n, p, ce, dice, ce_grad[:, 1, 0], dice_grad[:, 1, 0])


def _log10(g: np.ndarray) -> np.ndarray:
    return np.log10(np.maximum(np.abs(g), 1e-12))


def _titles(land: Landscape, p_mark: float) -> tuple[str, str]:
    i = int(np.argmin(np.abs(land.p - p_mark)))
    return (f"lesion {land.n_foreground}/{land.n_pixels} px: at p={land.p[i]:.2f} "
            f"CE={land.ce[i]:.3f}, Dice loss={land.dice[i]:.3f}",
            f"one lesion pixel: |∂CE/∂z|={abs(land.ce_grad[i]):.1e}, |∂Dice/∂z|={abs(land.dice_grad[i]):.1e}")


def draw_landscape(land: Landscape, axes: Sequence[Any], p_mark: float = 0.5) -> dict:
    """Draw losses (left) and gradient magnitudes (right, log scale) against ``p``; return the artists."""
    ax_l, ax_g = axes
    i = int(np.argmin(np.abs(land.p - p_mark)))
    art = {
        "ce": ax_l.plot(land.p, land.ce, color="tab:blue", label="cross-entropy (mean)")[0],
        "dice": ax_l.plot(land.p, land.dice, color="tab:red", label="Dice loss (lesion)")[0],
        "gce": ax_g.plot(land.p, _log10(land.ce_grad), color="tab:blue", label="log10 |∂CE/∂z|")[0],
        "gdice": ax_g.plot(land.p, _log10(land.dice_grad), color="tab:red", label="log10 |∂Dice/∂z|")[0],
        "mark_l": ax_l.axvline(land.p[i], color="0.4", lw=0.8, ls=":"),
        "mark_g": ax_g.axvline(land.p[i], color="0.4", lw=0.8, ls=":"),
    }
    ax_l.set_ylim(0, max(1.05, float(land.ce.max()) * 1.05))
    ax_g.set_ylim(-6.0, 0.0)  # log10 drawn on a linear axis: a log axis redraws far slower
    for ax, title in zip(axes, _titles(land, p_mark)):
        ax.set_xlabel("p given to every lesion pixel", fontsize=7)
        ax.set_title(title, fontsize=7)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, frameon=False, loc="upper right")
    return art


def _update(land: Landscape, axes: Sequence[Any], art: dict, p_mark: float) -> None:
    i = int(np.argmin(np.abs(land.p - p_mark)))
    art["ce"].set_ydata(land.ce)
    art["dice"].set_ydata(land.dice)
    art["gce"].set_ydata(_log10(land.ce_grad))
    art["gdice"].set_ydata(_log10(land.dice_grad))
    for key in ("mark_l", "mark_g"):
        art[key].set_xdata([land.p[i], land.p[i]])
    axes[0].set_ylim(0, max(1.05, float(land.ce.max()) * 1.05))
    for ax, title in zip(axes, _titles(land, p_mark)):
        ax.set_title(title, fontsize=7)


DEFAULT_FRACTIONS = (0.5, 0.05, 0.005)


def landscape_grid(fractions: Sequence[float] = DEFAULT_FRACTIONS, *, p_mark: float = 0.5, **kwargs):
    """The static view: one row (losses, gradients) per lesion fraction (a matplotlib Figure)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(fractions), 2, figsize=(6.7, 2.3 * len(fractions)), squeeze=False)
    for row, f in zip(axes, fractions):
        draw_landscape(loss_landscape(f, **kwargs), row, p_mark)
    fig.tight_layout()
    return fig


class _LossWidget:
    def __init__(self, kwargs: dict) -> None:
        import ipywidgets as W
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.kwargs = kwargs
        style, lay = {"description_width": "110px"}, W.Layout(width="340px")
        self.p = W.FloatSlider(value=0.5, min=0.01, max=0.99, step=0.01, description="lesion pixel p",
                               style=style, layout=lay)
        self.fraction = W.FloatLogSlider(value=0.01, base=10, min=-3, max=np.log10(0.5), step=0.1,
                                         description="lesion fraction", style=style, layout=lay)
        self.picture = W.Image(format="png")
        self.fig = Figure(figsize=(8.5, 2.6), dpi=72)
        self.axes = self.fig.subplots(1, 2)
        self.fig.subplots_adjust(left=0.06, right=0.98, top=0.88, bottom=0.27, wspace=0.25)
        self.canvas = FigureCanvasAgg(sharpen(self.fig))   # drawn at DPR 2, shown at 612 CSS px
        from matplotlib.ticker import MaxNLocator

        for ax in self.axes:  # few tick labels: text layout dominates a redraw
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_locator(MaxNLocator(4))
        self.landscape: Landscape | None = None
        self._fraction_drawn: float | None = None
        self._art: dict | None = None
        self.last_update_s = float("nan")
        for w in (self.p, self.fraction):
            w.observe(self._on_change, names="value")
        self.ui = W.VBox([W.HBox([self.p, self.fraction], layout=W.Layout(**WRAP)), self.picture])
        self.ui.controller = self
        self.update()

    def _on_change(self, _change: Any) -> None:
        self.update()

    def _first_draw(self) -> None:
        """Draw the axes once; every curve, marker and the readout are animated (blitted) artists."""
        self._art = draw_landscape(self.landscape, self.axes, self.p.value)
        self.axes[0].set_ylim(0, 2.5)  # fixed limits, so that the background never changes
        self.axes[0].set_title("mean CE and Dice loss of the lesion", fontsize=7)
        self.axes[1].set_title("gradient on one lesion pixel's logit", fontsize=7)
        for artist in self._art.values():
            artist.set_animated(True)
        self.readout = self.fig.text(0.5, 0.005, "", ha="center", va="bottom", fontsize=8, animated=True)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def update(self) -> None:
        t0 = time.perf_counter()
        if self._fraction_drawn != self.fraction.value:  # a new lesion size: new curves
            self.landscape = loss_landscape(self.fraction.value, **self.kwargs)
            self._fraction_drawn = self.fraction.value
        land = self.landscape
        if self._art is None:
            self._first_draw()
        i = int(np.argmin(np.abs(land.p - self.p.value)))
        self._art["ce"].set_ydata(land.ce)
        self._art["dice"].set_ydata(land.dice)
        self._art["gce"].set_ydata(_log10(land.ce_grad))
        self._art["gdice"].set_ydata(_log10(land.dice_grad))
        for key in ("mark_l", "mark_g"):
            self._art[key].set_xdata([land.p[i], land.p[i]])
        self.readout.set_text(f"lesion {land.n_foreground}/{land.n_pixels} px, p = {land.p[i]:.2f}:  "
                              f"CE = {land.ce[i]:.3f},  Dice loss = {land.dice[i]:.3f},  "
                              f"|∂CE/∂z| = {abs(land.ce_grad[i]):.1e},  |∂Dice/∂z| = {abs(land.dice_grad[i]):.1e}")
        self.canvas.restore_region(self._background)
        for key, ax in (("ce", 0), ("dice", 0), ("mark_l", 0), ("gce", 1), ("gdice", 1), ("mark_g", 1)):
            self.axes[ax].draw_artist(self._art[key])
        self.fig.draw_artist(self.readout)
        show_png(self.picture, figure_png(self.fig, close=False, draw=False), figure_width(self.fig))
        self._i = i
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        land, i = self.landscape, self._i
        return [f"Mean cross-entropy and Dice loss of a lesion covering {land.n_foreground} of {land.n_pixels} "
                f"pixels against the predicted lesion probability (left) and the gradient on one lesion "
                f"pixel's logit (right); at p = {land.p[i]:.2f}: CE {land.ce[i]:.3f}, Dice loss "
                f"{land.dice[i]:.3f}, |dCE/dz| {abs(land.ce_grad[i]):.1e}, |dDice/dz| {abs(land.dice_grad[i]):.1e}"]


STATIC_GRID = {"p": (0.05, 0.2, 0.5, 0.8, 0.95), "fraction": (0.001, 0.01, 0.1, 0.5)}


def loss_widget(*, static: bool | None = None, **kwargs: Any):
    """The interactive view: an ipywidgets box with sliders ``p`` and ``fraction``.

    ``box.controller`` holds the sliders, the current :class:`Landscape` as ``landscape`` and
    ``last_update_s``. Keyword arguments go to :func:`loss_landscape`. With ``static=True``
    (default: :func:`companion.widgets.static_pages`, true in the book build) a static explorer
    over ``STATIC_GRID`` (plus the start values p = 0.5, fraction = 0.01) instead, switched in the
    browser without a kernel.
    """
    w = _LossWidget(kwargs)
    return explore(w, STATIC_GRID) if use_static(static) else w.ui
