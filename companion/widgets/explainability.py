"""Widget of chap-explainability: five attribution methods on one image, with the known lesion.

* :func:`attribution_map` — pure compute: one method's map of one image for a trained classifier
  (:mod:`companion.explain`), with its pointing-game hit and the share of attribution inside the
  lesion (:mod:`companion.attribution`);
* :func:`explain_widget` — the ipywidgets UI: a method selector and an image selector; the image
  with the lesion outlined, and the map.

On the static book page (:func:`companion.widgets.static_pages`) the widget is a static explorer
over every method and the first few images.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from companion._validation import as_choice, as_int
from companion.attribution import attribution_inside, pointing_game
from companion.widgets._render import explore, figure_png, figure_width, show_png, use_static

__all__ = ["METHODS", "AttributionView", "attribution_map", "explain_widget"]

METHODS = ("saliency", "SmoothGrad", "Integrated Gradients", "Grad-CAM", "occlusion")


@dataclass(frozen=True)
class AttributionView:
    """One map: ``attribution (H, W)`` (absolute for the gradient methods), whether its peak lies
    on the lesion (``hit``), and the share of its positive mass inside the lesion (``inside``)."""

    method: str
    attribution: np.ndarray
    hit: bool
    inside: float


def attribution_map(model: Any, image: Any, lesion: Any, method: str, *, target_class: int = 1,
                    seed: int = 0) -> AttributionView:
    """One attribution map of one image with the chapter's settings, scored against `lesion`.

    Settings (as in chap-explainability): SmoothGrad ``sigma=0.1, samples=16``; Integrated
    Gradients from a black image, 32 steps, absolute value; Grad-CAM on ``model.block3``;
    occlusion with 4×4 patches, stride 2, baseline 0.85 (white matter), logit score.

    Parameters
    ----------
    model : companion.models.classifier.SmallCNN (trained)
    image : array_like of float, (H, W)
    lesion : array_like of bool, (H, W)
    method : one of :data:`METHODS`
    target_class : int, default 1
    seed : int, default 0
        SmoothGrad's noise.

    Returns
    -------
    AttributionView

    Raises
    ------
    ValueError
        An unknown `method`, an image that is not 2-D, a lesion of another shape.
    """
    from companion import explain

    method = as_choice(method, "method", METHODS)
    img = np.asarray(image, np.float32)
    if img.ndim != 2:
        raise ValueError(f"image: expected one 2-D image (H, W), got shape {img.shape}")
    les = np.asarray(lesion).astype(bool)
    if les.shape != img.shape:
        raise ValueError(f"lesion: expected the image's shape {img.shape}, got {les.shape}")
    x = img[None, None]
    c = as_int(target_class, "target_class", minimum=0)
    if method == "saliency":
        a = explain.saliency(model, x, c)[0, 0]
    elif method == "SmoothGrad":
        a = explain.smoothgrad(model, x, c, sigma=0.1, samples=16, seed=seed)[0, 0]
    elif method == "Integrated Gradients":
        a = np.abs(explain.integrated_gradients(model, x, c, steps=32)[0, 0])
    elif method == "Grad-CAM":
        a = explain.grad_cam(model, model.block3, x, c)[0]
    else:
        a = explain.occlusion_sensitivity(model, x, c, 4, stride=2, baseline=0.85, score="logit")[0]
    hit = bool(pointing_game(a, les)) if les.any() else False
    inside = float(attribution_inside(a, les)) if les.any() else float("nan")
    return AttributionView(method, a, hit, inside)


class _ExplainWidget:
    def __init__(self, model: Any, images: np.ndarray, lesions: np.ndarray, seed: int) -> None:
        import ipywidgets as W
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.model, self.images, self.lesions, self.seed = model, images, lesions, seed
        self.method = W.Dropdown(options=list(METHODS), value="saliency", description="method")
        self.image = W.IntSlider(value=0, min=0, max=len(images) - 1, description="image")
        self.picture = W.Image(format="png")
        self.fig = Figure(figsize=(4.6, 2.4), dpi=72)
        self.axes = self.fig.subplots(1, 2)
        FigureCanvasAgg(self.fig)
        self.view: AttributionView | None = None
        self.last_update_s = float("nan")
        for control in (self.method, self.image):
            control.observe(lambda _c: self.update(), names="value")
        self.ui = W.VBox([W.HBox([self.method, self.image]), self.picture])
        self.ui.controller = self
        self.update()

    def update(self) -> None:
        t0 = time.perf_counter()
        i = self.image.value
        self.view = attribution_map(self.model, self.images[i], self.lesions[i], self.method.value, seed=self.seed)
        for ax in self.axes:
            ax.clear()
            ax.set_axis_off()
        self.axes[0].imshow(self.images[i], cmap="gray")
        self.axes[0].set_title("image, lesion outlined", fontsize=8)
        self.axes[1].imshow(self.view.attribution, cmap="magma")
        self.axes[1].set_title(f"{self.view.method}: peak {'on' if self.view.hit else 'off'} the lesion, "
                               f"{self.view.inside:.0%} inside", fontsize=8)
        for ax in self.axes:
            if self.lesions[i].any():
                ax.contour(self.lesions[i], levels=[0.5], colors="cyan", linewidths=0.7)
        self.fig.subplots_adjust(left=0.02, right=0.98, top=0.86, bottom=0.02, wspace=0.05)
        show_png(self.picture, figure_png(self.fig, close=False), figure_width(self.fig))
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        v = self.view
        return [f"Image {self.image.value} with its inserted lesion outlined, and its {v.method} map; the map's "
                f"peak lies {'on' if v.hit else 'off'} the lesion and {v.inside:.0%} of its mass inside it"]


def explain_widget(model: Any, images: Any, lesions: Any, *, seed: int = 0, static_images: int = 4,
                   static: bool | None = None):
    """The interactive view: choose a method and an image; see the map beside the image.

    ``box.controller`` holds the controls ``method`` and ``image``, the current
    :class:`AttributionView` as ``view`` and ``last_update_s``. With ``static=True`` (default:
    :func:`companion.widgets.static_pages`) the box is a static explorer over every method and
    the first `static_images` images.

    Shapes
    ------
    images : (N, H, W) float;  lesions : (N, H, W) bool
    """
    imgs = np.asarray(images, np.float32)
    les = np.asarray(lesions).astype(bool)
    if imgs.ndim != 3 or les.shape != imgs.shape:
        raise ValueError(f"images: expected (N, H, W) with lesions of the same shape, got {imgs.shape} and {les.shape}")
    w = _ExplainWidget(model, imgs, les, as_int(seed, "seed", minimum=0))
    if use_static(static):
        n = min(as_int(static_images, "static_images", minimum=1), len(imgs))
        return explore(w, {"method": list(METHODS), "image": list(range(n))})
    return w.ui
