"""Segmentation losses in PyTorch: the differentiable twins of :mod:`companion.losses`.

Every function takes raw network outputs ``logits (N, K, *S)`` (float tensor, K classes) and an
integer label map ``target (N, *S)`` (int64 tensor, values in ``[0, K)``) and returns a scalar
tensor that autograd can differentiate. They compute exactly what the NumPy functions of
:mod:`companion.losses` compute (the tests hold them equal), so the chapter can derive a loss in
NumPy and train with its twin here.

- :func:`cross_entropy` — ``F.cross_entropy`` with the book's argument checks.
- :func:`dice_loss` — ``1 - mean soft Dice`` of the softmax probabilities (Milletari et al. 2016).
- :func:`composite_loss` — ``alpha * cross_entropy + beta * dice_loss`` (MONAI's ``DiceCELoss``).
- :func:`generalized_dice_loss`, :func:`tversky_loss`, :func:`focal_loss` — twins of the NumPy
  functions of the same names.
- :func:`get_loss` — ``"ce"``, ``"dice"``, ``"composite"`` → a callable ``(logits, target) -> loss``.

References
----------
milletari2016vnet, sudre2017generalised
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from companion._validation import as_bool, as_choice, as_positive_float

__all__ = ["cross_entropy", "dice_loss", "composite_loss", "generalized_dice_loss", "tversky_loss",
           "focal_loss", "get_loss", "LOSSES"]


def _check(logits: torch.Tensor, target: torch.Tensor, *, min_dims: int = 3) -> None:
    """Check ``logits (N, K, *S)`` float and ``target (N, *S)`` integer in ``[0, K)``."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"logits: expected a float torch.Tensor, got {type(logits).__name__}")
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target: expected an int64 torch.Tensor, got {type(target).__name__}")
    if not logits.is_floating_point():
        raise TypeError(f"logits: expected a floating-point tensor, got dtype {logits.dtype}")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target: expected an integer tensor of class labels (int64), got dtype {target.dtype}")
    if logits.ndim < min_dims:
        raise ValueError(f"logits: expected (N, K, *S) with at least {min_dims} dims, got shape {tuple(logits.shape)}")
    want = (logits.shape[0],) + tuple(logits.shape[2:])
    if tuple(target.shape) != want:
        hint = " (drop the channel axis: target[:, 0])" if target.ndim == logits.ndim and target.shape[1] == 1 else ""
        raise ValueError(f"target: expected shape {want} = (N, *S) of logits {tuple(logits.shape)}, "
                         f"got {tuple(target.shape)}{hint}")
    k = logits.shape[1]
    if target.numel() and (int(target.min()) < 0 or int(target.max()) >= k):
        raise ValueError(f"target: expected class labels in [0, {k}) for K={k} classes, "
                         f"got values in [{int(target.min())}, {int(target.max())}]")


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None,
                  *, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of softmax probabilities against integer labels (``F.cross_entropy``).

    ``CE = -sum_i w[y_i] log softmax(z_i)[y_i] / sum_i w[y_i]`` over all N·S voxels (plain mean
    when `weight` is None).

    Parameters
    ----------
    logits : torch.Tensor, float
        Raw scores, one channel per class.
    target : torch.Tensor, int64
        Class label of each voxel.
    weight : torch.Tensor, optional
        One weight per class, shape ``(K,)``.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    torch.Tensor
        Scalar (``"mean"``, ``"sum"``) or ``(N, *S)`` (``"none"``).

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S);  weight : (K,)

    Raises
    ------
    TypeError
        Non-tensor input, integer logits or float target.
    ValueError
        Shape mismatch, labels outside ``[0, K)``, a bad weight or reduction.

    See Also
    --------
    companion.losses.cross_entropy : the NumPy version.
    """
    _check(logits, target, min_dims=2)
    as_choice(reduction, "reduction", ("mean", "sum", "none"), expected="'mean', 'sum' or 'none'")
    if weight is not None:
        weight = torch.as_tensor(weight, dtype=logits.dtype, device=logits.device)
        if weight.shape != (logits.shape[1],):
            raise ValueError(f"weight: expected shape ({logits.shape[1]},), one per class, got {tuple(weight.shape)}")
    return F.cross_entropy(logits, target.long(), weight=weight, reduction=reduction)


def dice_loss(logits: torch.Tensor, target: torch.Tensor, *, eps: float = 1e-5,
              include_background: bool = True, batch: bool = False, squared_pred: bool = False) -> torch.Tensor:
    """Soft Dice loss ``1 - mean(dice)`` with ``dice = (2 Σ p·y + eps) / (Σ p + Σ y + eps)``.

    ``p = softmax(logits, dim=1)`` and ``y = one_hot(target)``; sums run over the spatial axes
    (and the batch axis too when `batch`), the mean over samples and classes. Equal to MONAI
    ``DiceLoss(softmax=True, to_onehot_y=True, smooth_nr=eps, smooth_dr=eps,
    include_background=include_background, batch=batch)(logits, target[:, None])``.

    Parameters
    ----------
    logits : torch.Tensor, float
    target : torch.Tensor, int64
    eps : float, default 1e-5
        Smoothing added to numerator and denominator.
    include_background : bool, default True
        With False, class 0 is left out of the mean.
    batch : bool, default False
        Sum over the batch before dividing (one Dice per class for the whole batch).
    squared_pred : bool, default False
        V-Net's denominator ``Σ p² + Σ y²`` (MONAI's option of the same name).

    Returns
    -------
    torch.Tensor
        Scalar loss.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S)

    See Also
    --------
    companion.losses.dice_loss : the NumPy version.
    """
    probs, onehot, axes, eps = _dice_parts(logits, target, eps, include_background, batch)
    overlap = torch.sum(probs * onehot, dim=axes)
    if as_bool(squared_pred, "squared_pred"):
        denom = torch.sum(probs * probs, dim=axes) + torch.sum(onehot * onehot, dim=axes)
    else:
        denom = torch.sum(probs, dim=axes) + torch.sum(onehot, dim=axes)
    dice = (2 * overlap + eps) / (denom + eps)
    return 1 - dice.mean()


def _dice_parts(logits, target, eps, include_background, batch):
    """Checked softmax probabilities, one-hot labels (background dropped if asked), sum axes."""
    _check(logits, target)
    eps = as_positive_float(eps, "eps", allow_zero=True)
    include_background, batch = as_bool(include_background, "include_background"), as_bool(batch, "batch")
    k = logits.shape[1]
    if not include_background and k < 2:
        raise ValueError(f"include_background: False needs K >= 2 classes, got K={k}")
    probs = torch.softmax(logits, dim=1)
    onehot = F.one_hot(target.long(), k).movedim(-1, 1).to(probs.dtype)
    if not include_background:
        probs, onehot = probs[:, 1:], onehot[:, 1:]
    axes = tuple(range(2, logits.ndim))
    if batch:
        axes = (0,) + axes
    return probs, onehot, axes, eps


def generalized_dice_loss(logits: torch.Tensor, target: torch.Tensor, *, eps: float = 1e-5,
                          include_background: bool = True, batch: bool = False) -> torch.Tensor:
    """Generalised Dice loss, weights ``1 / (Σ y_k)²`` (Sudre et al. 2017); MONAI's treatment of an
    absent class (largest finite weight). Differentiable twin of
    :func:`companion.losses.generalized_dice_loss` (same arguments, same value).

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S);  result : scalar
    """
    probs, onehot, axes, eps = _dice_parts(logits, target, eps, include_background, batch)
    overlap = torch.sum(probs * onehot, dim=axes)
    denom = torch.sum(probs, dim=axes) + torch.sum(onehot, dim=axes)
    ground = torch.sum(onehot, dim=axes)
    w = 1.0 / (ground * ground)
    absent = torch.isinf(w)
    w = torch.where(absent, torch.zeros_like(w), w)
    w = torch.where(absent, w.amax(dim=-1, keepdim=True), w)
    gd = (2 * torch.sum(w * overlap, dim=-1) + eps) / (torch.sum(w * denom, dim=-1) + eps)
    return 1 - gd.mean()


def tversky_loss(logits: torch.Tensor, target: torch.Tensor, *, alpha: float = 0.5, beta: float = 0.5,
                 eps: float = 1e-5, include_background: bool = True, batch: bool = False) -> torch.Tensor:
    """Tversky loss ``1 - mean (TP + eps) / (TP + alpha FP + beta FN + eps)`` (Salehi et al. 2017).
    Differentiable twin of :func:`companion.losses.tversky_loss`.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S);  result : scalar
    """
    alpha = as_positive_float(alpha, "alpha", allow_zero=True)
    beta = as_positive_float(beta, "beta", allow_zero=True)
    probs, onehot, axes, eps = _dice_parts(logits, target, eps, include_background, batch)
    tp = torch.sum(probs * onehot, dim=axes)
    fp = torch.sum(probs * (1 - onehot), dim=axes)
    fn = torch.sum((1 - probs) * onehot, dim=axes)
    return 1 - ((tp + eps) / (tp + alpha * fp + beta * fn + eps)).mean()


def focal_loss(logits: torch.Tensor, target: torch.Tensor, *, gamma: float = 2.0,
               weight: torch.Tensor | None = None, reduction: str = "mean") -> torch.Tensor:
    """Focal loss ``-w_y (1 - p_y)^gamma log p_y`` (Lin et al. 2017), reduced like
    :func:`cross_entropy` (``gamma = 0`` gives it). Differentiable twin of
    :func:`companion.losses.focal_loss`.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S);  weight : (K,);  result : scalar or (N, *S)
    """
    _check(logits, target, min_dims=2)
    gamma = as_positive_float(gamma, "gamma", allow_zero=True)
    as_choice(reduction, "reduction", ("mean", "sum", "none"), expected="'mean', 'sum' or 'none'")
    logp = torch.log_softmax(logits, dim=1).gather(1, target.long().unsqueeze(1)).squeeze(1)
    loss = -logp * (-torch.expm1(logp)) ** gamma if gamma != 0 else -logp
    if weight is not None:
        weight = torch.as_tensor(weight, dtype=logits.dtype, device=logits.device)
        if weight.shape != (logits.shape[1],):
            raise ValueError(f"weight: expected shape ({logits.shape[1]},), one per class, got {tuple(weight.shape)}")
        wy = weight[target.long()]
        loss = loss * wy
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (loss.numel() if weight is None else wy.sum())


def composite_loss(logits: torch.Tensor, target: torch.Tensor, *, alpha: float = 1.0, beta: float = 1.0,
                   eps: float = 1e-5, include_background: bool = True, batch: bool = False,
                   weight: torch.Tensor | None = None) -> torch.Tensor:
    """``alpha * cross_entropy + beta * dice_loss`` — MONAI ``DiceCELoss(lambda_ce=alpha, lambda_dice=beta)``.

    Cross-entropy is over every class (MONAI drops the background only from the Dice term).
    Argument mapping to MONAI ``DiceCELoss(softmax=True, to_onehot_y=True, ...)(logits,
    target[:, None])``: ``alpha`` → ``lambda_ce``, ``beta`` → ``lambda_dice``, ``eps`` →
    ``smooth_nr`` and ``smooth_dr``; ``include_background`` and ``batch`` keep their names.
    `weight` (class weights) enters the cross-entropy term only, as in :func:`cross_entropy`;
    MONAI's ``weight`` also weights its Dice term.

    Parameters
    ----------
    logits : torch.Tensor, float
    target : torch.Tensor, int64
    alpha, beta : float, default 1.0
        Non-negative weights of the cross-entropy and Dice terms.
    eps, include_background, batch
        As in :func:`dice_loss`.
    weight : torch.Tensor, (K,), optional
        Class weights of the cross-entropy term, as in :func:`cross_entropy`.

    Returns
    -------
    torch.Tensor
        Scalar loss.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`cross_entropy` and :func:`dice_loss`; a negative `alpha` or `beta`.

    See Also
    --------
    companion.losses.composite_loss : the NumPy version.
    """
    alpha = as_positive_float(alpha, "alpha", allow_zero=True)
    beta = as_positive_float(beta, "beta", allow_zero=True)
    return alpha * cross_entropy(logits, target, weight) + beta * dice_loss(
        logits, target, eps=eps, include_background=include_background, batch=batch)


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "ce": cross_entropy,
    "dice": dice_loss,
    "composite": composite_loss,
}


def get_loss(name: str | Callable) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Return the loss ``(logits, target) -> scalar tensor`` called `name`.

    ``"ce"`` → :func:`cross_entropy`, ``"dice"`` → :func:`dice_loss`, ``"composite"`` →
    :func:`composite_loss` (all with default settings). A callable is returned unchanged.

    Parameters
    ----------
    name : {"ce", "dice", "composite"} or callable

    Returns
    -------
    callable
        ``(logits, target) -> scalar tensor``.

    Shapes
    ------
    logits : (N, K, *S);  target : (N, *S)

    Raises
    ------
    ValueError
        If `name` is not one of ``"ce"``, ``"dice"``, ``"composite"``.
    """
    if callable(name):
        return name
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"name: expected one of {sorted(LOSSES)} or a callable, got {name!r}")
    return LOSSES[name]
