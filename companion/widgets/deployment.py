"""Widget of chap-deployment: a trained U-Net under controlled, seeded acquisition shifts.

Three layers, from pure to interactive:

* :func:`shift_image`, :func:`zscore` and ``SHIFTS`` live in :mod:`companion.intensity` (pure
  NumPy/SciPy: one phantom as another scanner or protocol shows it — MR gain, MR bias field,
  noise, blur, pixel spacing — and the per-image z-score); they stay importable from here.
* :func:`shifted_prediction` — one forward pass of a (cached) model on the shifted image: the
  image, mask, prediction, hard Dice and HD95 (:class:`ShiftResult`); :func:`shift_grid` —
  the static view, a figure of a few settings.
* :func:`predict_resampled`, :func:`predict_tta` and :class:`AugmentedDataset` live in
  :mod:`companion.models.train` (torch training and inference); they stay importable from here.
* :func:`shift_widget` — a thin ipywidgets UI: a shift-type dropdown and a strength slider.

References: zech2018variable, isensee2021nnunet.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_float_array, as_int, as_label_map
from companion.intensity import SHIFTS, shift_image, zscore  # their home; importable from here too
from companion.models.train import AugmentedDataset, predict_resampled, predict_tta  # noqa: F401 (their home)
from companion.widgets._render import WRAP, explore, show_array, use_static

__all__ = ["SHIFTS", "shift_image", "zscore", "ShiftResult", "shifted_prediction", "predict_resampled",
           "predict_tta", "AugmentedDataset", "shift_grid", "shift_widget"]


class ShiftResult(NamedTuple):
    """What :func:`shifted_prediction` returns: the shifted case, the prediction and its scores."""

    image: np.ndarray   # (H', W') shifted image (before any normalisation)
    mask: np.ndarray    # (H', W') its labels
    pred: np.ndarray    # (H', W') predicted labels
    dice: float         # hard Dice of class 1 (nan if absent from both)
    hd95: float         # 95th-percentile Hausdorff distance in pixels (inf if one map is empty)
    kind: str
    strength: float


def shifted_prediction(model: Any, image: Any, mask: Any, kind: str, strength: float, *,
                       normalise: bool = False, seed: int = 0) -> ShiftResult:
    """Shift one case, predict it with `model` (one forward pass) and score it.

    Parameters
    ----------
    model : torch.nn.Module
        A 2-D segmentation network, e.g. the chapter's trained U-Net (kept in memory: an
        update costs one forward pass).
    image, mask, kind, strength, seed
        As in :func:`shift_image`.
    normalise : bool, default False
        Apply :func:`zscore` to the shifted image before the model (for a model trained on
        z-scored images).

    Returns
    -------
    ShiftResult

    Shapes
    ------
    image, mask : (H, W);  result arrays : (H', W')
    """
    from companion.metrics import hausdorff_distance
    from companion.train import dice_score, predict

    img, m = shift_image(image, mask, kind, strength, seed=seed)
    x = zscore(img) if normalise else img
    pred = predict(model, x[None].astype(np.float32))
    return ShiftResult(img, m, pred, float(dice_score(pred, m, 2)[0]),
                       hausdorff_distance(pred, m, percentile=95), kind, float(strength))


# --------------------------------------------------------------------------- test-time remedies
# --------------------------------------------------------------------------- static view
WINDOW = (-0.1, 1.3)  # the grey-level window of every picture: intensity shifts stay visible


def shift_grid(model: Any, image: Any, mask: Any, settings: Sequence[tuple[str, float]], *,
               normalise: bool = False, seed: int = 0, panel_size: float = 1.5):
    """The static view: per setting ``(kind, strength)`` a column with the shifted image (top) and
    the error overlay of the prediction (bottom; red false positives, blue false negatives, green
    true positives), Dice in the title. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    from companion.widgets.unet import slice_views

    fig, axes = plt.subplots(2, len(settings), figsize=(len(settings) * panel_size, 2 * panel_size + 0.4),
                             squeeze=False)
    for col, (kind, strength) in enumerate(settings):
        r = shifted_prediction(model, image, mask, kind, strength, normalise=normalise, seed=seed)
        v = slice_views(r.image, r.mask, r.pred, window=WINDOW)
        for row, name in enumerate(("image", "errors")):
            ax = axes[row, col]
            ax.imshow(v.pictures[name], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, col].set_title(f"{kind} {strength:g}\nDice {r.dice:.2f}", fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- widget
class _ShiftWidget:
    """Controls, pictures and the last :class:`ShiftResult`; ``.ui`` is the ipywidgets box."""

    def __init__(self, model: Any, image: np.ndarray, mask: np.ndarray, normalise: bool, seed: int) -> None:
        import ipywidgets as W

        self.model, self.image, self.mask, self.normalise, self.seed = model, image, mask, normalise, seed
        self.kind = W.Dropdown(options=list(SHIFTS), value="gain", description="shift")
        self.strength = W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="strength")
        self.pictures = {name: W.Image(format="png") for name in ("image", "prediction", "errors")}
        self.caption = W.HTML()
        self.result: ShiftResult | None = None
        self.last_update_s = float("nan")
        for w in (self.kind, self.strength):
            w.observe(lambda change: self.update(), names="value")
        panels = [W.VBox([W.HTML(f"<small>{n}</small>"), p]) for n, p in self.pictures.items()]
        self.ui = W.VBox([W.HBox([self.kind, self.strength], layout=W.Layout(**WRAP)),
                          W.HBox(panels, layout=W.Layout(**WRAP)), self.caption])
        self.ui.controller = self
        self.update()

    def update(self) -> None:
        """Shift, predict (one forward pass), score and redraw."""
        from companion.widgets.unet import slice_views

        t0 = time.perf_counter()
        r = shifted_prediction(self.model, self.image, self.mask, self.kind.value, float(self.strength.value),
                               normalise=self.normalise, seed=self.seed)
        v = slice_views(r.image, r.mask, r.pred, window=WINDOW)
        scale = max(1, 144 // max(r.image.shape))
        for name, widget in self.pictures.items():
            show_array(widget, v.pictures[name], scale)
        self.caption.value = (f"<small>{r.kind} shift, strength {r.strength:.2f}: image {r.image.shape}, "
                              f"Dice {r.dice:.3f}, HD95 {r.hd95:.1f} px</small>")
        self.result = r
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        r = self.result
        what = f"The phantom under a {r.kind} shift of strength {r.strength:.2f} ({r.image.shape[0]}×{r.image.shape[1]} pixels)"
        return [f"{what}, in grey", f"{what}, with the U-Net's predicted lesion mask overlaid",
                f"{what}, with the prediction's errors overlaid (red false positives, blue false negatives, "
                f"green true positives): Dice {r.dice:.3f}, HD95 {r.hd95:.1f} px"]


STATIC_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)


def shift_widget(model: Any, image: Any, mask: Any, *, normalise: bool = False, seed: int = 0,
                 static: bool | None = None):
    """An ipywidgets view of `model` on one case under a chosen shift: dropdown and slider.

    Returns
    -------
    ipywidgets.VBox
        The UI; ``.controller`` holds the state: ``.kind`` (dropdown) and ``.strength`` (slider;
        set their ``.value``), ``.result`` (the last :class:`ShiftResult`), ``.last_update_s``.
        With ``static=True`` (default: :func:`companion.widgets.static_pages`, true in the book
        build) a static explorer instead: every shift at the strengths ``STATIC_STRENGTHS``,
        switched in the browser without a kernel.
    """
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    x = as_float_array(image, "image", ndim=2)
    w = _ShiftWidget(model, x, as_label_map(mask, x.shape), bool(normalise), as_int(seed, "seed", minimum=0))
    if not use_static(static):
        return w.ui
    return explore(w, {"kind": list(SHIFTS), "strength": STATIC_STRENGTHS})
