"""The effective receptive field (Luo et al. 2016): how strongly one output depends on each input pixel.

The theoretical receptive field (:func:`companion.layers.receptive_field`) is the block of input
pixels an output *can* depend on. The effective receptive field (ERF) is how much it *does*: the
magnitude of the gradient ``|∂ y(centre) / ∂ x|`` of one output position with respect to every
input pixel, computed by autograd. For a stack of linear layers with positive kernels it is the
repeated convolution of the kernels (a binomial-like bump of standard deviation
``sqrt(Σ Var(kernel))``); for random ReLU networks it is roughly Gaussian, and its width grows like
``sqrt(depth)`` while the theoretical field grows like ``depth``.

torch is imported here; :func:`erf_std` needs only NumPy.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from companion._validation import as_float_array, as_int

__all__ = ["random_relu_cnn", "effective_receptive_field", "erf_std"]


def random_relu_cnn(depth: int, *, channels: int = 8, kernel: int = 3, dims: int = 2, seed: int,
                    linear: bool = False) -> nn.Sequential:
    """A stack of `depth` same-padded convolutions with He-normal weights and zero biases.

    Layer 1 maps 1 channel to `channels`, the others `channels` to `channels`; a ReLU follows every
    layer but the last (none at all with ``linear=True``). Weights are drawn with
    ``torch.nn.init.kaiming_normal_(nonlinearity="relu")`` after ``torch.manual_seed(seed)``.

    Parameters
    ----------
    depth : int
        Number of convolutions (>= 1).
    channels : int, default 8
        Channels of every hidden layer (>= 1).
    kernel : int, default 3
        Odd kernel size along every axis.
    dims : {1, 2, 3}, default 2
        Spatial dimensionality.
    seed : int
        torch seed of the weights.
    linear : bool, default False
        Leave out the ReLUs.

    Returns
    -------
    torch.nn.Sequential
        float64 module; input ``(N, 1, *S)``, output ``(N, channels, *S)``.

    Shapes
    ------
    input : (N, 1, *S);  output : (N, channels, *S)

    Raises
    ------
    TypeError, ValueError
        For non-int or out-of-range `depth`, `channels`, `kernel` (must be odd), `dims`, `seed`.

    Examples
    --------
    >>> net = random_relu_cnn(3, seed=0)
    >>> tuple(net(torch.zeros(1, 1, 9, 9, dtype=torch.float64)).shape)
    (1, 8, 9, 9)
    """
    depth = as_int(depth, "depth", minimum=1)
    channels = as_int(channels, "channels", minimum=1)
    kernel = as_int(kernel, "kernel", minimum=1)
    if kernel % 2 == 0:
        raise ValueError(f"kernel: expected an odd size (same padding), got {kernel}")
    dims = as_int(dims, "dims")
    if dims not in (1, 2, 3):
        raise ValueError(f"dims: expected 1, 2 or 3, got {dims}")
    seed = as_int(seed, "seed", minimum=0)
    conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i in range(depth):
        c = conv(1 if i == 0 else channels, channels, kernel, padding=kernel // 2).double()
        nn.init.kaiming_normal_(c.weight, nonlinearity="relu")
        nn.init.zeros_(c.bias)
        layers.append(c)
        if not linear and i < depth - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def effective_receptive_field(model: nn.Module, x: Any, *, position: Sequence[int] | None = None) -> np.ndarray:
    """``|∂ Σ_c y[n, c, position] / ∂ x|`` summed over the batch and input channels, normalised to sum 1.

    The gradient of one output position (all output channels, summed) with respect to every input
    pixel, by autograd, as in Luo et al. (2016). Averaging over a batch of inputs (or of models)
    gives a smoother map.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, *S)`` to ``(N, K, *S')``.
    x : array_like or torch.Tensor
        Input batch ``(N, C, *S)``; converted to the model's float dtype.
    position : sequence of int, optional
        Output position; default the centre of the output, ``S'_i // 2``.

    Returns
    -------
    ndarray of float64
        The normalised gradient magnitude over the input's spatial grid (sums to 1).

    Shapes
    ------
    x : (N, C, *S);  result : S

    Raises
    ------
    TypeError
        If `model` is not a torch module.
    ValueError
        If `x` has fewer than 3 dims, `position` has the wrong length or lies outside the output,
        or the gradient is zero everywhere.

    Examples
    --------
    >>> box = nn.Conv1d(1, 1, 3, bias=False).double()
    >>> _ = nn.init.constant_(box.weight, 1.0)
    >>> erf = effective_receptive_field(nn.Sequential(box, box), np.zeros((1, 1, 9)))
    >>> (erf * 9).round(3).tolist()          # output 2 of 5 sees inputs 2..6: box * box / 9
    [0.0, 0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.0, 0.0]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None else torch.float64
    if isinstance(x, torch.Tensor):
        xt = x.detach().to(dtype).clone()
    else:
        xt = torch.from_numpy(np.array(as_float_array(x, "x"))).to(dtype)
    if xt.ndim < 3:
        raise ValueError(f"x: expected (N, C, *S) with at least 3 dims, got shape {tuple(xt.shape)}")
    xt.requires_grad_(True)
    y = model(xt)
    spatial = tuple(y.shape[2:])
    if position is None:
        pos = tuple(s // 2 for s in spatial)
    else:
        pos = tuple(as_int(p, "position") for p in position)
        if len(pos) != len(spatial):
            raise ValueError(f"position: expected {len(spatial)} indices (the output's spatial dims), got {len(pos)}")
        if any(not 0 <= p < s for p, s in zip(pos, spatial)):
            raise ValueError(f"position: expected indices inside the output's spatial shape {spatial}, got {pos}")
    y[(slice(None), slice(None)) + pos].sum().backward()
    g = xt.grad.abs().sum(dim=(0, 1)).double().numpy()
    total = g.sum()
    if not total > 0:
        raise ValueError("model: the gradient of the chosen output is zero at every input pixel")
    return g / total


def erf_std(erf: Any, spacing: Sequence[float] | None = None) -> np.ndarray:
    """Standard deviation of an ERF map along each axis: ``sqrt(Σ w (i - mean)²)`` with ``w = erf / Σ erf``.

    Parameters
    ----------
    erf : array_like of float
        Non-negative weights on a grid (e.g. :func:`effective_receptive_field`).
    spacing : sequence of float, optional
        Grid spacing per axis (e.g. mm); default 1 (pixels).

    Returns
    -------
    ndarray of float64
        One standard deviation per axis.

    Shapes
    ------
    erf : S;  result : (len(S),)

    Raises
    ------
    TypeError
        If `erf` is not real numeric data.
    ValueError
        If `erf` is empty, has negative entries or sums to 0, or `spacing` has the wrong length.

    Examples
    --------
    >>> erf_std(np.array([1.0, 2.0, 1.0])).round(4)     # variance 2/4
    array([0.7071])
    """
    w = np.array(as_float_array(erf, "erf"), dtype=np.float64)
    if w.size == 0 or np.any(w < 0) or not w.sum() > 0:
        raise ValueError("erf: expected non-negative weights with a positive sum")
    sp = np.ones(w.ndim) if spacing is None else np.asarray(spacing, dtype=np.float64)
    if sp.shape != (w.ndim,):
        raise ValueError(f"spacing: expected {w.ndim} values (one per axis), got {sp.shape}")
    w = w / w.sum()
    out = np.empty(w.ndim)
    for axis in range(w.ndim):
        marginal = w.sum(axis=tuple(a for a in range(w.ndim) if a != axis))
        i = np.arange(marginal.size) * sp[axis]
        mean = np.sum(marginal * i)
        out[axis] = np.sqrt(np.sum(marginal * (i - mean) ** 2))
    return out
