"""Widget of chap-deployment: a trained U-Net under controlled, seeded acquisition shifts.

Three layers, from pure to interactive:

* :func:`shift_image` — pure NumPy/SciPy: one phantom as another scanner or protocol would show
  it (intensity calibration, noise, blur, pixel spacing), with a strength in ``[0, 1]``;
  :func:`zscore` — per-image intensity normalisation (nnU-Net's scheme for MR).
* :func:`shifted_prediction` — one forward pass of a (cached) model on the shifted image: the
  image, mask, prediction, hard Dice and HD95 (:class:`ShiftResult`); :func:`shift_grid` —
  the static view, a figure of a few settings.
* :func:`shift_widget` — a thin ipywidgets UI: a shift-type dropdown and a strength slider.

The shifts, with strength ``s`` in ``[0, 1]`` (``s = 0`` is the identity):

==============  ===================================================  ===========================
``intensity``   ``x' = (1 + s/2) x + s/10`` (gain and offset)        another HU calibration or
                                                                     MR intensity scale
``noise``       ``x' = x + 0.3 s · N(0, 1)`` (seeded)                 lower dose (CT), faster MR
``blur``        Gaussian point-spread function, ``σ = 2.5 s`` px      softer reconstruction
                                                                     kernel, lower resolution
``spacing``     resampled by ``f = 2^{-s}`` (linear for the image,    a coarser pixel spacing:
                nearest for the mask), zero-padded to a multiple      the anatomy covers fewer
                of `multiple` pixels                                  pixels
==============  ===================================================  ===========================

References: zech2018variable, isensee2021nnunet.
"""

from __future__ import annotations

import io
import numbers
import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_float_array, as_int

__all__ = ["SHIFTS", "shift_image", "zscore", "ShiftResult", "shifted_prediction", "shift_grid",
           "shift_widget"]

SHIFTS = ("intensity", "noise", "blur", "spacing")


# --------------------------------------------------------------------------- checkers
def _strength(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.floating)) or not 0 <= float(v) <= 1:
        raise ValueError(f"strength: expected a number in [0, 1], got {v!r}")
    return float(v)


def _kind(kind: Any) -> str:
    if kind not in SHIFTS:
        raise ValueError(f"kind: expected one of {SHIFTS}, got {kind!r}")
    return kind


def _mask(mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    if hasattr(mask, "detach") and hasattr(mask, "numpy"):
        mask = mask.detach().cpu().numpy()
    m = np.asarray(mask)
    if m.dtype.kind not in "biu":
        raise TypeError(f"mask: expected an integer or boolean label map, got dtype {m.dtype}")
    if m.shape != shape:
        raise ValueError(f"mask: expected the image's shape {shape}, got {m.shape}")
    return m


# --------------------------------------------------------------------------- pure functions
def zscore(image: Any, eps: float = 1e-8) -> np.ndarray:
    """Per-image z-score normalisation: ``(x - mean(x)) / (std(x) + eps)``.

    Undoes every positive affine intensity change exactly (up to `eps` and rounding):
    ``zscore(a x + b) = zscore(x)`` for ``a > 0``. nnU-Net normalises MR images this way, one
    image at a time (CT uses fixed, dataset-wide statistics instead).

    Shapes
    ------
    image : any shape (statistics over all of it);  result : the same, dtype kept

    Examples
    --------
    >>> x = np.array([0.0, 1.0, 2.0, 3.0])
    >>> np.allclose(zscore(3 * x + 7), zscore(x))
    True
    """
    x = as_float_array(image, "image")
    if x.size == 0:
        raise ValueError("image: expected at least one pixel, got an empty array")
    return ((x - x.mean()) / (x.std() + eps)).astype(x.dtype, copy=False)


def shift_image(image: Any, mask: Any, kind: str, strength: float, *, seed: int = 0,
                multiple: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The image (and mask) as a different scanner or protocol would deliver them.

    See the module's table for the four shifts and what they mimic; ``strength = 0`` returns
    copies of the inputs (for ``"spacing"``, padded to a multiple of `multiple`).

    Parameters
    ----------
    image : ndarray of float, (H, W)
    mask : ndarray of int or bool, (H, W)
        Labels; only ``"spacing"`` changes them (nearest-neighbour resampling).
    kind : {"intensity", "noise", "blur", "spacing"}
    strength : float in [0, 1]
    seed : int, default 0
        Seed of the noise.
    multiple : int, default 8
        ``"spacing"`` pads the resampled arrays with zeros (air, background) at the bottom and
        right to a multiple of this (``2**depth`` of the U-Net).

    Returns
    -------
    image : ndarray, dtype of the input
    mask : ndarray of int64

    Shapes
    ------
    image, mask : (H, W) -> (H, W), or (H', W') for ``"spacing"`` with
    ``H' = ceil(round(f H) / multiple) · multiple``

    Raises
    ------
    TypeError, ValueError
        Naming `image`, `mask`, `kind`, `strength`, `seed` or `multiple`.

    Examples
    --------
    >>> img, m = np.ones((16, 16), np.float32), np.zeros((16, 16), int)
    >>> round(float(shift_image(img, m, "intensity", 1.0)[0][0, 0]), 6)
    1.6
    >>> shift_image(img, m, "spacing", 1.0)[0].shape
    (8, 8)
    """
    from scipy import ndimage

    x = as_float_array(image, "image", ndim=2)
    m = _mask(mask, x.shape).astype(np.int64)
    kind, s = _kind(kind), _strength(strength)
    seed = as_int(seed, "seed", minimum=0)
    multiple = as_int(multiple, "multiple", minimum=1)
    if kind == "intensity":
        out = (1 + s / 2) * x + s / 10
    elif kind == "noise":
        out = x + 0.3 * s * np.random.default_rng(seed).standard_normal(x.shape)
    elif kind == "blur":
        out = ndimage.gaussian_filter(x.astype(np.float64), 2.5 * s, mode="nearest") if s > 0 else x.copy()
    else:
        f = 2.0 ** -s
        size = tuple(max(1, int(round(f * n))) for n in x.shape)
        out = ndimage.zoom(x.astype(np.float64), [a / n for a, n in zip(size, x.shape)], order=1, grid_mode=True,
                           mode="grid-constant")
        m = ndimage.zoom(m, [a / n for a, n in zip(size, x.shape)], order=0, grid_mode=True, mode="grid-constant")
        pad = [(0, -n % multiple) for n in out.shape]
        out, m = np.pad(out, pad), np.pad(m, pad)
    return np.asarray(out).astype(x.dtype, copy=False), m.astype(np.int64, copy=False)


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
        self.kind = W.Dropdown(options=list(SHIFTS), value="intensity", description="shift")
        self.strength = W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="strength")
        self.pictures = {name: W.Image(format="png") for name in ("image", "prediction", "errors")}
        self.caption = W.HTML()
        self.result: ShiftResult | None = None
        self.last_update_s = float("nan")
        for w in (self.kind, self.strength):
            w.observe(lambda change: self.update(), names="value")
        panels = [W.VBox([W.HTML(f"<small>{n}</small>"), p]) for n, p in self.pictures.items()]
        self.ui = W.VBox([W.HBox([self.kind, self.strength]), W.HBox(panels), self.caption])
        self.ui._companion = self
        self.update()

    def update(self) -> None:
        """Shift, predict (one forward pass), score and redraw."""
        from companion.widgets.unet import _png, slice_views

        t0 = time.perf_counter()
        r = shifted_prediction(self.model, self.image, self.mask, self.kind.value, float(self.strength.value),
                               normalise=self.normalise, seed=self.seed)
        v = slice_views(r.image, r.mask, r.pred, window=WINDOW)
        scale = max(1, 144 // max(r.image.shape))
        for name, widget in self.pictures.items():
            widget.value = _png(v.pictures[name], scale)
        self.caption.value = (f"<small>{r.kind} shift, strength {r.strength:.2f}: image {r.image.shape}, "
                              f"Dice {r.dice:.3f}, HD95 {r.hd95:.1f} px</small>")
        self.result = r
        self.last_update_s = time.perf_counter() - t0


def shift_widget(model: Any, image: Any, mask: Any, *, normalise: bool = False, seed: int = 0):
    """An ipywidgets view of `model` on one case under a chosen shift: dropdown and slider.

    Returns
    -------
    ipywidgets.VBox
        The UI; ``._companion`` holds the state: ``.kind`` (dropdown) and ``.strength`` (slider;
        set their ``.value``), ``.result`` (the last :class:`ShiftResult`), ``.last_update_s``.
    """
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    x = as_float_array(image, "image", ndim=2)
    return _ShiftWidget(model, x, _mask(mask, x.shape), bool(normalise), as_int(seed, "seed", minimum=0)).ui
