"""Interactive figure of the U-Net chapter: a slice viewer of image, ground truth, prediction, errors.

Three layers, from pure to interactive:

* :func:`slice_views` — pure NumPy: for one slice of a 2-D or 3-D case, four RGB pictures (the
  image in grey, the ground truth and the prediction blended over it with an `opacity`, and the
  error overlay: false positives red, false negatives blue, true positives green) and the slice's
  counts and hard Dice (:class:`SliceViews`).
* :func:`slice_grid` — matplotlib: the four panels for a few slices, the static view for the
  rendered book page (where no kernel runs).
* :func:`slice_viewer` — a thin ipywidgets UI: a slice slider and an opacity slider; pictures are
  encoded as PNG straight from the RGB arrays (no matplotlib in the update loop).
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_float_array, as_int
from companion.widgets._render import WRAP, explore, show_array, use_static

__all__ = ["SliceViews", "slice_views", "slice_grid", "slice_viewer", "PANELS", "COLOURS"]

PANELS = ("image", "ground truth", "prediction", "errors")
#: RGB colours in [0, 1]: truth and prediction overlays, and the error classes.
COLOURS = {
    "truth": np.array([1.0, 0.85, 0.0]),
    "prediction": np.array([0.0, 0.8, 1.0]),
    "tp": np.array([0.1, 0.8, 0.1]),
    "fp": np.array([0.95, 0.1, 0.1]),
    "fn": np.array([0.15, 0.3, 1.0]),
}


class SliceViews(NamedTuple):
    """The four RGB pictures of one slice and its error counts.

    ``pictures`` maps each of :data:`PANELS` to an (H, W, 3) float64 array in [0, 1];
    ``tp``, ``fp``, ``fn`` count the slice's true positives, false positives and false negatives
    (foreground = label > 0); ``dice = 2 tp / (2 tp + fp + fn)`` (nan when the slice has no
    foreground in either map).
    """

    pictures: dict
    tp: int
    fp: int
    fn: int
    dice: float
    index: int


def _labels(a: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if hasattr(a, "detach") and hasattr(a, "numpy"):
        a = a.detach().cpu().numpy()
    a = np.asarray(a)
    if a.dtype.kind not in "biu":
        raise TypeError(f"{name}: expected an integer or boolean label map, got dtype {a.dtype}")
    if a.shape != shape:
        raise ValueError(f"{name}: expected the image's shape {shape}, got {a.shape}")
    return a > 0


def _check(image: Any, truth: Any, pred: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    img = as_float_array(image, "image", ndim=(2, 3))
    return img, _labels(truth, "truth", img.shape), _labels(pred, "pred", img.shape)


def _grey(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    g = np.clip((a - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
    return np.repeat(g[..., None], 3, axis=2)


def _blend(rgb: np.ndarray, mask: np.ndarray, colour: np.ndarray, opacity: float) -> np.ndarray:
    out = rgb.copy()
    out[mask] = (1 - opacity) * out[mask] + opacity * colour
    return out


def slice_views(image: Any, truth: Any, pred: Any, index: int | None = None, *, axis: int = 0,
                opacity: float = 0.5, window: tuple[float, float] | None = None) -> SliceViews:
    """Four pictures of one slice: image, ground truth, prediction and the error overlay.

    Each overlay pixel is ``(1 - opacity) · grey + opacity · colour``; the error panel colours
    false positives (``pred & ~truth``) red, false negatives (``truth & ~pred``) blue and true
    positives green.

    Parameters
    ----------
    image : ndarray (H, W) or (D, H, W)
    truth, pred : integer or boolean arrays of the image's shape
        Label maps; foreground is ``> 0``.
    index : int, optional
        The slice along `axis` (3-D only); default the middle one.
    axis : int, default 0
    opacity : float in [0, 1], default 0.5
    window : (lo, hi), optional
        Grey-level window; default the image's 1st and 99th percentiles.

    Returns
    -------
    SliceViews

    Shapes
    ------
    image, truth, pred : (H, W) or (D, H, W);  each picture : (H', W', 3)

    Raises
    ------
    TypeError, ValueError
        For non-numeric images, non-integer label maps, mismatched shapes, an index out of range
        or an opacity outside [0, 1].
    """
    img, t, p = _check(image, truth, pred)
    if isinstance(opacity, bool) or not isinstance(opacity, (int, float, np.floating)) or not 0 <= opacity <= 1:
        raise ValueError(f"opacity: expected a number in [0, 1], got {opacity!r}")
    if img.ndim == 3:
        axis = as_int(axis, "axis")
        if not 0 <= axis < 3:
            raise ValueError(f"axis: expected 0, 1 or 2 for a volume, got {axis}")
        n = img.shape[axis]
        index = n // 2 if index is None else as_int(index, "index")
        if not 0 <= index < n:
            raise ValueError(f"index: expected a slice in [0, {n - 1}] along axis {axis}, got {index}")
        img, t, p = (np.take(a, index, axis=axis) for a in (img, t, p))
    else:
        index = 0
    lo, hi = window if window is not None else (float(v) for v in np.percentile(img, [1, 99]))
    grey = _grey(img.astype(np.float64), lo, hi)
    tp, fp, fn = t & p, p & ~t, t & ~p
    errors = grey.copy()
    for m, c in ((tp, "tp"), (fp, "fp"), (fn, "fn")):
        errors = _blend(errors, m, COLOURS[c], opacity)
    pictures = {"image": grey, "ground truth": _blend(grey, t, COLOURS["truth"], opacity),
                "prediction": _blend(grey, p, COLOURS["prediction"], opacity), "errors": errors}
    n_tp, n_fp, n_fn = int(tp.sum()), int(fp.sum()), int(fn.sum())
    denom = 2 * n_tp + n_fp + n_fn
    return SliceViews(pictures, n_tp, n_fp, n_fn, 2 * n_tp / denom if denom else float("nan"), index)


def slice_grid(image: Any, truth: Any, pred: Any, indices: Sequence[int] | None = None, *, axis: int = 0,
               opacity: float = 0.5, panel_size: float = 1.6):
    """Static view: the four panels of :func:`slice_views` (columns) for a few slices (rows).

    For a 2-D image there is one row. Default slices for a volume: three, at 1/4, 1/2 and 3/4 of
    the axis. Returns the matplotlib figure (the caller shows it).
    """
    import matplotlib.pyplot as plt

    img = as_float_array(image, "image", ndim=(2, 3))
    if img.ndim == 2:
        indices = [0]
    elif indices is None:
        n = img.shape[axis]
        indices = sorted({n // 4, n // 2, (3 * n) // 4})
    views = [slice_views(img, truth, pred, i if img.ndim == 3 else None, axis=axis, opacity=opacity) for i in indices]
    fig, axes = plt.subplots(len(views), 4, figsize=(4 * panel_size, len(views) * panel_size + 0.3), squeeze=False)
    for r, v in enumerate(views):
        for c, name in enumerate(PANELS):
            ax = axes[r, c]
            ax.imshow(v.pictures[name], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(name, fontsize=8)
        label = f"slice {v.index}\n" if img.ndim == 3 else ""
        dice = "n/a" if np.isnan(v.dice) else f"{v.dice:.2f}"
        axes[r, 0].set_ylabel(f"{label}Dice {dice}", fontsize=7)
        axes[r, 3].set_xlabel(f"FP {v.fp}  FN {v.fn}", fontsize=7)
    fig.tight_layout()
    return fig


class _SliceViewer:
    """Controls, pictures and the last :class:`SliceViews`; ``.ui`` is the ipywidgets box."""

    def __init__(self, image: np.ndarray, truth: np.ndarray, pred: np.ndarray, axis: int) -> None:
        import ipywidgets as W

        self.image, self.truth, self.pred, self.axis = image, truth, pred, axis
        self._window = tuple(float(v) for v in np.percentile(image, [1, 99]))
        plane = [s for a, s in enumerate(image.shape) if image.ndim == 2 or a != axis]
        self._scale = max(1, 160 // max(plane))
        n = image.shape[axis] if image.ndim == 3 else 1
        self.index = W.IntSlider(value=n // 2, min=0, max=max(n - 1, 0), description="slice",
                                 disabled=image.ndim == 2)
        self.opacity = W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="opacity")
        self.pictures = {name: W.Image(format="png") for name in PANELS}
        self.caption = W.HTML()
        self.result: SliceViews | None = None
        self.last_update_s = float("nan")
        for w in (self.index, self.opacity):
            w.observe(lambda change: self.update(), names="value")
        panels = [W.VBox([W.HTML(f"<small>{name}</small>"), self.pictures[name]]) for name in PANELS]
        self.ui = W.VBox([W.HBox([self.index, self.opacity], layout=W.Layout(**WRAP)),
                          W.HBox(panels, layout=W.Layout(**WRAP)), self.caption])
        self.ui.controller = self
        self.update()

    def update(self) -> None:
        """Recompute the four pictures for the current slice and opacity, and redraw."""
        t0 = time.perf_counter()
        v = slice_views(self.image, self.truth, self.pred, self.index.value if self.image.ndim == 3 else None,
                        axis=self.axis, opacity=float(self.opacity.value), window=self._window)
        for name in PANELS:
            show_array(self.pictures[name], v.pictures[name], self._scale)
        dice = "n/a (no foreground)" if np.isnan(v.dice) else f"{v.dice:.3f}"
        self.caption.value = (f"<small>slice {v.index}: Dice {dice}; true positives {v.tp}, "
                              f"<span style='color:#d00'>false positives {v.fp}</span>, "
                              f"<span style='color:#24f'>false negatives {v.fn}</span></small>")
        self.result = v
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        v = self.result
        where = f"Slice {v.index}" if self.image.ndim == 3 else "The image"
        say = {"image": "in grey", "ground truth": "with the true lesion mask overlaid",
               "prediction": "with the predicted mask overlaid",
               "errors": f"with the errors overlaid: {v.tp} true positive pixels in green, {v.fp} false "
                         f"positives in red, {v.fn} false negatives in blue"}
        return [f"{where} {say[name]} (opacity {float(self.opacity.value):.2f})" for name in PANELS]


STATIC_SLICES = 8
STATIC_OPACITIES = (0.25, 0.5, 1.0)


def slice_viewer(image: Any, truth: Any, pred: Any, *, axis: int = 0, static: bool | None = None):
    """An ipywidgets slice viewer: image, ground truth, prediction and errors, with an opacity slider.

    Parameters
    ----------
    image : ndarray (H, W) or (D, H, W)
    truth, pred : label maps of the same shape (foreground ``> 0``)
    axis : int, default 0
        The axis the slice slider moves along (3-D).

    Returns
    -------
    ipywidgets.VBox
        The UI; its attribute ``controller`` holds the state: ``.index`` and ``.opacity`` (the
        sliders; set their ``.value``), ``.result`` (the last :class:`SliceViews`) and
        ``.last_update_s``. With ``static=True`` (default: :func:`companion.widgets.static_pages`,
        true in the book build) a static explorer instead: ``STATIC_SLICES`` slices spread over
        the volume (the middle one included) at the opacities ``STATIC_OPACITIES``, switched in the
        browser without a kernel.
    """
    img, t, p = _check(image, truth, pred)
    if img.ndim == 3:
        axis = as_int(axis, "axis")
        if not 0 <= axis < 3:
            raise ValueError(f"axis: expected 0, 1 or 2 for a volume, got {axis}")
    w = _SliceViewer(img, t, p, axis)
    if not use_static(static):
        return w.ui
    grid: dict = {"opacity": STATIC_OPACITIES}
    if img.ndim == 3:
        n = img.shape[axis]
        picks = np.unique(np.linspace(0, n - 1, min(n, STATIC_SLICES - 1)).round().astype(int))
        grid = {"index": sorted({int(i) for i in picks} | {n // 2}), **grid}
    return explore(w, grid)
