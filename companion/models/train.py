"""Training and inference for segmentation networks: `fit`, `predict`, sliding windows, hard Dice.

`fit` is a plain, deterministic Adam loop: seeded shuffling, the book's losses from
:func:`companion.models.losses.get_loss`, per-epoch training loss and validation Dice in a
:class:`History`. It runs on the CPU by default and on CUDA when a GPU is present, with the same
code path. `predict` turns logits into integer label maps; `sliding_window_predict` tiles a volume
larger than the training patches, blending overlapping windows with a Gaussian importance map
(as MONAI's ``sliding_window_inference(mode="gaussian")``); `dice_score` is the per-class hard
Dice used for validation. Two test-time remedies (`predict_resampled` to the training spacing,
`predict_tta` over flips) and `AugmentedDataset` (a dataset seen through seeded augmentation)
complete the loop.

References: ronneberger2015unet, milletari2016vnet, isensee2021nnunet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from companion._validation import as_float_array, as_int, as_positive_float

__all__ = [
    "History",
    "fit",
    "predict",
    "predict_logits",
    "sliding_window_logits",
    "sliding_window_predict",
    "gaussian_importance_map",
    "window_starts",
    "dice_score",
    "pick_device",
    "predict_resampled",
    "predict_tta",
    "AugmentedDataset",
]


# --------------------------------------------------------------------------- helpers
def pick_device(device: Any = None) -> torch.device:
    """``None`` → CUDA when ``torch.cuda.is_available()``, else CPU; anything else → ``torch.device``."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device: expected None, 'cpu', 'cuda' or a torch.device, got {device!r} ({exc})") from None


def _spatial_dims(model: nn.Module) -> int:
    """The model's spatial dimensionality: ``model.dims`` or that of its first convolution."""
    dims = getattr(model, "dims", None)
    if dims in (1, 2, 3):
        return int(dims)
    for m in model.modules():
        for k, cls in ((1, nn.Conv1d), (2, nn.Conv2d), (3, nn.Conv3d)):
            if isinstance(m, cls):
                return k
    raise ValueError("model: cannot tell its spatial dimensionality (no `dims` attribute and no Conv layer)")


def _as_tensor(x: Any, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x.detach()
    elif isinstance(x, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(x))
    else:
        raise TypeError(f"{name}: expected a NumPy array or a torch.Tensor, got {type(x).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name}: expected a float array, got dtype {t.dtype}")
    return t


def _centre_crop_target(target: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Crop labels ``(N, *S)`` to the centre ``size`` (for valid-padding networks)."""
    if tuple(target.shape[1:]) == tuple(size):
        return target
    idx = [slice(None)]
    for have, want in zip(target.shape[1:], size):
        if want > have:
            raise ValueError(f"model output: spatial size {tuple(size)} larger than the target's {tuple(target.shape[1:])}")
        start = (have - want) // 2
        idx.append(slice(start, start + want))
    return target[tuple(idx)]


# --------------------------------------------------------------------------- Dice
# One home for the hard Dice: companion.metrics (NumPy); `companion.train.dice_score` is the same object.
from companion.metrics import dice_score, mean_foreground_dice  # noqa: E402


def _mean_foreground_dice(pred: np.ndarray, target: np.ndarray, num_classes: int) -> float:
    """Mean over images of the per-class foreground Dice (nan entries left out); nan if all are nan."""
    return mean_foreground_dice(pred, target, max(num_classes, 2), per_image=True)


# --------------------------------------------------------------------------- fit
@dataclass
class History:
    """What :func:`fit` returns: one entry per epoch in `train_loss` and `val_dice`.

    ``train_loss[e]`` is the mean loss over the training samples of epoch ``e`` (weighted by batch
    size, measured while training); ``val_dice[e]`` the mean foreground hard Dice over the
    validation images after epoch ``e`` (nan without a validation set). Two histories compare
    equal when the numbers and settings agree; the timings are not compared.
    """

    train_loss: list[float] = field(default_factory=list)
    val_dice: list[float] = field(default_factory=list)
    seed: int = 0
    device: str = "cpu"
    epochs: int = 0
    batch_size: int = 8
    lr: float = 1e-3
    loss: str = "composite"
    seconds: list[float] = field(default_factory=list, compare=False)

    def __repr__(self) -> str:
        last = f", last train_loss={self.train_loss[-1]:.4f}, val_dice={self.val_dice[-1]:.4f}" if self.train_loss else ""
        return f"History(epochs={len(self.train_loss)}, seed={self.seed}, device={self.device!r}{last})"


def _num_classes(model: nn.Module) -> int | None:
    k = getattr(model, "out_channels", None)
    return int(k) if isinstance(k, int) else None


def fit(model: nn.Module, train_set: Any, val_set: Any = None, *, epochs: int = 10, batch_size: int = 8,
        lr: float = 1e-3, loss: str | Callable = "composite", seed: int = 0, device: Any = None,
        progress: bool = True) -> History:
    """Train a segmentation network with Adam; return the per-epoch :class:`History`.

    Each epoch shuffles `train_set` with a generator seeded by ``seed + epoch`` (through one seeded
    ``torch.Generator``), minimises ``loss(model(x), y)`` with Adam, then scores the validation set
    with :func:`dice_score` (mean foreground hard Dice per image, averaged over images). With a
    valid-padding network the labels are centre-cropped to the output size.

    Deterministic on the CPU: the same model initialisation (seed it with ``torch.manual_seed``
    before building the model), data and `seed` give identical histories and weights.
    ``torch.use_deterministic_algorithms(True, warn_only=True)`` is switched on during the fit and
    restored afterwards (on CUDA a few kernels, e.g. max-pool backward, have no deterministic
    version: they warn instead of failing).

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, *S)`` to logits ``(N, K, *S_out)``; moved to `device` in place.
    train_set, val_set : torch Dataset
        Items ``(image (C, *S) float tensor, mask (*S) int64 tensor)``, e.g.
        :func:`companion.data.segmentation_dataset`.
    epochs, batch_size : int
    lr : float
        Adam learning rate.
    loss : {"composite", "ce", "dice"} or callable
        Passed to :func:`companion.models.losses.get_loss`: ``(logits, target) -> scalar``.
    seed : int
        Seeds ``torch.manual_seed`` (dropout and the like) and the shuffling generator.
    device : None, str or torch.device
        ``None``: CUDA when present, else CPU.
    progress : bool
        Show a ``tqdm.auto`` progress bar over the epochs.

    Returns
    -------
    History

    Shapes
    ------
    train_set[i] : (image (C, *S), mask (*S));  model(x) : (N, K, *S_out) with S_out <= S.

    Raises
    ------
    TypeError, ValueError
        For a model that is not a Module, an empty training set or bad numbers, naming the argument.

    References
    ----------
    ronneberger2015unet
    """
    from torch.utils.data import DataLoader

    from companion.models.losses import get_loss

    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    epochs = as_int(epochs, "epochs", minimum=1)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    lr = as_positive_float(lr, "lr")
    seed = as_int(seed, "seed", minimum=0)
    for name, ds in (("train_set", train_set), ("val_set", val_set)):
        if ds is None and name == "val_set":
            continue
        if not hasattr(ds, "__getitem__") or not hasattr(ds, "__len__"):
            raise TypeError(f"{name}: expected a map-style Dataset (with __getitem__ and __len__), got {type(ds).__name__}")
        if len(ds) == 0:
            raise ValueError(f"{name}: expected at least one sample, got an empty dataset")
    try:
        loss_fn = get_loss(loss)
    except ValueError:
        raise ValueError(f"loss: expected 'ce', 'composite', 'dice' or a callable (logits, target) -> loss, "
                         f"got {loss!r}") from None
    loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "callable")
    dev = pick_device(device)

    history = History(seed=seed, device=str(dev), epochs=epochs, batch_size=batch_size, lr=lr, loss=loss_name)
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        torch.manual_seed(seed)
        model.to(dev)
        optimiser = torch.optim.Adam(model.parameters(), lr=lr)
        gen = torch.Generator().manual_seed(seed)
        loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=gen, num_workers=0)
        from tqdm.auto import tqdm

        bar = tqdm(range(epochs), desc="fit", disable=not progress, leave=False)
        for _epoch in bar:
            t0 = time.perf_counter()
            model.train()
            total, count = 0.0, 0
            for x, y in loader:
                x, y = x.to(dev), y.to(dev)
                logits = model(x)
                value = loss_fn(logits, _centre_crop_target(y, logits.shape[2:]))
                optimiser.zero_grad(set_to_none=True)
                value.backward()
                optimiser.step()
                total += float(value.detach()) * x.shape[0]
                count += x.shape[0]
            history.train_loss.append(total / count)
            history.val_dice.append(_evaluate(model, val_set, batch_size, dev) if val_set is not None else float("nan"))
            history.seconds.append(time.perf_counter() - t0)
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}", dice=f"{history.val_dice[-1]:.3f}")
        bar.close()
    finally:
        torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)
    model.eval()
    return history


def _evaluate(model: nn.Module, dataset: Any, batch_size: int, dev: torch.device) -> float:
    from torch.utils.data import DataLoader

    was_training = model.training
    model.eval()
    preds, targets = [], []
    with torch.no_grad():
        for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            logits = model(x.to(dev))
            preds.append(logits.argmax(1).cpu().numpy())
            targets.append(_centre_crop_target(y, logits.shape[2:]).cpu().numpy())
            k = logits.shape[1]
    model.train(was_training)
    return _mean_foreground_dice(np.concatenate(preds), np.concatenate(targets), k)


# --------------------------------------------------------------------------- predict
def _batched_input(model: nn.Module, image: Any, name: str) -> tuple[torch.Tensor, bool]:
    t = _as_tensor(image, name)
    dims = _spatial_dims(model)
    if t.ndim == dims + 1:
        return t.unsqueeze(0), True
    if t.ndim == dims + 2:
        return t, False
    raise ValueError(f"{name}: expected (C, *S) or (N, C, *S) with {dims} spatial dims, got shape {tuple(t.shape)}")


def predict_logits(model: nn.Module, image: Any, *, device: Any = None) -> np.ndarray:
    """Logits of `model` in eval mode without gradients: ``(C, *S)`` → ``(K, *S)``, ``(N, C, *S)`` → ``(N, K, *S)``.

    Float32 NumPy out (the model's dtype); the model's train/eval mode is restored afterwards.

    Parameters
    ----------
    model : torch.nn.Module
    image : ndarray or torch.Tensor, float
    device : None, str or torch.device
        ``None``: CUDA when present, else CPU.

    Returns
    -------
    ndarray of float32

    Shapes
    ------
    image : (C, *S) or (N, C, *S);  result : (K, *S_out) or (N, K, *S_out)

    Raises
    ------
    TypeError, ValueError
        For a model that is not a Module, an image that is not a float array or tensor, the wrong
        number of dims, or a size the model refuses (the message names `image`).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    x, single = _batched_input(model, image, "image")
    dev = pick_device(device)
    model.to(dev)
    p = next(model.parameters(), None)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x.to(dev, dtype=p.dtype if p is not None else x.dtype)).cpu().numpy()
    except ValueError as exc:  # e.g. UNet's "x: input size 15: expected a multiple of 2**depth"
        message = str(exc)
        raise ValueError(f"image: {message[3:] if message.startswith('x: ') else message}") from None
    finally:
        model.train(was_training)
    return out[0] if single else out


def predict(model: nn.Module, image: Any, *, device: Any = None) -> np.ndarray:
    """Integer label map ``argmax_k logits``: ``(C, *S)`` → ``(*S)``, ``(N, C, *S)`` → ``(N, *S)``.

    Tensors or arrays in, int64 NumPy out. The model runs in eval mode without gradients, on
    `device` (``None``: CUDA when present, else CPU); its mode is restored afterwards.

    Parameters
    ----------
    model, image, device
        As in :func:`predict_logits`.

    Returns
    -------
    ndarray of int64

    Shapes
    ------
    image : (C, *S) or (N, C, *S);  result : (*S_out) or (N, *S_out)

    Raises
    ------
    TypeError, ValueError
        As :func:`predict_logits`.

    Examples
    --------
    >>> net = torch.nn.Conv2d(1, 3, 1)
    >>> predict(net, np.zeros((1, 8, 8), np.float32)).shape
    (8, 8)
    """
    logits = predict_logits(model, image, device=device)
    single = logits.ndim == _spatial_dims(model) + 1
    return logits.argmax(axis=0 if single else 1).astype(np.int64)


# --------------------------------------------------------------------------- sliding window
def gaussian_importance_map(roi_size: Sequence[int], sigma_scale: float = 0.125) -> np.ndarray:
    """Separable Gaussian weights over a window: ``w(x) = prod_i exp(-(x_i - c_i)^2 / (2 σ_i^2))``.

    ``c_i = (r_i - 1) / 2``, ``σ_i = sigma_scale · r_i``; values below ``max(min w, 1e-3)`` are
    raised to it, as in MONAI's ``compute_importance_map(mode="gaussian")``.

    Parameters
    ----------
    roi_size : int or sequence of int
        Window size, one entry per spatial axis.
    sigma_scale : float, default 0.125
        ``σ_i / r_i``, > 0.

    Returns
    -------
    ndarray of float32

    Shapes
    ------
    result : roi_size

    Raises
    ------
    TypeError, ValueError
        For sizes < 1 or a non-positive `sigma_scale`.

    >>> w = gaussian_importance_map((5, 5))
    >>> w.shape, float(w[2, 2])
    ((5, 5), 1.0)
    """
    if isinstance(roi_size, (int, np.integer)):
        roi_size = (roi_size,)
    roi = tuple(as_int(r, "roi_size", minimum=1) for r in roi_size)
    sigma_scale = as_positive_float(sigma_scale, "sigma_scale")
    w = np.ones((), dtype=np.float32)
    for r in roi:
        x = np.arange(r, dtype=np.float32) - (r - 1) / 2.0
        g = np.exp(x**2 / (-2 * np.float32(sigma_scale * r) ** 2)).astype(np.float32)
        w = np.multiply.outer(w, g)
    return np.maximum(w, max(float(w.min()), 1e-3)).astype(np.float32)


def window_starts(size: int, roi: int, overlap: float) -> list[int]:
    """Start indices of sliding windows along one axis (MONAI's grid).

    Step ``max(1, int(roi (1 - overlap)))`` (or `roi` when ``roi == size``), as many windows as
    needed to reach the end, the last one shifted back to end exactly at `size`.

    Raises
    ------
    ValueError
        For sizes < 1, ``roi > size`` or an overlap outside [0, 1).

    >>> window_starts(10, 4, 0.5)
    [0, 2, 4, 6]
    """
    size, roi = as_int(size, "size", minimum=1), as_int(roi, "roi", minimum=1)
    if roi > size:
        raise ValueError(f"roi: expected at most size = {size}, got {roi}")
    if isinstance(overlap, bool) or not isinstance(overlap, (int, float)) or not 0 <= overlap < 1:
        raise ValueError(f"overlap: expected a number in [0, 1), got {overlap!r}")
    step = roi if roi == size else max(1, int(roi * (1 - overlap)))
    n = next(d for d in range(size + 1) if d * step + roi >= size) + 1
    return [min(i * step, size - roi) for i in range(n)]


def sliding_window_logits(model: nn.Module, volume: Any, roi_size: Sequence[int] | int, *, overlap: float = 0.5,
                          gaussian: bool = True, sigma_scale: float = 0.125, device: Any = None) -> np.ndarray:
    """Blend the logits of overlapping windows: ``out = Σ_w m_w · f(x_w) / Σ_w m_w``.

    Windows of `roi_size` tile `volume` on :func:`window_starts`'s grid; each window's logits are
    weighted by :func:`gaussian_importance_map` (or 1 with ``gaussian=False``), so voxels near a
    window's centre, where the network saw the most context, count more. Equal to MONAI
    ``sliding_window_inference(..., overlap, mode="gaussian", sigma_scale)`` on the same model.

    Parameters
    ----------
    model : torch.nn.Module
        Must map a window to logits of the same spatial size ("same" padding).
    volume : array or tensor, ``(C, *S)`` or ``(N, C, *S)``
        Each spatial size must be at least the window's.
    roi_size : int or tuple of int
        Window size (the training patch size).
    overlap : float in [0, 1)

    Returns
    -------
    ndarray of float32, ``(K, *S)`` or ``(N, K, *S)``

    Shapes
    ------
    volume : (C, *S) or (N, C, *S);  roi_size : len(S) sizes;  result : (K, *S) or (N, K, *S)

    Raises
    ------
    ValueError
        For a window larger than the volume, an overlap outside [0, 1), a window size the model
        refuses (e.g. not divisible by ``2**depth``), or a model that changes the window's size.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    x, single = _batched_input(model, volume, "volume")
    dims = x.ndim - 2
    spatial = tuple(x.shape[2:])
    if isinstance(roi_size, (int, np.integer)):
        roi_size = (int(roi_size),) * dims
    roi = tuple(as_int(r, "roi_size", minimum=1) for r in roi_size)
    if len(roi) != dims:
        raise ValueError(f"roi_size: expected {dims} sizes, got {len(roi)}: {roi}")
    if any(r > s for r, s in zip(roi, spatial)):
        raise ValueError(f"roi_size: expected each size <= the volume's {spatial}, got {roi}")
    if isinstance(overlap, bool) or not isinstance(overlap, (int, float)) or not 0 <= overlap < 1:
        raise ValueError(f"overlap: expected a number in [0, 1), got {overlap!r}")
    weight = gaussian_importance_map(roi, sigma_scale) if gaussian else np.ones(roi, np.float32)
    starts = [window_starts(s, r, overlap) for s, r in zip(spatial, roi)]
    dev = pick_device(device)
    model.to(dev)
    was_training = model.training
    model.eval()
    w_t = torch.from_numpy(weight).to(dev)
    out = None
    norm = torch.zeros(spatial, device=dev)
    try:
        with torch.no_grad():
            for corner in np.ndindex(*[len(s) for s in starts]):
                idx = tuple(slice(starts[a][i], starts[a][i] + roi[a]) for a, i in enumerate(corner))
                try:
                    y = model(x[(slice(None), slice(None)) + idx].to(dev, dtype=torch.float32))
                except ValueError as exc:
                    message = str(exc)
                    raise ValueError(f"roi_size: the model refuses a window of {roi}: "
                                     f"{message[3:] if message.startswith('x: ') else message}") from None
                if tuple(y.shape[2:]) != roi:
                    raise ValueError(f"model: expected logits of the window's size {roi}, got {tuple(y.shape[2:])} "
                                     "(sliding windows need a 'same'-padding model)")
                if out is None:
                    out = torch.zeros((x.shape[0], y.shape[1]) + spatial, device=dev)
                out[(slice(None), slice(None)) + idx] += y * w_t
                norm[idx] += w_t
    finally:
        model.train(was_training)
    result = (out / norm).cpu().numpy().astype(np.float32)
    return result[0] if single else result


def sliding_window_predict(model: nn.Module, volume: Any, roi_size: Sequence[int] | int, *, overlap: float = 0.5,
                           gaussian: bool = True, device: Any = None) -> np.ndarray:
    """Label map of a volume larger than the training patches, by Gaussian-weighted sliding windows.

    ``argmax_k`` of :func:`sliding_window_logits`: ``(C, *S)`` → ``(*S)``, ``(N, C, *S)`` → ``(N, *S)``, int64.

    Parameters
    ----------
    model, volume, roi_size, overlap, gaussian, device
        As in :func:`sliding_window_logits`.

    Returns
    -------
    ndarray of int64

    Shapes
    ------
    volume : (C, *S) or (N, C, *S);  result : (*S) or (N, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`sliding_window_logits`.

    Examples
    --------
    >>> net = torch.nn.Conv3d(1, 2, 1)
    >>> sliding_window_predict(net, np.zeros((1, 6, 20, 20), np.float32), (4, 8, 8)).shape
    (6, 20, 20)
    """
    logits = sliding_window_logits(model, volume, roi_size, overlap=overlap, gaussian=gaussian, device=device)
    single = logits.ndim == _spatial_dims(model) + 1
    return logits.argmax(axis=0 if single else 1).astype(np.int64)


# --------------------------------------------------------------------------- test-time remedies, augmentation
def predict_resampled(model: Any, image: Any, spacing: Sequence[float], train_spacing: Sequence[float], *,
                      multiple: int = 8) -> np.ndarray:
    """Predict an image at the spacing the model was trained on, and return labels on its own grid.

    The header's `spacing` tells how large a pixel is; the image is resampled (linear,
    :func:`companion.geometry.resample`) to `train_spacing`, zero-padded at the bottom and right
    to a multiple of `multiple`, predicted, and the label map is resampled back to the input grid
    (nearest neighbour, sample ``j`` at ``j * spacing`` mm). nnU-Net resamples every case to one
    target spacing this way.

    Parameters
    ----------
    model : torch.nn.Module
        A 2-D segmentation network.
    image : ndarray of float, (H, W)
    spacing, train_spacing : (float, float)
        ``(row, col)`` pixel spacing in mm of the image and of the training data.
    multiple : int, default 8
        ``2**depth`` of the U-Net.

    Returns
    -------
    ndarray of int64, (H, W)

    Shapes
    ------
    image : (H, W);  result : (H, W)

    Raises
    ------
    TypeError, ValueError
        Naming `model`, `image`, `spacing`, `train_spacing` or `multiple`.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Conv2d(1, 2, 1)
    >>> predict_resampled(net, np.zeros((10, 12), np.float32), (2.0, 2.0), (1.0, 1.0)).shape
    (10, 12)
    """
    from companion.geometry import resample

    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    x = as_float_array(image, "image", ndim=2)
    multiple = as_int(multiple, "multiple", minimum=1)
    sp = as_float_array(spacing, "spacing", ndim=1).astype(np.float64)
    tr = as_float_array(train_spacing, "train_spacing", ndim=1).astype(np.float64)
    for name, v in (("spacing", sp), ("train_spacing", tr)):
        if v.size != 2 or not np.all(np.isfinite(v)) or np.any(v <= 0):
            raise ValueError(f"{name}: expected two spacings > 0 (mm), got {v.tolist()}")
    r = resample(x, sp, tr, order=1)
    padded = np.pad(r, [(0, -n % multiple) for n in r.shape])
    pred = predict(model, padded[None].astype(np.float32))[: r.shape[0], : r.shape[1]]
    # back to the input grid: input pixel j sits at j * spacing mm = (j * spacing / train_spacing) in r
    idx = [np.minimum(np.floor(np.arange(n) * s / t + 0.5).astype(np.int64), m - 1)
           for n, s, t, m in zip(x.shape, sp, tr, r.shape)]
    return pred[np.ix_(*idx)].astype(np.int64)


def predict_tta(model: Any, images: Any) -> np.ndarray:
    """Test-time augmentation: softmax probabilities averaged over the four flips of each image.

    ``p(x) = 1/4 Σ_F F^{-1}(softmax(model(F x)))`` for ``F`` in {identity, vertical flip,
    horizontal flip, both}: each prediction is flipped back before averaging. The flips are exact
    symmetries of the task, so the average keeps what the model knows and cancels part of what
    it does not (nnU-Net mirrors at test time the same way).

    Parameters
    ----------
    model : torch.nn.Module
        A 2-D segmentation network.
    images : ndarray of float, (N, C, H, W)

    Returns
    -------
    ndarray of float64, (N, K, H, W)
        Averaged probabilities (each pixel's sum over K is 1).

    Shapes
    ------
    images : (N, C, H, W);  result : (N, K, H, W)

    Raises
    ------
    TypeError, ValueError
        Naming `model` or `images`.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Conv2d(1, 2, 1)
    >>> p = predict_tta(net, np.zeros((1, 1, 4, 4), np.float32))
    >>> p.shape, bool(np.allclose(p.sum(1), 1))
    ((1, 2, 4, 4), True)
    """
    from companion.losses import softmax

    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    x = as_float_array(images, "images", ndim=4)
    total = 0.0
    for axes in ((), (2,), (3,), (2, 3)):
        flipped = np.ascontiguousarray(np.flip(x, axes)) if axes else x
        probs = softmax(predict_logits(model, flipped.astype(np.float32)).astype(np.float64))
        total = total + (np.flip(probs, axes) if axes else probs)
    return total / 4


class AugmentedDataset:
    """A segmentation dataset seen through random augmentation (and optionally the z-score).

    Every ``dataset[i]`` draws a fresh augmentation from one seeded generator
    (:func:`companion.intensity.augment`), so a training run that reads the items in a seeded
    order (``fit(..., seed=...)``, ``num_workers=0``) is reproducible.

    Parameters
    ----------
    dataset : sequence of (image (1, H, W) tensor, mask (H, W) tensor)
        E.g. :func:`companion.data.segmentation_dataset`.
    seed : int
        Seed of the augmentation generator.
    normalise : bool, default False
        Apply :func:`companion.intensity.zscore` after the augmentation (for a model trained on z-scored images).
    **augment_kwargs
        Passed to :func:`companion.intensity.augment` (probabilities and ranges).

    Examples
    --------
    >>> from companion.data import segmentation_dataset
    >>> ds = AugmentedDataset(segmentation_dataset(2, 16, seed=0), seed=1, normalise=True)
    >>> x, y = ds[0]
    >>> tuple(x.shape), tuple(y.shape), len(ds)
    ((1, 16, 16), (16, 16), 2)
    """

    def __init__(self, dataset: Any, seed: int, *, normalise: bool = False, **augment_kwargs: Any) -> None:
        from companion.intensity import augment

        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"dataset: expected a sequence of (image, mask) pairs, got {type(dataset).__name__}")
        self.dataset, self.normalise, self.kwargs = dataset, bool(normalise), augment_kwargs
        self.rng = np.random.default_rng(as_int(seed, "seed", minimum=0))
        augment(np.zeros((2, 2)), np.zeros((2, 2), int), np.random.default_rng(0), **augment_kwargs)  # check them now

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int):
        from companion.intensity import augment, zscore

        image, mask = self.dataset[i]
        x = image.numpy() if hasattr(image, "numpy") else np.asarray(image)
        y = mask.numpy() if hasattr(mask, "numpy") else np.asarray(mask)
        xa, ya = augment(x[0], y, self.rng, **self.kwargs)
        if self.normalise:
            xa = zscore(xa)
        return torch.from_numpy(np.ascontiguousarray(xa[None], dtype=x.dtype)), torch.from_numpy(np.ascontiguousarray(ya))
