"""Segmentation losses in NumPy: softmax, cross-entropy, soft Dice and their gradients.

A segmentation network outputs ``logits (N, K, *S)``: K raw scores per voxel. The losses below
compare them with an integer label map ``target (N, *S)`` (values in ``[0, K)``).

- :func:`softmax`, :func:`log_softmax` — numerically stable (finite for ``|z| >= 1e4``).
- :func:`cross_entropy` — the negative log-likelihood of a per-voxel categorical model; equal to
  ``torch.nn.functional.cross_entropy`` (class weights, reductions ``mean``/``sum``/``none``).
- :func:`cross_entropy_grad` — ``dCE/dz = (softmax(z) - onehot(y)) * w[y] / normaliser``.
- :func:`soft_dice`, :func:`soft_dice_grad` — ``D = (2 Σ p y + eps) / (Σ p + Σ y + eps)`` and
  ``dD/dp_i = (2 y_i - D) / (Σ p + Σ y + eps)``.
- :func:`dice_loss`, :func:`dice_loss_grad` — ``1 - mean D`` of the softmax probabilities; equal to
  MONAI ``DiceLoss(softmax=True, to_onehot_y=True, smooth_nr=eps, smooth_dr=eps)``.
- :func:`composite_loss`, :func:`composite_loss_grad` — ``alpha * CE + beta * Dice loss``; equal to
  MONAI ``DiceCELoss(lambda_ce=alpha, lambda_dice=beta)``.
- ``squared_pred=True`` (in :func:`soft_dice`, :func:`dice_loss` and their gradients) — the V-Net
  denominator ``Σ p² + Σ y²`` of Milletari et al. 2016; equal to MONAI's ``squared_pred=True``.
- :func:`generalized_dice_loss` — Sudre et al. 2017, class weights ``1 / (Σ y)²``; equal to MONAI
  ``GeneralizedDiceLoss(w_type="square")``.
- :func:`tversky_loss` — ``1 - mean (TP + eps) / (TP + alpha FP + beta FN + eps)`` (Salehi et al.
  2017); equal to MONAI ``TverskyLoss``.
- :func:`focal_loss` — ``-w_y (1 - p_y)^gamma log p_y`` (Lin et al. 2017), reduced like
  :func:`cross_entropy`; ``gamma = 0`` is cross-entropy.

The torch twins, for training, are in :mod:`companion.models.losses`.

References
----------
milletari2016vnet, sudre2017generalised, salehi2017tversky, lin2017focal, gneiting2007strictly
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion._validation import (as_bool, as_choice, as_class_labels, as_class_scores, as_float_array, as_int,
                                  as_positive_float)

__all__ = [
    "softmax", "log_softmax", "one_hot", "cross_entropy", "cross_entropy_grad", "soft_dice",
    "soft_dice_grad", "dice_loss", "dice_loss_grad", "composite_loss", "composite_loss_grad",
    "generalized_dice_loss", "tversky_loss", "focal_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


# --------------------------------------------------------------------------------------------
# Private checkers
# --------------------------------------------------------------------------------------------

def _as_axis(axis: Any, ndim: int) -> int:
    axis = as_int(axis, "axis")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis: expected an axis in [{-ndim}, {ndim}) of z with {ndim} dims, got {axis}")
    return axis


def _as_probs_onehot(probs: Any, onehot: Any) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities ``(N, K, *S)`` with a spatial axis, and a one-hot target of their shape and dtype."""
    p = as_float_array(probs, "probs")
    if p.ndim < 3:
        raise ValueError(f"probs: expected (N, K, *S) with at least 3 dims, got shape {p.shape}")
    y = as_float_array(onehot, "onehot").astype(p.dtype, copy=False)
    if y.shape != p.shape:
        raise ValueError(f"onehot: expected shape {p.shape} (same as probs), got {y.shape}")
    return p, y


def _as_weight(weight: Any, k: int, dtype: np.dtype) -> np.ndarray | None:
    if weight is None:
        return None
    w = as_float_array(weight, "weight")
    if w.shape != (k,):
        raise ValueError(f"weight: expected shape ({k},), one weight per class, got {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError(f"weight: expected finite non-negative class weights, got {w}")
    return w.astype(dtype, copy=False)


def _as_reduction(reduction: Any) -> str:
    return as_choice(reduction, "reduction", _REDUCTIONS, expected="'mean', 'sum' or 'none'")


# --------------------------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------------------------

def softmax(z: Any, axis: int = 1) -> np.ndarray:
    """Softmax along `axis`, stable for any finite input.

    ``softmax(z)_k = exp(z_k - m) / Σ_j exp(z_j - m)`` with ``m = max_j z_j``: subtracting the
    maximum changes nothing mathematically and keeps every exponent ``<= 0``, so nothing
    overflows (``exp(1e4)`` would be ``inf`` in float64).

    Parameters
    ----------
    z : ndarray of float32 or float64
        Logits.
    axis : int, default 1
        The class axis (axis 1 in ``(N, K, *S)``).

    Returns
    -------
    ndarray
        Probabilities, non-negative, summing to 1 along `axis`; dtype of `z`.

    Shapes
    ------
    z : any shape with `axis`;  result : the same.

    Raises
    ------
    TypeError
        If `z` is not real numeric data.
    ValueError
        If `axis` is not an axis of `z`.

    Examples
    --------
    >>> softmax(np.array([[1e4, 0.0, -1e4]]), axis=1).round(3)
    array([[1., 0., 0.]])
    """
    z = as_float_array(z, "z")
    axis = _as_axis(axis, z.ndim)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z: Any, axis: int = 1) -> np.ndarray:
    """Log of the softmax, computed without forming the softmax: ``z - m - log Σ exp(z - m)``.

    ``log(softmax(z))`` would give ``log(0) = -inf`` for a logit 1e4 below the maximum; this
    form gives the exact finite value ``-1e4``.

    Shapes
    ------
    z : any shape with `axis`;  result : the same.

    Examples
    --------
    >>> log_softmax(np.array([[1e4, 0.0]]), axis=1)
    array([[     0., -10000.]])
    """
    z = as_float_array(z, "z")
    axis = _as_axis(axis, z.ndim)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def one_hot(target: Any, num_classes: int, *, dtype: Any = np.float64) -> np.ndarray:
    """One-hot encoding with the class axis at position 1: ``(N, *S)`` → ``(N, K, *S)``.

    Raises
    ------
    TypeError
        If `target` is not an integer array.
    ValueError
        If a label is outside ``[0, num_classes)``.
    """
    k = as_int(num_classes, "num_classes", minimum=1)
    t = np.asarray(target.detach().cpu().numpy() if hasattr(target, "detach") else target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"target: expected an integer array of class labels (int64), got dtype {t.dtype}")
    if t.ndim < 1:
        raise ValueError(f"target: expected (N, *S) with at least 1 dim, got shape {t.shape}")
    if t.size and (t.min() < 0 or t.max() >= k):
        raise ValueError(f"target: expected class labels in [0, {k}) for K={k} classes, "
                         f"got values in [{t.min()}, {t.max()}]")
    eye = np.eye(k, dtype=dtype)
    return np.moveaxis(eye[t], -1, 1)


# --------------------------------------------------------------------------------------------
# Cross-entropy
# --------------------------------------------------------------------------------------------

def cross_entropy(logits: Any, target: Any, *, weight: Any = None, reduction: str = "mean") -> np.ndarray:
    """Cross-entropy (negative log-likelihood) of integer labels under softmax probabilities.

    Per voxel ``l_i = -w[y_i] log softmax(z_i)[y_i]``. ``"sum"`` gives ``Σ_i l_i``; ``"mean"``
    gives ``Σ_i l_i / Σ_i w[y_i]`` (the weighted mean torch uses, which is the plain mean over
    all N·S voxels when `weight` is None); ``"none"`` gives the map of ``l_i``.

    Parameters
    ----------
    logits : ndarray of float32 or float64
        Raw scores, one channel per class.
    target : ndarray of int
        The class label of each voxel, in ``[0, K)``.
    weight : ndarray, optional
        One non-negative weight per class (e.g. inverse class frequency).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    ndarray
        0-d array (``"mean"``, ``"sum"``) or the per-voxel map (``"none"``), dtype of `logits`.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S);  weight : (K,);  result : () or (N, *S)

    Raises
    ------
    TypeError
        If `logits` is not a float array or `target` not an integer array.
    ValueError
        Shape mismatch, labels outside ``[0, K)``, a bad `weight` or `reduction`.

    See Also
    --------
    cross_entropy_grad, companion.models.losses.cross_entropy

    Examples
    --------
    >>> z = np.array([[2.0, 0.0]])            # one voxel, two classes
    >>> float(cross_entropy(z, np.array([0])).round(4))   # -log(e^2 / (e^2 + 1))
    0.1269
    """
    z = as_class_scores(logits, "logits", min_dims=2)
    t = as_class_labels(target, z)
    w = _as_weight(weight, z.shape[1], z.dtype)
    reduction = _as_reduction(reduction)
    logp = log_softmax(z, axis=1)
    nll = -np.take_along_axis(logp, t[:, None], axis=1)[:, 0]
    wy = None if w is None else w[t]
    if wy is not None:
        nll = nll * wy
    if reduction == "none":
        return nll
    if reduction == "sum":
        return np.asarray(nll.sum(), dtype=z.dtype)
    denom = nll.size if wy is None else wy.sum()
    return np.asarray(nll.sum() / denom, dtype=z.dtype)


def cross_entropy_grad(logits: Any, target: Any, *, weight: Any = None, reduction: str = "mean",
                       grad_out: Any = None) -> np.ndarray:
    """Gradient of :func:`cross_entropy` with respect to the logits.

    ``∂l_i/∂z_i = w[y_i] (softmax(z_i) - onehot(y_i))``, divided by ``Σ_i w[y_i]`` (or N·S) for
    ``"mean"``. For ``"none"`` the result is the gradient of ``Σ_i grad_out_i l_i``.

    Parameters
    ----------
    logits, target, weight, reduction
        As in :func:`cross_entropy`.
    grad_out : float or ndarray, optional
        Upstream gradient: a scalar for ``"mean"``/``"sum"`` (default 1), a ``(N, *S)`` map for
        ``"none"`` (default ones).

    Returns
    -------
    ndarray
        ``dL/dz``, dtype of `logits`.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S);  result : (N, K, *S)

    Examples
    --------
    >>> z, y = np.array([[2.0, 0.0]]), np.array([0])
    >>> cross_entropy_grad(z, y).round(4)      # softmax(z) - onehot(y)
    array([[-0.1192,  0.1192]])
    """
    z = as_class_scores(logits, "logits", min_dims=2)
    t = as_class_labels(target, z)
    w = _as_weight(weight, z.shape[1], z.dtype)
    reduction = _as_reduction(reduction)
    grad = softmax(z, axis=1) - one_hot(t, z.shape[1], dtype=z.dtype)
    wy = np.ones(t.shape, dtype=z.dtype) if w is None else w[t]
    if reduction == "none":
        g = np.ones(t.shape, dtype=z.dtype) if grad_out is None else as_float_array(grad_out, "grad_out")
        if g.shape != t.shape:
            raise ValueError(f"grad_out: expected shape {t.shape} for reduction='none', got {g.shape}")
        scale = wy * g
    else:
        g = 1.0 if grad_out is None else float(as_float_array(grad_out, "grad_out", ndim=0))
        scale = wy * g if reduction == "sum" else wy * (g / wy.sum())
    return (grad * scale[:, None]).astype(z.dtype, copy=False)


# --------------------------------------------------------------------------------------------
# Soft Dice
# --------------------------------------------------------------------------------------------

def _dice_axes(ndim: int, batch: bool) -> tuple[int, ...]:
    return ((0,) if batch else ()) + tuple(range(2, ndim))


def _dice_denominator(p: np.ndarray, y: np.ndarray, axes: tuple[int, ...], squared: bool, *,
                      keepdims: bool) -> np.ndarray:
    """``Σ p + Σ y`` (linear form) or ``Σ p² + Σ y²`` (V-Net's squared form) over `axes`."""
    if squared:
        return np.sum(p * p, axis=axes, keepdims=keepdims) + np.sum(y * y, axis=axes, keepdims=keepdims)
    return np.sum(p, axis=axes, keepdims=keepdims) + np.sum(y, axis=axes, keepdims=keepdims)


def soft_dice(probs: Any, onehot: Any, eps: float = 1e-5, *, batch: bool = False,
              squared_pred: bool = False) -> np.ndarray:
    """Soft Dice overlap for each sample and class.

    ``D = (2 Σ p·y + eps) / (Σ p + Σ y + eps)``, sums over the spatial axes (and the batch axis
    when `batch`). With hard 0/1 inputs and ``eps = 0`` it is the Dice coefficient
    ``2|P ∩ Y| / (|P| + |Y|)``. With `squared_pred` the denominator is V-Net's
    ``Σ p² + Σ y² + eps`` (Milletari et al. 2016; MONAI's ``squared_pred=True``); for 0/1 inputs
    the two forms agree.

    Parameters
    ----------
    probs : ndarray of float32 or float64
        Class probabilities, e.g. ``softmax(logits, axis=1)``.
    onehot : ndarray
        One-hot reference labels, same shape as `probs`.
    eps : float, default 1e-5
        Smoothing; a class absent from both arrays scores 1 instead of 0/0.
    batch : bool, default False
        Sum over the batch too, giving one Dice per class.
    squared_pred : bool, default False
        Square predictions and labels in the denominator (V-Net's form).

    Returns
    -------
    ndarray
        Dice per (sample, class), or per class with `batch`; dtype of `probs`.

    Shapes
    ------
    probs, onehot : (N, K, *S);  result : (N, K), or (K,) with `batch`

    Raises
    ------
    TypeError
        If `probs` is not a float32 or float64 array.
    ValueError
        If `probs` has fewer than 3 dims or `onehot` has a different shape.

    Examples
    --------
    >>> p = np.array([[[0.9, 0.8, 0.1, 0.0]]])     # (N=1, K=1, L=4)
    >>> y = np.array([[[1.0, 1.0, 0.0, 0.0]]])
    >>> soft_dice(p, y, eps=0).round(4)              # 2 * 1.7 / (1.8 + 2)
    array([[0.8947]])
    """
    p, y = _as_probs_onehot(probs, onehot)
    eps = as_positive_float(eps, "eps", allow_zero=True)
    axes = _dice_axes(p.ndim, as_bool(batch, "batch"))
    overlap = np.sum(p * y, axis=axes)
    denom = _dice_denominator(p, y, axes, as_bool(squared_pred, "squared_pred"), keepdims=False)
    return ((2 * overlap + eps) / (denom + eps)).astype(p.dtype, copy=False)


def soft_dice_grad(probs: Any, onehot: Any, eps: float = 1e-5, *, batch: bool = False,
                   squared_pred: bool = False, grad_out: Any = None) -> np.ndarray:
    """Gradient of ``Σ grad_out · soft_dice(probs, onehot)`` with respect to `probs`.

    With ``I = Σ p y`` and ``U = Σ p + Σ y + eps``, ``D = (2I + eps)/U`` and
    ``∂D/∂p_i = (2 y_i U - (2I + eps)) / U² = (2 y_i - D) / U``: a foreground voxel
    (``y_i = 1``) is pushed up by ``(2 - D)/U``, a background voxel down by ``D/U``. ``U`` is
    about twice the foreground size, whatever the size of the image. With `squared_pred`
    (``U = Σ p² + Σ y² + eps``) it is ``(2 y_i - 2 p_i D) / U``.

    Parameters
    ----------
    probs, onehot, eps, batch, squared_pred
        As in :func:`soft_dice`.
    grad_out : ndarray, optional
        Upstream gradient per Dice value, shape of the result of :func:`soft_dice` (default ones).

    Returns
    -------
    ndarray
        ``∂/∂p``, same shape and dtype as `probs`.

    Shapes
    ------
    probs, onehot : (N, K, *S);  grad_out : (N, K) or (K,);  result : (N, K, *S)
    """
    p, y = _as_probs_onehot(probs, onehot)
    eps = as_positive_float(eps, "eps", allow_zero=True)
    axes = _dice_axes(p.ndim, as_bool(batch, "batch"))
    squared = as_bool(squared_pred, "squared_pred")
    u = _dice_denominator(p, y, axes, squared, keepdims=True) + eps
    d = (2 * np.sum(p * y, axis=axes, keepdims=True) + eps) / u
    want = tuple(np.squeeze(d, axis=axes).shape)
    g = np.ones(want, dtype=p.dtype) if grad_out is None else as_float_array(grad_out, "grad_out")
    if g.shape != want:
        raise ValueError(f"grad_out: expected shape {want}, one per Dice value, got {g.shape}")
    g = g.reshape(d.shape)
    d_term = 2 * p * d if squared else d
    return ((2 * y - d_term) / u * g).astype(p.dtype, copy=False)


def _softmax_backward(probs: np.ndarray, grad_p: np.ndarray) -> np.ndarray:
    """Chain rule through softmax on axis 1: ``∂/∂z_k = p_k (g_k - Σ_j p_j g_j)``."""
    return probs * (grad_p - np.sum(probs * grad_p, axis=1, keepdims=True))


def _dice_parts(logits: Any, target: Any, eps: float, include_background: bool):
    z = as_class_scores(logits, "logits", min_dims=3)
    t = as_class_labels(target, z)
    eps = as_positive_float(eps, "eps", allow_zero=True)
    include_background = as_bool(include_background, "include_background")
    if not include_background and z.shape[1] < 2:
        raise ValueError(f"include_background: False needs K >= 2 classes, got K={z.shape[1]}")
    p = softmax(z, axis=1)
    y = one_hot(t, z.shape[1], dtype=z.dtype)
    first = 0 if include_background else 1
    return z, p, y, first, eps


def dice_loss(logits: Any, target: Any, *, eps: float = 1e-5, include_background: bool = True,
              batch: bool = False, squared_pred: bool = False) -> np.ndarray:
    """Soft Dice loss ``1 - mean_{n,k} D_{n,k}`` of the softmax probabilities.

    ``p = softmax(logits)``, ``y = onehot(target)``, ``D`` from :func:`soft_dice`. Equal to MONAI
    ``DiceLoss(softmax=True, to_onehot_y=True, smooth_nr=eps, smooth_dr=eps,
    include_background=include_background, batch=batch)`` called as ``loss(logits, target[:, None])``:
    MONAI wants the label map with a channel axis, ``(N, 1, *S)``; we take ``(N, *S)`` like
    ``F.cross_entropy``.

    Parameters
    ----------
    logits : ndarray of float32 or float64
    target : ndarray of int
    eps : float, default 1e-5
        Added to numerator and denominator (MONAI's ``smooth_nr`` and ``smooth_dr``).
    include_background : bool, default True
        With False, class 0 is left out of the mean (MONAI's option of the same name).
    batch : bool, default False
        Sum over the batch before dividing: one Dice per class for the whole batch.
    squared_pred : bool, default False
        V-Net's denominator ``Σ p² + Σ y²`` (MONAI's option of the same name).

    Returns
    -------
    ndarray
        0-d loss in ``[0, 1]``, dtype of `logits`.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`cross_entropy`; also ``include_background=False`` with one class.

    See Also
    --------
    soft_dice, dice_loss_grad, companion.models.losses.dice_loss

    References
    ----------
    milletari2016vnet
    """
    z, p, y, first, eps = _dice_parts(logits, target, eps, include_background)
    d = soft_dice(p[:, first:], y[:, first:], eps, batch=batch, squared_pred=squared_pred)
    return np.asarray(1 - d.mean(), dtype=z.dtype)


def dice_loss_grad(logits: Any, target: Any, *, eps: float = 1e-5, include_background: bool = True,
                   batch: bool = False, squared_pred: bool = False) -> np.ndarray:
    """Gradient of :func:`dice_loss` with respect to the logits (through softmax).

    ``∂L/∂p = -(2y - D)/(U · M)`` from :func:`soft_dice_grad` (``M`` Dice values in the mean), then
    ``∂L/∂z_k = p_k (∂L/∂p_k - Σ_j p_j ∂L/∂p_j)``.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S);  result : (N, K, *S)
    """
    z, p, y, first, eps = _dice_parts(logits, target, eps, include_background)
    n_values = (1 if batch else z.shape[0]) * (z.shape[1] - first)
    grad_p = np.zeros_like(p)
    grad_p[:, first:] = -soft_dice_grad(p[:, first:], y[:, first:], eps, batch=batch,
                                        squared_pred=squared_pred) / n_values
    return _softmax_backward(p, grad_p).astype(z.dtype, copy=False)


def composite_loss(logits: Any, target: Any, *, alpha: float = 1.0, beta: float = 1.0, eps: float = 1e-5,
                   include_background: bool = True, batch: bool = False) -> np.ndarray:
    """Composite loss ``alpha * cross_entropy + beta * dice_loss``.

    Cross-entropy is the plain mean over every voxel and class label; `include_background` and
    `batch` apply to the Dice term only. Equal to MONAI ``DiceCELoss(softmax=True,
    to_onehot_y=True, lambda_ce=alpha, lambda_dice=beta, smooth_nr=eps, smooth_dr=eps,
    include_background=..., batch=...)(logits, target[:, None])``.

    Parameters
    ----------
    logits : ndarray of float32 or float64
    target : ndarray of int
        Class labels in ``[0, K)``, without a channel axis (MONAI wants ``target[:, None]``).
    alpha : float, default 1.0
        Weight of the cross-entropy term (MONAI's ``lambda_ce``), ``>= 0``.
    beta : float, default 1.0
        Weight of the Dice term (MONAI's ``lambda_dice``), ``>= 0``.
    eps : float, default 1e-5
        Dice smoothing in numerator and denominator (MONAI's ``smooth_nr`` and ``smooth_dr``).
    include_background : bool, default True
        Dice term only: with False class 0 is left out of the Dice mean (MONAI: same name). The
        cross-entropy always covers every class, as in MONAI.
    batch : bool, default False
        Dice term only: sum over the batch before dividing (MONAI: same name).

    Returns
    -------
    ndarray
        0-d loss, dtype of `logits`.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`cross_entropy` and :func:`dice_loss` (labels outside ``[0, K)``, a target shape
        other than ``(N, *S)``), and for a negative `alpha` or `beta`.

    See Also
    --------
    cross_entropy, dice_loss, composite_loss_grad, companion.models.losses.composite_loss

    Examples
    --------
    >>> z = np.array([[[2.0, -1.0], [0.0, 1.0]]])        # (N=1, K=2, L=2)
    >>> y = np.array([[0, 1]])
    >>> bool(np.isclose(composite_loss(z, y, alpha=0.5, beta=2.0),
    ...                 0.5 * cross_entropy(z, y) + 2.0 * dice_loss(z, y)))
    True
    """
    alpha = as_positive_float(alpha, "alpha", allow_zero=True)
    beta = as_positive_float(beta, "beta", allow_zero=True)
    dl = dice_loss(logits, target, eps=eps, include_background=include_background, batch=batch)
    ce = cross_entropy(logits, target)
    return np.asarray(alpha * ce + beta * dl, dtype=dl.dtype)


def composite_loss_grad(logits: Any, target: Any, *, alpha: float = 1.0, beta: float = 1.0,
                        eps: float = 1e-5, include_background: bool = True, batch: bool = False) -> np.ndarray:
    """Gradient of :func:`composite_loss`: ``alpha * cross_entropy_grad + beta * dice_loss_grad``.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S);  result : (N, K, *S)
    """
    alpha = as_positive_float(alpha, "alpha", allow_zero=True)
    beta = as_positive_float(beta, "beta", allow_zero=True)
    gd = dice_loss_grad(logits, target, eps=eps, include_background=include_background, batch=batch)
    gc = cross_entropy_grad(logits, target)
    return (alpha * gc + beta * gd).astype(gd.dtype, copy=False)


# --------------------------------------------------------------------------------------------
# Generalised Dice, Tversky, focal
# --------------------------------------------------------------------------------------------

def generalized_dice_loss(logits: Any, target: Any, *, eps: float = 1e-5, include_background: bool = True,
                          batch: bool = False) -> np.ndarray:
    """Generalised Dice loss (Sudre et al. 2017) with class weights ``w_k = 1 / (Σ y_k)²``.

    Per image ``n`` (or once for the whole batch with `batch`)

    ``GD = (2 Σ_k w_k Σ_i p_ik y_ik + eps) / (Σ_k w_k Σ_i (p_ik + y_ik) + eps)``,

    and the loss is ``1 - mean_n GD``. The weights make a class count by its share of the
    overlap rather than by its size: a small lesion and a large background weigh alike. A class
    absent from the target (``Σ y_k = 0``, weight ``inf``) gets the largest finite weight of the
    same image instead, as MONAI does; when every class is absent all weights are 0 and
    ``GD = eps / eps = 1``.

    Equal to MONAI ``GeneralizedDiceLoss(softmax=True, to_onehot_y=True, w_type="square",
    smooth_nr=eps, smooth_dr=eps, include_background=..., batch=...)`` called as
    ``loss(logits, target[:, None])``.

    Parameters
    ----------
    logits : ndarray of float32 or float64
        Raw scores, one channel per class.
    target : ndarray of int
        Class labels in ``[0, K)``.
    eps : float, default 1e-5
        Added to numerator and denominator.
    include_background : bool, default True
        With False, class 0 is left out (needs K >= 2).
    batch : bool, default False
        Sum over the batch too: one weight per class and one GD for the whole batch.

    Returns
    -------
    ndarray
        0-d loss, dtype of `logits`.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`dice_loss`.

    References
    ----------
    sudre2017generalised

    Examples
    --------
    >>> z = np.array([[[4.0, 4.0, -4.0], [-4.0, -4.0, 4.0]]])   # (N=1, K=2, L=3), right everywhere
    >>> float(generalized_dice_loss(z, np.array([[0, 0, 1]]))) < 0.02
    True
    """
    z, p, y, first, eps = _dice_parts(logits, target, eps, include_background)
    p, y = p[:, first:], y[:, first:]
    axes = _dice_axes(p.ndim, as_bool(batch, "batch"))
    overlap = np.sum(p * y, axis=axes)                    # (N, K') or (K',)
    denom = np.sum(p, axis=axes) + np.sum(y, axis=axes)
    ground = np.sum(y, axis=axes)
    with np.errstate(divide="ignore"):
        w = 1.0 / (ground * ground)
    absent = np.isinf(w)
    w[absent] = 0.0
    largest = np.max(w, axis=-1, keepdims=True)
    w = np.where(absent, largest, w)
    gd = (2 * np.sum(w * overlap, axis=-1) + eps) / (np.sum(w * denom, axis=-1) + eps)
    return np.asarray(1 - gd.mean(), dtype=z.dtype)


def tversky_loss(logits: Any, target: Any, *, alpha: float = 0.5, beta: float = 0.5, eps: float = 1e-5,
                 include_background: bool = True, batch: bool = False) -> np.ndarray:
    """Tversky loss ``1 - mean_{n,k} (TP + eps) / (TP + alpha FP + beta FN + eps)``.

    Soft counts per image and class: ``TP = Σ p y``, ``FP = Σ p (1 - y)``, ``FN = Σ (1 - p) y``
    with ``p = softmax(logits)`` and ``y = onehot(target)``. ``alpha = beta = 0.5`` is the soft
    Dice loss; ``beta > alpha`` penalises missed foreground more than false alarms, trading
    precision for recall on small lesions (Salehi et al. 2017). (With ``alpha = beta = 1/2`` the
    smoothing counts twice, ``(2TP + 2eps) / (Σp + Σy + 2eps)``.) Equal to MONAI
    ``TverskyLoss(softmax=True, to_onehot_y=True, alpha=alpha, beta=beta, smooth_nr=eps,
    smooth_dr=eps, include_background=..., batch=...)(logits, target[:, None])``.

    Parameters
    ----------
    logits : ndarray of float32 or float64
    target : ndarray of int
    alpha : float, default 0.5
        Weight of the false positives, ``>= 0``.
    beta : float, default 0.5
        Weight of the false negatives, ``>= 0``.
    eps : float, default 1e-5
    include_background : bool, default True
    batch : bool, default False
        Sum over the batch before dividing.

    Returns
    -------
    ndarray
        0-d loss, dtype of `logits`.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`dice_loss`; a negative `alpha` or `beta`.

    References
    ----------
    salehi2017tversky

    Examples
    --------
    >>> z = np.array([[[1.0, -2.0, 0.5], [0.0, 1.0, -1.0]]])   # (N=1, K=2, L=3)
    >>> y = np.array([[0, 1, 1]])
    >>> bool(np.isclose(tversky_loss(z, y, eps=0), dice_loss(z, y, eps=0)))   # alpha = beta = 1/2: Dice
    True
    """
    alpha = as_positive_float(alpha, "alpha", allow_zero=True)
    beta = as_positive_float(beta, "beta", allow_zero=True)
    z, p, y, first, eps = _dice_parts(logits, target, eps, include_background)
    p, y = p[:, first:], y[:, first:]
    axes = _dice_axes(p.ndim, as_bool(batch, "batch"))
    tp = np.sum(p * y, axis=axes)
    fp = np.sum(p * (1 - y), axis=axes)
    fn = np.sum((1 - p) * y, axis=axes)
    score = (tp + eps) / (tp + alpha * fp + beta * fn + eps)
    return np.asarray(1 - score.mean(), dtype=z.dtype)


def focal_loss(logits: Any, target: Any, *, gamma: float = 2.0, weight: Any = None,
               reduction: str = "mean") -> np.ndarray:
    """Focal loss (Lin et al. 2017): cross-entropy down-weighted on voxels already right.

    Per voxel ``l_i = -w[y_i] (1 - p_{i,y_i})^gamma log p_{i,y_i}``, reduced exactly as
    :func:`cross_entropy` (``"mean"``: ``Σ_i l_i / Σ_i w[y_i]``), so ``gamma = 0`` *is*
    cross-entropy. A voxel classified with ``p_y = 0.9`` keeps ``0.1^gamma`` of its CE (1 % at
    ``gamma = 2``): the many easy background voxels stop dominating the sum.

    MONAI's ``FocalLoss(use_softmax=True, to_onehot_y=True, gamma=gamma, weight=w)`` computes the
    same per-voxel terms (as a ``(N, K, *S)`` map that is zero off the true class); its
    ``reduction="mean"`` divides by ``N·K·|S|`` and ignores the weights in the divisor, so
    ``focal_loss(..., reduction="sum")`` equals the sum of MONAI's ``reduction="none"`` map.

    Parameters
    ----------
    logits : ndarray of float32 or float64
    target : ndarray of int
    gamma : float, default 2.0
        Focusing parameter, ``>= 0``.
    weight : ndarray, optional
        One non-negative weight per class (Lin et al.'s ``alpha_t``).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    ndarray
        0-d array (``"mean"``, ``"sum"``) or the per-voxel map (``"none"``), dtype of `logits`.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S);  weight : (K,);  result : () or (N, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`cross_entropy`; a negative `gamma`.

    References
    ----------
    lin2017focal

    Examples
    --------
    >>> z, y = np.array([[2.0, 0.0]]), np.array([0])
    >>> bool(focal_loss(z, y, gamma=0.0) == cross_entropy(z, y))
    True
    >>> float(focal_loss(z, y).round(5))                    # (1 - 0.8808)^2 * 0.1269
    0.0018
    """
    z = as_class_scores(logits, "logits", min_dims=2)
    t = as_class_labels(target, z)
    w = _as_weight(weight, z.shape[1], z.dtype)
    reduction = _as_reduction(reduction)
    gamma = as_positive_float(gamma, "gamma", allow_zero=True)
    logp = np.take_along_axis(log_softmax(z, axis=1), t[:, None], axis=1)[:, 0]
    nll = -logp
    if gamma != 0:
        nll = nll * (-np.expm1(logp)) ** gamma            # (1 - p_y)^gamma, accurate near p_y = 1
    wy = None if w is None else w[t]
    if wy is not None:
        nll = nll * wy
    if reduction == "none":
        return nll.astype(z.dtype, copy=False)
    if reduction == "sum":
        return np.asarray(nll.sum(), dtype=z.dtype)
    denom = nll.size if wy is None else wy.sum()
    return np.asarray(nll.sum() / denom, dtype=z.dtype)
