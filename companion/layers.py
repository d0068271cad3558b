"""The full convolution layer: affine map, batch normalisation, activation; its size and reach.

One "convolution layer" of a modern network is a composite function. For output channel ``o``:

    z_o = sum_{c,u,v} w_{o,c}(u, v) x_c(i+u, j+v) + b_o          (affine map: correlation + bias)
    ẑ_o = gamma_o (z_o - mu_o) / sqrt(sigma_o^2 + eps) + beta_o   (batch norm, training mode)
    y_o = phi(ẑ_o)                                                (activation)

:func:`conv_bn_act` runs it (equal to ``ConvNd → BatchNormNd (train) → ReLU/LeakyReLU/ELU`` in
torch); :func:`conv_bn_act_forward` / :func:`conv_bn_act_backward` are the cs231n-style pair that
chains the backward passes of :mod:`companion.convolution`, :mod:`companion.normalization` and
:mod:`companion.activations`. :func:`count_conv_parameters` and :func:`receptive_field` give the
two numbers every architecture table reports.

Only NumPy is imported here.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion import activations as _act
from companion._validation import as_bool, as_int, as_real
from companion.convolution import correlate, correlate_backward
from companion.normalization import BNCache, batch_norm, batch_norm_backward

__all__ = [
    "ACTIVATIONS", "ConvBNActCache", "conv_bn_act", "conv_bn_act_forward", "conv_bn_act_backward",
    "count_conv_parameters", "receptive_field", "receptive_field_curve",
]

#: Activation names accepted by :func:`conv_bn_act`: those of :data:`companion.activations.ACTIVATIONS`
#: and ``"identity"``, which skips the non-linearity.
ACTIVATIONS = (*_act.ACTIVATIONS, "identity")


class ConvBNActCache(NamedTuple):
    """What :func:`conv_bn_act_backward` needs: the forward's inputs and intermediate values."""

    x: np.ndarray
    w: np.ndarray
    has_bias: bool
    stride: Any
    padding: Any
    dilation: Any
    bn: BNCache
    z_hat: np.ndarray          # batch-normalised pre-activation, input to phi
    activation: str
    param: float               # negative_slope or alpha (unused for relu/identity)


# --------------------------------------------------------------------------------------------
# Private checkers
# --------------------------------------------------------------------------------------------

def _check_activation(activation: Any, negative_slope: Any, alpha: Any) -> tuple[str, float]:
    if not isinstance(activation, str):
        raise TypeError(f"activation: expected one of {ACTIVATIONS}, got {type(activation).__name__} {activation!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {ACTIVATIONS}, got {activation!r}")
    negative_slope = as_real(negative_slope, "negative_slope")
    alpha = as_real(alpha, "alpha", positive=True)
    param = {"leaky_relu": negative_slope, "elu": alpha}.get(activation, 0.0)
    return activation, param


def _phi(z: np.ndarray, activation: str, param: float) -> np.ndarray:
    """The activation by name, through :func:`companion.activations.activation` (plus the identity)."""
    return z.copy() if activation == "identity" else _act.activation(z, activation, param)


def _phi_grad(z: np.ndarray, activation: str, param: float) -> np.ndarray:
    return np.ones_like(z) if activation == "identity" else _act.activation_grad(z, activation, param)


# --------------------------------------------------------------------------------------------
# One layer: forward and backward
# --------------------------------------------------------------------------------------------

def conv_bn_act_forward(x: Any, w: Any, bias: Any, gamma: Any, beta: Any, *, stride: Any = 1,
                        padding: Any = 0, dilation: Any = 1, activation: str = "relu",
                        negative_slope: float = 0.01, alpha: float = 1.0,
                        eps: float = 1e-5) -> tuple[np.ndarray, ConvBNActCache]:
    """One convolution layer forward, keeping what the backward pass needs.

    ``y = phi(BN_train(correlate(x, w, bias, stride, padding, dilation); gamma, beta, eps))``.

    Parameters
    ----------
    x : ndarray of float32 or float64
        Input batch, 1-, 2- or 3-D spatial.
    w : ndarray
        Kernels, same dtype as `x`.
    bias : ndarray or None
        Convolution bias (C_out,), or None (``bias=False`` in torch, the usual choice before
        batch norm: the mean subtraction cancels it).
    gamma, beta : ndarray or None
        Batch-norm scale and shift (C_out,); None means ones and zeros.
    stride, padding, dilation : int or tuple of int
        As in :func:`companion.convolution.correlate`.
    activation : {"relu", "leaky_relu", "elu", "identity"}, default "relu"
    negative_slope : float, default 0.01
        Slope of LeakyReLU for x < 0.
    alpha : float, default 1.0
        ELU's saturation value -alpha for x → -inf; > 0.
    eps : float, default 1e-5
        Batch-norm's variance offset.

    Returns
    -------
    y : ndarray
        The layer's output, dtype of `x`.
    cache : ConvBNActCache

    Shapes
    ------
    x : (N, C_in, *S);  w : (C_out, C_in, *K);  bias, gamma, beta : (C_out,);
    y : (N, C_out, *S_out) with ``S_out = floor((S + 2p - d(K-1) - 1)/s) + 1``

    Raises
    ------
    TypeError, ValueError
        From the checks of ``correlate``, ``batch_norm`` and the activation, naming the argument
        (`x`, `w`, `bias`, `gamma`, `beta`, `stride`, `padding`, `dilation`, `eps`), and for an
        unknown `activation`.

    References
    ----------
    ``ioffe2015batch`` (batch normalisation).
    """
    act, param = _check_activation(activation, negative_slope, alpha)
    z = correlate(x, w, bias, stride=stride, padding=padding, dilation=dilation)
    z_hat, bn = batch_norm(z, gamma, beta, eps)
    y = _phi(z_hat, act, param)
    x_arr = np.asarray(x) if not hasattr(x, "detach") else x.detach().cpu().numpy()
    w_arr = np.asarray(w) if not hasattr(w, "detach") else w.detach().cpu().numpy()
    cache = ConvBNActCache(x_arr.astype(z.dtype, copy=False), w_arr.astype(z.dtype, copy=False),
                           bias is not None, stride, padding, dilation, bn, z_hat, act, param)
    return y, cache


def conv_bn_act(x: Any, w: Any, bias: Any, gamma: Any, beta: Any, *, stride: Any = 1,
                padding: Any = 0, dilation: Any = 1, activation: str = "relu",
                negative_slope: float = 0.01, alpha: float = 1.0, eps: float = 1e-5) -> np.ndarray:
    """One full convolution layer forward: correlation + bias → batch norm (training) → activation.

    $$y_o = \\phi\\Big(\\gamma_o \\frac{\\sum_{c,u} w_{o,c}(u)\\,x_c(s i + d u) + b_o - \\mu_o}
    {\\sqrt{\\sigma_o^2 + \\varepsilon}} + \\beta_o\\Big)$$

    with the batch mean ``mu_o`` and biased variance ``sigma_o^2`` of the pre-activation over all
    N · prod(S_out) values of channel o. Equal to torch's ``Conv{1,2,3}d`` (weights copied) →
    ``BatchNorm{1,2,3}d`` in training mode → ``ReLU`` / ``LeakyReLU`` / ``ELU``.

    Parameters, Shapes, Raises
        As :func:`conv_bn_act_forward`.

    Returns
    -------
    ndarray
        ``y (N, C_out, *S_out)``, dtype of `x`.

    See Also
    --------
    conv_bn_act_forward, conv_bn_act_backward

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((2, 1, 5, 5))
    >>> y = conv_bn_act(x, np.ones((3, 1, 3, 3)), None, None, None, padding=1)
    >>> y.shape, bool(np.all(y >= 0))
    ((2, 3, 5, 5), True)
    """
    y, _ = conv_bn_act_forward(x, w, bias, gamma, beta, stride=stride, padding=padding,
                               dilation=dilation, activation=activation,
                               negative_slope=negative_slope, alpha=alpha, eps=eps)
    return y


def conv_bn_act_backward(grad_y: Any, cache: ConvBNActCache
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """Backward pass of :func:`conv_bn_act_forward`: the three backward passes in reverse order.

    ``g_zhat = grad_y * phi'(ẑ)``; ``(g_z, g_gamma, g_beta) = batch_norm_backward(g_zhat)``;
    ``(g_x, g_w, g_b) = correlate_backward(g_z)``. Since batch norm subtracts the per-channel
    mean, ``sum(g_z)`` over a channel is 0, so the bias gradient ``g_b`` is 0 (to rounding).

    Parameters
    ----------
    grad_y : ndarray
        ∂L/∂y, shape of the forward output.
    cache : ConvBNActCache
        The second output of :func:`conv_bn_act_forward`.

    Returns
    -------
    grad_x, grad_w, grad_bias, grad_gamma, grad_beta : ndarray
        ``grad_bias`` is None when the forward pass had no bias.

    Shapes
    ------
    grad_y : (N, C_out, *S_out);  grad_x : (N, C_in, *S);  grad_w : (C_out, C_in, *K);
    grad_bias, grad_gamma, grad_beta : (C_out,)

    Raises
    ------
    TypeError
        If `cache` is not a :class:`ConvBNActCache`.
    ValueError
        If `grad_y` does not have the output's shape.
    """
    if not isinstance(cache, ConvBNActCache):
        raise TypeError(f"cache: expected the ConvBNActCache returned by conv_bn_act_forward, got {type(cache).__name__}")
    g = np.asarray(grad_y.detach().cpu().numpy() if hasattr(grad_y, "detach") else grad_y)
    if g.dtype.kind not in "fiu":
        raise TypeError(f"grad_y: expected a float array, got dtype {g.dtype}")
    if g.shape != cache.z_hat.shape:
        raise ValueError(f"grad_y: expected shape {cache.z_hat.shape} (the forward output's), got {g.shape}")
    g_zhat = (g * _phi_grad(cache.z_hat, cache.activation, cache.param)).astype(cache.z_hat.dtype)
    g_z, g_gamma, g_beta = batch_norm_backward(g_zhat, cache.bn)
    g_x, g_w, g_b = correlate_backward(g_z, cache.x, cache.w, stride=cache.stride,
                                       padding=cache.padding, dilation=cache.dilation)
    return g_x, g_w, (g_b if cache.has_bias else None), g_gamma, g_beta


# --------------------------------------------------------------------------------------------
# Size and reach
# --------------------------------------------------------------------------------------------

def count_conv_parameters(c_in: int, c_out: int, kernel: Any, bias: bool = True,
                          transposed: bool = False, *, groups: int = 1) -> int:
    """Number of learnable parameters of a (transposed) convolution layer.

    ``c_out * (c_in / groups) * prod(kernel) + (c_out if bias else 0)``. A transposed convolution
    stores its weight as ``(c_in, c_out / groups, *kernel)``: the same count. Equal to
    ``sum(p.numel() for p in torch.nn.Conv3d(...).parameters())`` (and ConvTranspose, 1-/2-D).

    Parameters
    ----------
    c_in, c_out : int >= 1
        Input and output channels.
    kernel : int or sequence of int
        Kernel size per spatial axis; its length is the dimensionality (an int is a 1-D kernel).
    bias : bool, default True
    transposed : bool, default False
        A transposed ("up-") convolution; the count is the same, kept for readable calls.
    groups : int, default 1
        Grouped convolution; must divide both `c_in` and `c_out`.

    Returns
    -------
    int

    Shapes
    ------
    kernel : int (1-D) or (k_1, ..., k_n);  the weight counted is (C_out, C_in / groups, *kernel)
    (transposed: (C_in, C_out / groups, *kernel)) and the bias (C_out,);  result : scalar

    Raises
    ------
    TypeError
        If a channel count or kernel size is not an int, or `bias`/`transposed` not a bool.
    ValueError
        If a value is < 1 or `groups` does not divide the channels.

    Examples
    --------
    >>> count_conv_parameters(4, 32, (3, 3, 3))
    3488
    >>> count_conv_parameters(512, 512, (2, 2, 2), transposed=True)
    2097664
    """
    c_in = as_int(c_in, "c_in", minimum=1)
    c_out = as_int(c_out, "c_out", minimum=1)
    groups = as_int(groups, "groups", minimum=1)
    as_bool(bias, "bias"), as_bool(transposed, "transposed")
    if isinstance(kernel, (list, tuple, np.ndarray)):
        if len(kernel) == 0:
            raise ValueError("kernel: expected at least one kernel size, got an empty sequence")
        k = tuple(as_int(v, "kernel", minimum=1) for v in kernel)
    else:
        k = (as_int(kernel, "kernel", minimum=1),)
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups: expected a divisor of c_in={c_in} and c_out={c_out}, got {groups}")
    return c_out * (c_in // groups) * math.prod(k) + (c_out if bias else 0)


def _check_layers(layers: Any) -> list[tuple[int, int, int]]:
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers: expected a sequence of (kernel, stride[, dilation]) tuples, got {type(layers).__name__}")
    out = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
            raise ValueError(f"layers: expected each entry as (kernel, stride) or (kernel, stride, dilation), "
                             f"got {layer!r} at position {i}")
        k = as_int(layer[0], f"layers[{i}] kernel", minimum=1)
        s = as_int(layer[1], f"layers[{i}] stride", minimum=1)
        d = as_int(layer[2], f"layers[{i}] dilation", minimum=1) if len(layer) == 3 else 1
        out.append((k, s, d))
    return out


def receptive_field_curve(layers: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Receptive field and jump (effective stride) after each layer of a stack, along one axis.

    Starting from ``r_0 = 1`` and ``j_0 = 1`` (one input pixel), layer l with kernel k, stride s
    and dilation d gives

        r_l = r_{l-1} + d (k - 1) j_{l-1},      j_l = j_{l-1} s.

    Parameters
    ----------
    layers : sequence of (kernel, stride) or (kernel, stride, dilation)
        Convolutions and pooling layers alike, in order from the input.

    Returns
    -------
    rf, jump : ndarray of int64, shape (L + 1,)
        ``rf[l]`` and ``jump[l]`` after the first l layers (``rf[0] = jump[0] = 1``).

    Shapes
    ------
    layers : L entries of 2 or 3 ints;  rf, jump : (L + 1,)

    Raises
    ------
    TypeError, ValueError
        If `layers` is not a sequence of 2- or 3-tuples of ints >= 1.

    References
    ----------
    ``araujo2019computing`` (receptive-field arithmetic).

    Examples
    --------
    >>> rf, jump = receptive_field_curve([(3, 1), (3, 1), (2, 2), (3, 1)])
    >>> rf.tolist(), jump.tolist()
    ([1, 3, 5, 6, 10], [1, 1, 1, 2, 2])
    """
    checked = _check_layers(layers)
    rf, jump = [1], [1]
    for k, s, d in checked:
        rf.append(rf[-1] + d * (k - 1) * jump[-1])
        jump.append(jump[-1] * s)
    return np.array(rf, dtype=np.int64), np.array(jump, dtype=np.int64)


def receptive_field(layers: Sequence[Sequence[int]]) -> int:
    """Receptive field (in input pixels, along one axis) of the last layer of a stack.

    ``r = 1 + sum_l d_l (k_l - 1) prod_{m < l} s_m``; see :func:`receptive_field_curve`.

    Parameters
    ----------
    layers : sequence of (kernel, stride) or (kernel, stride, dilation)

    Returns
    -------
    int

    Shapes
    ------
    layers : L entries of 2 or 3 ints;  result : scalar (pixels along one axis)

    Raises
    ------
    TypeError, ValueError
        As :func:`receptive_field_curve`.

    Examples
    --------
    >>> vgg16 = ([(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 3 + [(2, 2)]
    ...          + [(3, 1)] * 3 + [(2, 2)] + [(3, 1)] * 3)
    >>> receptive_field(vgg16)          # conv5_3 of VGG-16
    196
    """
    rf, _ = receptive_field_curve(layers)
    return int(rf[-1])
