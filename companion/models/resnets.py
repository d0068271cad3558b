"""Plain and residual networks of equal size, for the gradient-flow chapter.

Both networks stack ``depth`` blocks that share one design: a pre-activation branch (He et al.
2016, *Identity mappings*)

    F_l(x) = W_l · phi(norm(x)),

where ``W_l`` is a bias-free linear map (a ``Linear`` for ``dims=0``, a 3-tap/3×3 ``Conv`` with
``'same'`` padding for ``dims=1``/``2``), ``phi`` is ReLU or the identity and ``norm`` is batch
normalisation or nothing. They differ in one line only:

* :class:`PlainNet`:     ``x_{l+1} = F_l(x_l)``
* :class:`ResidualNet`:  ``x_{l+1} = x_l + F_l(x_l)``

so they have exactly the same parameters. The block weights are drawn from
``N(0, sigma² / fan_in)``: with the identity activation and no normalisation, the squared norm
of the gradient reaching block ``l`` from the output grows or shrinks, in expectation, by a factor
``sigma²`` per plain block and ``1 + sigma²`` per residual block (``E[W Wᵀ] = sigma² I``), i.e.
``∝ sigma^{2L}`` and ``(1 + sigma²)^L`` through ``L`` blocks.

Optionally a stem (``in_channels`` → ``width``) and a head (global average pooling for
``dims > 0``, then ``width`` → ``num_classes``) turn them into classifiers; stem and head are the
same in both networks.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from companion._validation import as_bool, as_choice, as_int, as_positive_float
from companion.residual import linear_theory_growth  # the NumPy core; re-exported here for old callers

__all__ = ["PlainNet", "ResidualNet", "layer_gradient_norms", "BlurPool", "TinyCNN", "DnCNN", "linear_theory_growth"]

_ACTIVATIONS = ("relu", "linear")
_NORMS = (None, "batch")


def _linear_map(dims: int, c_in: int, c_out: int, bias: bool) -> nn.Module:
    if dims == 0:
        return nn.Linear(c_in, c_out, bias=bias)
    conv = nn.Conv1d if dims == 1 else nn.Conv2d
    return conv(c_in, c_out, 3, padding=1, bias=bias)


def _init(layer: nn.Module, sigma: float) -> None:
    fan_in = layer.weight[0].numel()
    with torch.no_grad():
        layer.weight.normal_(0.0, sigma / math.sqrt(fan_in))
        if layer.bias is not None:
            layer.bias.zero_()


class _Branch(nn.Module):
    """``F(x) = W · phi(norm(x))``."""

    def __init__(self, dims: int, width: int, sigma: float, activation: str, norm: str | None):
        super().__init__()
        if norm == "batch":
            self.norm = nn.BatchNorm1d(width) if dims <= 1 else nn.BatchNorm2d(width)
        else:
            self.norm = nn.Identity()
        self.act = nn.ReLU() if activation == "relu" else nn.Identity()
        self.linear = _linear_map(dims, width, width, bias=False)
        _init(self.linear, sigma)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.act(self.norm(x)))


class _Stack(nn.Module):
    residual: bool = False

    def __init__(self, depth: int, width: int, *, dims: int = 0, sigma: float = 1.0,
                 activation: str = "linear", norm: str | None = None, in_channels: int | None = None,
                 num_classes: int | None = None, seed: int | None = 0):
        super().__init__()
        depth = as_int(depth, "depth", minimum=1)
        width = as_int(width, "width", minimum=1)
        dims = as_int(dims, "dims", minimum=0)
        if dims > 2:
            raise ValueError(f"dims: expected 0 (linear layers), 1 or 2 (convolutions), got {dims}")
        sigma = as_positive_float(sigma, "sigma", allow_zero=True)
        as_choice(activation, "activation", _ACTIVATIONS)
        as_choice(norm, "norm", _NORMS)
        if in_channels is not None:
            in_channels = as_int(in_channels, "in_channels", minimum=1)
        if num_classes is not None:
            num_classes = as_int(num_classes, "num_classes", minimum=1)
        self.depth, self.width, self.dims, self.sigma = depth, width, dims, sigma
        if seed is not None:
            gen_state = torch.random.get_rng_state()
            torch.manual_seed(as_int(seed, "seed", minimum=0))
        self.stem = None if in_channels is None else _linear_map(dims, in_channels, width, bias=True)
        if self.stem is not None:
            _init(self.stem, 1.0)
        self.blocks = nn.ModuleList(_Branch(dims, width, sigma, activation, norm) for _ in range(depth))
        self.head = None if num_classes is None else nn.Linear(width, num_classes)
        if self.head is not None:
            _init(self.head, 1.0)
        if seed is not None:
            torch.random.set_rng_state(gen_state)

    def features(self, x: torch.Tensor, keep: list | None = None) -> torch.Tensor:
        """Run stem and blocks; if `keep` is a list, append each block's input and the last output."""
        if self.stem is not None:
            x = self.stem(x)
        for block in self.blocks:
            if keep is not None:
                keep.append(x)
            x = x + block(x) if self.residual else block(x)
        if keep is not None:
            keep.append(x)
        return x

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
        c = self.width if self.stem is None else self.stem.in_features if self.dims == 0 else self.stem.in_channels
        want = "(N, C)" if self.dims == 0 else "(N, C, L)" if self.dims == 1 else "(N, C, H, W)"
        if x.ndim != self.dims + 2:
            raise ValueError(f"x: expected {self.dims + 2} dims {want}, got {x.ndim} (shape {tuple(x.shape)})")
        if x.shape[1] != c:
            raise ValueError(f"x: expected {c} channels (features) on axis 1, got {x.shape[1]} (shape {tuple(x.shape)})")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        x = self.features(x)
        if self.head is not None:
            if self.dims > 0:
                x = x.mean(dim=tuple(range(2, x.ndim)))
            x = self.head(x)
        return x


class PlainNet(_Stack):
    """A plain stack of ``depth`` blocks ``x_{l+1} = W_l · phi(norm(x_l))``.

    Parameters
    ----------
    depth : int
        Number of blocks ``L`` (one weight layer each).
    width : int
        Features (``dims=0``) or channels (``dims=1, 2``) of every block.
    dims : {0, 1, 2}, default 0
        0: ``Linear`` layers on ``(N, width)``; 1 or 2: 3-tap / 3×3 convolutions on
        ``(N, width, L)`` / ``(N, width, H, W)``.
    sigma : float, default 1.0
        Init scale: block weights ~ ``N(0, sigma² / fan_in)``.
    activation : {"linear", "relu"}, default "linear"
        ``phi``; "linear" (identity) gives the exact linear theory.
    norm : {None, "batch"}, default None
        Batch normalisation at the start of each branch.
    in_channels, num_classes : int, optional
        Add a stem ``in_channels → width`` and a head ``width → num_classes`` (after global
        average pooling when ``dims > 0``).
    seed : int or None, default 0
        Seed of the initial weights (the global torch generator is left as it was); None uses
        the global generator.

    Shapes
    ------
    x : (N, in_channels or width, *S);  output : (N, num_classes) with a head, else like the input

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or value (message names it).

    References
    ----------
    he2016deep, glorot2010understanding

    Examples
    --------
    >>> net = PlainNet(4, 8)
    >>> net(torch.zeros(2, 8)).shape
    torch.Size([2, 8])
    """

    residual = False


class ResidualNet(_Stack):
    """A residual stack of ``depth`` blocks ``x_{l+1} = x_l + W_l · phi(norm(x_l))``.

    Same arguments, layers and parameter count as :class:`PlainNet`; only the identity skip
    connection is added, so ``∂L/∂x_l = ∂L/∂x_{l+1} + J_{F_l}ᵀ ∂L/∂x_{l+1}``.

    Shapes
    ------
    x : (N, in_channels or width, *S);  output : (N, num_classes) with a head, else like the input

    References
    ----------
    he2016deep, he2016identity

    Examples
    --------
    >>> net = ResidualNet(4, 8, sigma=0.0)   # zero branches: the identity map
    >>> x = torch.randn(3, 8)
    >>> bool(torch.equal(net(x), x))
    True
    """

    residual = True


def layer_gradient_norms(model: _Stack, x: torch.Tensor, *, seed: int = 0) -> np.ndarray:
    """Norms of the gradient reaching each block's input, relative to the gradient at the output.

    A random upstream gradient ``g ~ N(0, I)`` (seeded) is placed on the last block's output
    ``x_L``, i.e. the loss is ``sum(g * x_L)``; returns ``||∂L/∂x_l|| / ||g||`` for
    ``l = 0 … L`` (the last entry is 1). Norms are Frobenius norms over the whole batch.

    Shapes
    ------
    x : (N, in_channels or width, *S);  result : (depth + 1,)

    Raises
    ------
    TypeError
        If `model` is not a PlainNet or ResidualNet.
    """
    if not isinstance(model, _Stack):
        raise TypeError(f"model: expected a PlainNet or ResidualNet, got {type(model).__name__}")
    keep: list[torch.Tensor] = []
    param = next(model.parameters())
    x = torch.as_tensor(x).detach().to(param.dtype).requires_grad_(True)
    out = model.features(x, keep)
    gen = torch.Generator().manual_seed(as_int(seed, "seed", minimum=0))
    g = torch.randn(out.shape, generator=gen, dtype=out.dtype)
    grads = torch.autograd.grad(out, keep, grad_outputs=g, allow_unused=True)
    norms = [0.0 if gr is None else float(gr.norm()) for gr in grads]
    norms[-1] = float(g.norm())
    return np.asarray(norms) / float(g.norm())


# --------------------------------------------------------------------------------------------
# Anti-aliased pooling in torch, for the pooling chapter's small classifier
# --------------------------------------------------------------------------------------------

class BlurPool(nn.Module):
    """Torch twin of :func:`companion.pooling.blur_pool` (MaxBlurPool, Zhang 2019), 2-D or 3-D.

    Dense max over `kernel` (stride 1, ``-inf`` padding keeping the size), depthwise normalised
    binomial blur with reflect padding, subsampling by `stride`: output size ``ceil(S / stride)``.

    Shapes
    ------
    x : (N, channels, *S);  output : (N, channels, *ceil(S / stride))

    References
    ----------
    zhang2019shiftinvariant
    """

    def __init__(self, channels: int, kernel: int = 2, stride: int = 2, filter_size: int = 3,
                 dims: int = 2):
        super().__init__()
        from companion.pooling import binomial_filter

        self.channels = as_int(channels, "channels", minimum=1)
        self.kernel = as_int(kernel, "kernel", minimum=1)
        self.stride = as_int(stride, "stride", minimum=1)
        self.filter_size = as_int(filter_size, "filter_size", minimum=1)
        self.dims = as_int(dims, "dims", minimum=2)
        if self.dims > 3:
            raise ValueError(f"dims: expected 2 or 3, got {self.dims}")
        a = torch.tensor(binomial_filter(self.filter_size), dtype=torch.float32)
        filt = a
        for _ in range(self.dims - 1):
            filt = filt[..., None] * a
        self.register_buffer("weight", filt.expand(self.channels, 1, *filt.shape).contiguous())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fn = torch.nn.functional
        d = self.dims
        if self.kernel > 1:
            lo = (self.kernel - 1) // 2
            x = fn.pad(x, (lo, self.kernel - 1 - lo) * d, value=float("-inf"))
            x = (fn.max_pool2d if d == 2 else fn.max_pool3d)(x, self.kernel, stride=1)
        before, after = (self.filter_size - 1) // 2, self.filter_size // 2
        if self.filter_size > 1:
            x = fn.pad(x, (before, after) * d, mode="reflect")
        conv = fn.conv2d if d == 2 else fn.conv3d
        return conv(x, self.weight.to(x.dtype), stride=self.stride, groups=self.channels)


class TinyCNN(nn.Module):
    """A three-level 2-D classifier: (3×3 conv, ReLU, pool) × 3, global average pooling, linear.

    ``pool="max"`` uses ``MaxPool2d(2)``; ``pool="blur"`` uses :class:`BlurPool` (the same
    max, then a binomial blur before the subsampling). Both have the same parameters; the seed
    fixes the initial weights, so the two differ only in the pooling.

    Shapes
    ------
    x : (N, in_channels, H, W);  output : (N, num_classes)
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 2, *, width: int = 8,
                 pool: str = "max", seed: int = 0):
        super().__init__()
        as_choice(pool, "pool", ("max", "blur"), expected="'max' or 'blur'")
        in_channels = as_int(in_channels, "in_channels", minimum=1)
        num_classes = as_int(num_classes, "num_classes", minimum=1)
        width = as_int(width, "width", minimum=1)
        state = torch.random.get_rng_state()
        torch.manual_seed(as_int(seed, "seed", minimum=0))
        chans = [in_channels, width, 2 * width, 2 * width]
        layers: list[nn.Module] = []
        for c_in, c_out in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                       nn.MaxPool2d(2) if pool == "max" else BlurPool(c_out)]
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(chans[-1], num_classes)]
        self.net = nn.Sequential(*layers)
        torch.random.set_rng_state(state)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


# --------------------------------------------------------------------------------------------
# A small residual denoiser (DnCNN-style), for the chapter's imaging example
# --------------------------------------------------------------------------------------------

class DnCNN(nn.Module):
    """A small DnCNN-style denoiser (Zhang et al. 2017), with or without its global skip.

    ``body``: 3×3 convolution ``in_channels → width`` and ReLU, then ``depth - 2`` times (3×3
    convolution ``width → width``, batch norm, ReLU), then a 3×3 convolution ``width →
    in_channels``; ``'same'`` padding throughout. With ``residual=True`` the network predicts the
    *noise* and returns ``x - body(x)`` (residual learning, the correction to the identity); with
    ``residual=False`` it returns ``body(x)`` and must reproduce the clean image itself. Both have
    exactly the same layers and parameters; `seed` fixes the initial weights (the global torch
    generator is left as it was), so the two differ only in the skip.

    Parameters
    ----------
    in_channels : int, default 1
    width : int, default 16
        Channels of the hidden layers.
    depth : int, default 5
        Convolution layers, >= 2.
    residual : bool, default True
    seed : int, default 0

    Shapes
    ------
    x : (N, in_channels, H, W);  output : the same

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or value (message names it).

    References
    ----------
    zhang2017dncnn

    Examples
    --------
    >>> net = DnCNN(width=4, depth=3)
    >>> net(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 1, 8, 8])
    """

    def __init__(self, in_channels: int = 1, width: int = 16, depth: int = 5, *, residual: bool = True,
                 seed: int = 0):
        super().__init__()
        in_channels = as_int(in_channels, "in_channels", minimum=1)
        width = as_int(width, "width", minimum=1)
        depth = as_int(depth, "depth", minimum=2)
        self.residual = residual = as_bool(residual, "residual")
        state = torch.random.get_rng_state()
        torch.manual_seed(as_int(seed, "seed", minimum=0))
        layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU()]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        layers.append(nn.Conv2d(width, in_channels, 3, padding=1))
        self.body = nn.Sequential(*layers)
        torch.random.set_rng_state(state)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 4:
            raise ValueError(f"x: expected 4 dims (N, C, H, W), got {x.ndim} (shape {tuple(x.shape)})")
        out = self.body(x)
        return x - out if self.residual else out
