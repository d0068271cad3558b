"""Interactive figure of the layer chapter: how far a stack of layers sees, on a real CT slice in mm.

* :func:`encoder_layers` and :func:`receptive_field_view` — pure NumPy: a stack of
  (kernel, stride, dilation) layers and, after each layer, its receptive field (pixels, from
  :func:`companion.layers.receptive_field_curve`) and the square it covers around a pixel of a
  slice, in world millimetres (:func:`companion.geometry.index_to_world`).
* :func:`draw_receptive_field` / :func:`receptive_field_gallery` — matplotlib: one setting, or a
  static grid for the book page.
* :func:`receptive_field_widget` — sliders for the number of levels, convolutions per level,
  kernel size, dilation and whether each level ends with a 2×2 pooling of stride 2.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_float_array, as_int
from companion.geometry import index_to_world
from companion.layers import receptive_field_curve
from companion.unet import make_plan, plan_layers
from companion.widgets._render import WRAP, explore, figure_png, figure_width, show_png, use_static

__all__ = ["RFView", "encoder_layers", "receptive_field_view", "draw_receptive_field",
           "receptive_field_gallery", "receptive_field_widget"]


class RFView(NamedTuple):
    """What :func:`receptive_field_view` computed.

    Attributes
    ----------
    layers : tuple of (kernel, stride, dilation)
    rf : ndarray of int, shape (L + 1,)
        Receptive field in pixels after 0, 1, …, L layers.
    jump : ndarray of int, shape (L + 1,)
        Distance in input pixels between adjacent outputs.
    rf_mm : ndarray, shape (L + 1, 2)
        Receptive field in mm along rows and columns (``rf * spacing``).
    boxes : ndarray, shape (L + 1, 4)
        ``(x_min, x_max, y_min, y_max)`` in world mm of the square of input pixels seen.
    """

    layers: tuple
    rf: np.ndarray
    jump: np.ndarray
    rf_mm: np.ndarray
    boxes: np.ndarray


def encoder_layers(levels: int = 4, convs_per_level: int = 2, kernel: int = 3, dilation: int = 1,
                   pool: bool = True) -> list[tuple[int, int, int]]:
    """A U-Net-like encoder along one axis: per level, `convs_per_level` convolutions (stride 1),
    then (except after the last level, and if `pool`) a 2×2 pooling of stride 2.

    The layer list is the U-Net plan's (:func:`companion.unet.plan_layers` of a one-axis
    :func:`companion.unet.make_plan`), with the dilation added to the convolutions.

    Examples
    --------
    >>> encoder_layers(2, 2, 3)
    [(3, 1, 1), (3, 1, 1), (2, 2, 1), (3, 1, 1), (3, 1, 1)]
    """
    levels = as_int(levels, "levels", minimum=1)
    convs = as_int(convs_per_level, "convs_per_level", minimum=1)
    k = as_int(kernel, "kernel", minimum=1)
    d = as_int(dilation, "dilation", minimum=1)
    if not isinstance(pool, (bool, np.bool_)):
        raise TypeError(f"pool: expected a bool, got {type(pool).__name__}")
    plan = make_plan([k] * levels, [2] * (levels - 1), 8, convs=convs, dims=1)
    out = [(size, stride, d if stride == 1 else 1) for size, stride in plan_layers(plan, 0) if pool or stride == 1]
    return out


def receptive_field_view(layers: Sequence[Sequence[int]], spacing: Sequence[float],
                         centre: Sequence[float], origin: Sequence[float] = (0.0, 0.0, 0.0),
                         direction: Any = None) -> RFView:
    """Receptive field after each layer, in pixels and as a square in mm around `centre`.

    Parameters
    ----------
    layers : sequence of (kernel, stride[, dilation])
    spacing : (float, float)
        Pixel spacing ``(row, col)`` in mm (DICOM PixelSpacing order), both > 0.
    centre : (float, float)
        The pixel ``(row, col)`` whose receptive field is drawn.
    origin, direction
        The slice's world geometry (as in :func:`companion.geometry.index_to_world`).

    Returns
    -------
    RFView

    Raises
    ------
    TypeError, ValueError
        For a bad layer list, a spacing <= 0 or a centre that is not two numbers.

    Examples
    --------
    >>> v = receptive_field_view([(3, 1), (3, 1)], (0.5, 0.5), (10, 10))
    >>> v.rf.tolist(), v.rf_mm[-1].tolist(), v.boxes[-1].tolist()
    ([1, 3, 5], [2.5, 2.5], [3.75, 6.25, 3.75, 6.25])
    """
    rf, jump = receptive_field_curve(layers)
    sp = as_float_array(spacing, "spacing", ndim=1).astype(np.float64)
    if sp.size != 2 or not np.all(np.isfinite(sp)) or np.any(sp <= 0):
        raise ValueError(f"spacing: expected 2 entries > 0 (row, col) in mm, got {sp.tolist()}")
    c = as_float_array(centre, "centre", ndim=1).astype(np.float64)
    if c.size != 2:
        raise ValueError(f"centre: expected (row, col), got {c.tolist()}")
    half = rf[:, None] / 2.0
    lo = np.c_[np.zeros(rf.size), c[0] - half[:, 0], c[1] - half[:, 0]]
    hi = np.c_[np.zeros(rf.size), c[0] + half[:, 0], c[1] + half[:, 0]]
    spacing3 = (1.0, sp[0], sp[1])
    p_lo = index_to_world(lo, spacing3, origin, direction)
    p_hi = index_to_world(hi, spacing3, origin, direction)
    boxes = np.c_[np.minimum(p_lo[:, 0], p_hi[:, 0]), np.maximum(p_lo[:, 0], p_hi[:, 0]),
                  np.minimum(p_lo[:, 1], p_hi[:, 1]), np.maximum(p_lo[:, 1], p_hi[:, 1])]
    return RFView(tuple(tuple(layer) for layer in layers), rf, jump, rf[:, None] * sp[None, :], boxes)


def _slice_extent(image: np.ndarray, spacing, origin) -> list[float]:
    corners = index_to_world(np.array([[0, -0.5, -0.5], [0, image.shape[0] - 0.5, image.shape[1] - 0.5]]),
                             (1.0, spacing[0], spacing[1]), origin)
    return [corners[0, 0], corners[1, 0], corners[1, 1], corners[0, 1]]


def draw_receptive_field(view: RFView, image: np.ndarray, spacing, origin, ax_img, ax_curve=None,
                         *, title: str | None = None) -> None:
    """Draw the slice (in mm) with the receptive-field squares, and optionally the growth curve."""
    from matplotlib.patches import Rectangle

    from companion.intensity import apply_window

    # CT in HU: the book's soft-tissue window (level 40 HU, width 400 HU), grey levels in [0, 1]
    ax_img.imshow(apply_window(image, "soft tissue"), cmap="gray", vmin=0, vmax=1,
                  extent=_slice_extent(image, spacing, origin))
    colours = ["tab:orange", "tab:red", "tab:purple", "tab:blue", "tab:green", "gold"]
    # one square per pooling level (where the jump changes) and the last layer
    marks = [i for i in range(1, len(view.rf)) if i == len(view.rf) - 1 or view.jump[i + 1] != view.jump[i]]
    for n, i in enumerate(marks):
        x0, x1, y0, y1 = view.boxes[i]
        ax_img.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False,
                                   edgecolor=colours[n % len(colours)], linewidth=1.2))
    ax_img.set_xlabel("x (mm, LPS)", fontsize=8)
    ax_img.set_ylabel("y (mm, LPS)", fontsize=8)
    ax_img.tick_params(labelsize=7)
    ax_img.set_title(title or f"{len(view.layers)} layers: RF {view.rf[-1]} px = {view.rf_mm[-1, 1]:.0f} mm",
                     fontsize=8)
    if ax_curve is not None:
        ax_curve.plot(np.arange(len(view.rf)), view.rf_mm[:, 1], "o-", markersize=3)
        ax_curve.set_xlabel("layers", fontsize=8)
        ax_curve.set_ylabel("receptive field (mm)", fontsize=8)
        ax_curve.tick_params(labelsize=7)
        ax_curve.grid(alpha=0.3)


def _ct():
    from companion.data import load_ct_slice

    ct = load_ct_slice()
    origin = ct.origin
    return ct.pixels, ct.spacing, origin


def receptive_field_gallery(settings: Sequence[dict] | None = None, *, image=None, spacing=None,
                            origin=None, centre=None, ncols: int = 3):
    """A static grid: the receptive field of several :func:`encoder_layers` settings on a CT slice.

    The slice is pydicom's bundled CT (:func:`companion.data.load_ct_slice`) unless `image`,
    `spacing` and `origin` are given. Returns a matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    if image is None:
        image, spacing, origin = _ct()
    image = as_float_array(image, "image", ndim=2)
    if centre is None:
        centre = ((image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2)
    if settings is None:
        settings = [dict(levels=1, convs_per_level=4), dict(levels=3, convs_per_level=2),
                    dict(levels=4, convs_per_level=2, dilation=2)]
    nrows = -(-len(settings) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 3.1 * nrows), dpi=80, squeeze=False)
    for ax, kw in zip(axes.flat, settings):
        layers = encoder_layers(**kw)
        view = receptive_field_view(layers, spacing, centre, origin)
        desc = ", ".join(f"{k}={v}" for k, v in kw.items())
        draw_receptive_field(view, image, spacing, origin, ax,
                             title=f"{desc}\nRF {view.rf[-1]} px = {view.rf_mm[-1, 1]:.0f} mm")
    for ax in list(axes.flat)[len(settings):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


class _RFWidget:
    def __init__(self, image, spacing, origin) -> None:
        import ipywidgets as W
        from matplotlib.figure import Figure

        self.image, self.spacing, self.origin = image, spacing, origin
        self.centre = ((image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2)
        style, lay = {"description_width": "110px"}, W.Layout(width="300px")
        self.levels = W.IntSlider(value=3, min=1, max=5, description="levels", style=style, layout=lay)
        self.convs = W.IntSlider(value=2, min=1, max=3, description="convs per level", style=style, layout=lay)
        self.kernel = W.IntSlider(value=3, min=1, max=7, step=2, description="kernel k", style=style, layout=lay)
        self.dilation = W.IntSlider(value=1, min=1, max=4, description="dilation", style=style, layout=lay)
        self.pool = W.Checkbox(value=True, description="2×2 pool, stride 2", style=style, layout=lay)
        self.picture = W.Image(format="png")
        self.fig = Figure(figsize=(6.4, 3.0), dpi=72)
        self.ax_img, self.ax_curve = self.fig.subplots(1, 2)
        self.fig.subplots_adjust(left=0.1, right=0.97, top=0.88, bottom=0.16, wspace=0.35)
        from matplotlib.ticker import MaxNLocator
        for ax in (self.ax_img, self.ax_curve):  # few tick labels: text layout dominates a redraw
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_locator(MaxNLocator(4))
        self.view: RFView | None = None
        self._line = None
        self.last_update_s = float("nan")
        for w in (self.levels, self.convs, self.kernel, self.dilation, self.pool):
            w.observe(self._on_change, names="value")
        self.ui = W.HBox([W.VBox([self.levels, self.convs, self.kernel, self.dilation, self.pool]),
                          self.picture], layout=W.Layout(**WRAP))
        self.ui.controller = self
        self.update()

    def _on_change(self, _change: Any) -> None:
        self.update()

    def update(self) -> None:
        from matplotlib.patches import Rectangle

        t0 = time.perf_counter()
        layers = encoder_layers(self.levels.value, self.convs.value, self.kernel.value,
                                self.dilation.value, bool(self.pool.value))
        self.view = v = receptive_field_view(layers, self.spacing, self.centre, self.origin)
        if self._line is None:  # first draw: the slice and the axes once; later only the overlays move
            draw_receptive_field(v, self.image, self.spacing, self.origin, self.ax_img, self.ax_curve)
            self._line = self.ax_curve.lines[0]
        else:
            for patch in list(self.ax_img.patches):
                patch.remove()
            colours = ["tab:orange", "tab:red", "tab:purple", "tab:blue", "tab:green", "gold"]
            marks = [i for i in range(1, len(v.rf)) if i == len(v.rf) - 1 or v.jump[i + 1] != v.jump[i]]
            for n, i in enumerate(marks):
                x0, x1, y0, y1 = v.boxes[i]
                self.ax_img.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False,
                                                edgecolor=colours[n % len(colours)], linewidth=1.2))
            self.ax_img.set_title(f"{len(v.layers)} layers: RF {v.rf[-1]} px = {v.rf_mm[-1, 1]:.0f} mm", fontsize=8)
            self._line.set_data(np.arange(len(v.rf)), v.rf_mm[:, 1])
            self.ax_curve.relim()
            self.ax_curve.autoscale_view()
        show_png(self.picture, figure_png(self.fig, close=False), figure_width(self.fig))
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        v = self.view
        pool = "with" if self.pool.value else "without"
        return [f"A CT slice with the squares seen by an encoder of {self.levels.value} levels of "
                f"{self.convs.value} convolutions (kernel {self.kernel.value}, dilation {self.dilation.value}) "
                f"{pool} 2×2 pooling, and the receptive field after each layer: {len(v.layers)} layers see "
                f"{v.rf[-1]} px = {v.rf_mm[-1, 1]:.0f} mm"]


STATIC_GRID = {"levels": (1, 2, 3, 4, 5), "kernel": (3, 5, 7), "pool": (True, False)}


def receptive_field_widget(image=None, spacing=None, origin=None, *, static: bool | None = None):
    """The interactive receptive field on a CT slice: an ipywidgets box to display.

    ``box.controller`` holds the controls (``levels``, ``convs``, ``kernel``, ``dilation``,
    ``pool``), ``view`` (the last :class:`RFView`) and ``last_update_s``. With ``static=True``
    (default: :func:`companion.widgets.static_pages`, true in the book build) a static explorer
    over ``STATIC_GRID`` instead (convolutions per level and dilation shown disabled at their
    start values), switched in the browser without a kernel.
    """
    if image is None:
        image, spacing, origin = _ct()
    image = as_float_array(image, "image", ndim=2)
    w = _RFWidget(image, spacing, origin)
    if not use_static(static):
        return w.ui
    return explore(w, STATIC_GRID, fmt=lambda v: ("yes" if v else "no") if isinstance(v, bool) else str(v))
