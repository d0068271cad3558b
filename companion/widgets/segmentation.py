"""Widget of chap-segmentation: where two intensity thresholds put CSF, grey and white matter.

* :func:`threshold_view` — pure NumPy: the tissue labels of a volume from two thresholds
  (:func:`companion.segmentation.threshold_tissues` inside the brain mask), the Dice of each
  tissue and the share of the wrong voxels that lie on a tissue boundary;
* :func:`draw_threshold_view` — matplotlib: one slice with its wrong voxels marked, and the
  intensity histogram of each tissue with the two thresholds;
* :func:`threshold_widget` — the ipywidgets UI: two threshold sliders and a slice slider (on the
  static page: an explorer over a grid of threshold pairs).

Moving a threshold trades errors between two tissues; near the best pair, most wrong voxels sit
on boundaries: there the reference label itself is a majority vote of a mixture (partial volume),
and the intensity lies between the two tissues' typical values. (Far from it, whole tissues are
mislabelled and interior errors grow.) An update blits the two threshold lines onto the
histogram drawn once, and re-encodes the histogram only when a threshold changed.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_float_array, as_int, as_label_map
from companion.widgets._render import explore, figure_png, figure_width, sharpen, show_png, use_static

__all__ = ["ThresholdView", "threshold_view", "draw_threshold_view", "threshold_widget", "TISSUE_COLOURS"]

#: Colours of background, CSF, grey matter, white matter in every picture of the chapter.
TISSUE_COLOURS = ("#000000", "#3b75af", "#8d8d8d", "#f0e442")


class ThresholdView(NamedTuple):
    """What :func:`threshold_view` returns."""

    pred: np.ndarray            # (D, H, W) labels 0..3
    dice: np.ndarray            # (3,) Dice of CSF, grey matter, white matter over the volume
    boundary_error_share: float  # wrong brain voxels on a boundary / all wrong brain voxels
    thresholds: tuple[float, float]


def threshold_view(image: Any, labels: Any, low: float, high: float, *, boundary: Any = None) -> ThresholdView:
    """Label a volume by two intensity thresholds inside the brain and score it.

    ``pred = 1 + [x > low] + [x > high]`` where ``labels > 0``, 0 elsewhere.

    Parameters
    ----------
    image : ndarray of float, (D, H, W)
    labels : ndarray of int, (D, H, W)
        Reference labels 0..3; the brain mask is ``labels > 0``.
    low, high : float
        The CSF/grey and grey/white thresholds, ``low < high``.
    boundary : ndarray of bool, (D, H, W), optional
        Boundary voxels (default :func:`companion.segmentation.boundary_mask` of `labels` in
        plane); pass it precomputed for fast updates.

    Returns
    -------
    ThresholdView

    Raises
    ------
    TypeError, ValueError
        Naming `image`, `labels`, `low`/`high` (thresholds not increasing) or `boundary`.

    Examples
    --------
    >>> img = np.array([[[0.3, 0.6, 0.9, 0.6]]]); lab = np.array([[[1, 2, 3, 3]]])
    >>> v = threshold_view(img, lab, 0.5, 0.8)
    >>> v.pred.tolist(), np.round(v.dice, 2).tolist()
    ([[[1, 2, 3, 2]]], [1.0, 0.67, 0.67])
    """
    from companion.metrics import dice_score
    from companion.segmentation import boundary_mask, threshold_tissues

    x = as_float_array(image, "image", ndim=3)
    lab = as_label_map(labels, x.shape, "labels")
    if not float(low) < float(high):
        raise ValueError(f"high: expected a threshold above low={low}, got {high}")
    pred = threshold_tissues(x, lab > 0, [float(low), float(high)])
    if boundary is None:
        boundary = boundary_mask(lab, axes=(1, 2))
    b = as_label_map(boundary, x.shape, "boundary").astype(bool)
    wrong = (pred != lab) & (lab > 0)
    share = float((wrong & b).sum() / wrong.sum()) if wrong.any() else float("nan")
    return ThresholdView(pred, dice_score(pred, lab, 4), share, (float(low), float(high)))


def _hist_data(image: np.ndarray, labels: np.ndarray, bins: np.ndarray) -> list[np.ndarray]:
    return [np.histogram(image[labels == k], bins=bins)[0] for k in (1, 2, 3)]


def draw_threshold_view(view: ThresholdView, image: Any, labels: Any, index: int, axes: Sequence[Any]) -> dict:
    """Draw slice `index` (wrong voxels in red) and the tissue histograms with the thresholds.

    Returns the artists (for fast updates).
    """
    from matplotlib.colors import ListedColormap

    x = np.asarray(image)
    lab = np.asarray(labels)
    index = as_int(index, "index", minimum=0)
    if index >= x.shape[0]:
        raise ValueError(f"index: expected a slice in [0, {x.shape[0]}), got {index}")
    ax_img, ax_hist = axes
    rgba = _slice_rgba(view, lab, index)
    art = {"img": ax_img.imshow(rgba, interpolation="nearest")}
    ax_img.set_axis_off()
    art["title"] = ax_img.set_title(_title(view, index), fontsize=8)
    bins = np.linspace(0, 1, 61)
    for k, counts in zip((1, 2, 3), _hist_data(x, lab, bins)):
        ax_hist.stairs(counts, bins, color=TISSUE_COLOURS[k] if k != 3 else "#c9a800", fill=False, lw=1.5,
                       label=("CSF", "grey matter", "white matter")[k - 1])
    art["lines"] = [ax_hist.axvline(t, color="tab:red", ls="--", lw=1) for t in view.thresholds]
    ax_hist.set_xlabel("T1 intensity", fontsize=8)
    ax_hist.set_ylabel("voxels", fontsize=8)
    ax_hist.tick_params(labelsize=7)
    ax_hist.legend(fontsize=7, frameon=False)
    return art


def _slice_rgba(view: ThresholdView, lab: np.ndarray, index: int) -> np.ndarray:
    from matplotlib.colors import to_rgb

    colours = np.array([to_rgb(c) for c in TISSUE_COLOURS])
    rgb = colours[view.pred[index]]
    wrong = (view.pred[index] != lab[index]) & (lab[index] > 0)
    rgb[wrong] = (0.85, 0.1, 0.1)
    return rgb


def _title(view: ThresholdView, index: int) -> str:
    d = view.dice
    return (f"slice {index}: Dice CSF {d[0]:.2f}, GM {d[1]:.2f}, WM {d[2]:.2f}\n"
            f"wrong voxels on a boundary: {100 * view.boundary_error_share:.0f} %")


class _ThresholdWidget:
    def __init__(self, image: Any, labels: Any, low: float, high: float) -> None:
        import ipywidgets as W
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from companion.segmentation import boundary_mask

        self.image = as_float_array(image, "image", ndim=3)
        self.labels = as_label_map(labels, self.image.shape, "labels")
        self.boundary = boundary_mask(self.labels, axes=(1, 2))
        style, layout = {"description_width": "110px"}, W.Layout(width="330px")
        self.low = W.FloatSlider(value=low, min=0.3, max=0.7, step=0.01, description="CSF | grey",
                                 style=style, layout=layout)
        self.high = W.FloatSlider(value=high, min=0.6, max=0.95, step=0.01, description="grey | white",
                                  style=style, layout=layout)
        busiest = int(np.argmax((self.labels > 0).reshape(self.labels.shape[0], -1).sum(1)))
        self.index = W.IntSlider(value=busiest, min=0, max=self.image.shape[0] - 1, description="slice",
                                 style=style, layout=layout)
        self.slice_picture = W.Image(format="png")
        self.picture = W.Image(format="png")
        self.text = W.HTML()
        # the histogram is drawn once (its background kept); an update blits the two lines onto it
        self.fig = Figure(figsize=(3.6, 2.4), dpi=72)
        self.ax = self.fig.subplots()
        self.fig.subplots_adjust(left=0.2, right=0.97, top=0.95, bottom=0.2)
        self.canvas = FigureCanvasAgg(self.fig)
        bins = np.linspace(0, 1, 61)
        for k, counts in zip((1, 2, 3), _hist_data(self.image, self.labels, bins)):
            self.ax.stairs(counts, bins, color=TISSUE_COLOURS[k] if k != 3 else "#c9a800", lw=1.5,
                           label=("CSF", "grey matter", "white matter")[k - 1])
        self.lines = [self.ax.axvline(t, color="tab:red", ls="--", lw=1, animated=True) for t in (low, high)]
        self.ax.set_xlabel("T1 intensity", fontsize=8)
        self.ax.set_ylabel("voxels", fontsize=8)
        self.ax.tick_params(labelsize=7)
        self.ax.legend(fontsize=7, frameon=False)
        sharpen(self.fig)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.drawn_thresholds: tuple[float, float] | None = None
        self.view: ThresholdView | None = None
        self.last_update_s = float("nan")
        for w in (self.low, self.high, self.index):
            w.observe(lambda _c: self.update(), names="value")
        controls = W.HBox([self.low, self.high, self.index], layout=W.Layout(flex_flow="row wrap"))
        pictures = W.HBox([self.slice_picture, self.picture], layout=W.Layout(flex_flow="row wrap"))
        self.ui = W.VBox([controls, self.text, pictures])
        self.ui.controller = self
        self.update()

    def update(self) -> None:
        from companion.widgets._render import show_array

        t0 = time.perf_counter()
        low, high = self.low.value, self.high.value
        if not low < high:
            high = min(low + 0.01, 1.0)
        self.view = threshold_view(self.image, self.labels, low, high, boundary=self.boundary)
        show_array(self.slice_picture, _slice_rgba(self.view, self.labels, self.index.value), scale=2)
        if self.view.thresholds != self.drawn_thresholds:      # a slice change leaves the histogram alone
            self.canvas.restore_region(self.background)
            for line, t in zip(self.lines, self.view.thresholds):
                line.set_xdata([t, t])
                self.ax.draw_artist(line)
            show_png(self.picture, figure_png(self.fig, close=False, draw=False), figure_width(self.fig))
            self.drawn_thresholds = self.view.thresholds
        self.text.value = _title(self.view, self.index.value).replace("\n", "<br>")
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        v, d = self.view, self.view.dice
        return [f"Slice {self.index.value} labelled by thresholds {v.thresholds[0]:.2f} and {v.thresholds[1]:.2f}: "
                f"CSF blue, grey matter grey, white matter yellow, wrong voxels red; Dice CSF {d[0]:.2f}, "
                f"grey matter {d[1]:.2f}, white matter {d[2]:.2f}; {100 * v.boundary_error_share:.0f} % of the "
                f"wrong voxels lie on a tissue boundary.",
                f"Intensity histograms of CSF, grey and white matter with the thresholds {v.thresholds[0]:.2f} "
                f"and {v.thresholds[1]:.2f} as dashed lines."]


STATIC_LOW = (0.45, 0.5, 0.55)
STATIC_HIGH = (0.72, 0.76, 0.8)


def threshold_widget(image: Any, labels: Any, *, low: float = 0.5, high: float = 0.76,
                     static: bool | None = None):
    """The interactive view: two threshold sliders and a slice slider over a labelled volume.

    ``box.controller`` holds the sliders ``low``, ``high``, ``index``, the current
    :class:`ThresholdView` as ``view`` and ``last_update_s``. With ``static=True`` (default:
    :func:`companion.widgets.static_pages`) the box is a static explorer over the threshold pairs
    ``STATIC_LOW`` × ``STATIC_HIGH`` at the busiest slice.

    Shapes
    ------
    image, labels : (D, H, W), e.g. the test slab
    """
    w = _ThresholdWidget(image, labels, float(low), float(high))
    if use_static(static):
        return explore(w, {"low": list(STATIC_LOW), "high": list(STATIC_HIGH)})
    return w.ui
