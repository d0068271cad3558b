"""The U-Net: encoder, bottleneck, decoder and skip concatenation, in 2-D and 3-D.

Every level holds two 3×3 (3×3×3) convolutions, each followed by an optional normalisation and a
ReLU. The encoder halves the spatial size with 2× max pooling and doubles the channels; the
decoder doubles the size with a 2× transposed convolution that halves the channels, concatenates
the encoder's feature map of the same level (the *skip*), and convolves twice again; a 1×1
convolution maps the last features to class scores (logits).

With ``padding="same"`` the output has the input's spatial size; with ``padding="valid"`` every
3×3 convolution trims one pixel on each side and the skips are centre-cropped, exactly as in the
2015 paper: ``UNet(1, 2, base_channels=64, depth=4, norm=None, padding="valid")`` maps a 572×572
tile to 388×388 and has 31,030,658 parameters (the count of the architecture as the paper
describes it, 23 convolution layers with biases; the paper itself states no count, and
``tests/test_unet.py`` checks it against a plain torch build of those layers).

References: ronneberger2015unet (2-D), cicek2016unet3d (3-D), isensee2021nnunet.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
from torch import nn

from companion._validation import as_bool, as_choice, as_int
from companion.unet import make_plan, plan_receptive_field, valid_trace

__all__ = [
    "UNet",
    "count_parameters",
    "unet_summary",
    "SummaryRow",
    "unet_output_size",
    "valid_input_sizes",
    "bottleneck_receptive_field",
    "group_count",
    "measure_bottleneck_receptive_field",
]

NORMS = ("batch", "instance", "group", None)
PADDINGS = ("same", "valid")


# --------------------------------------------------------------------------- pure arithmetic
def group_count(channels: int, max_groups: int = 8) -> int:
    """Number of groups for group norm: the largest divisor of `channels` that is ``<= max_groups``.

    >>> group_count(64), group_count(12), group_count(5)
    (8, 6, 5)
    """
    channels = as_int(channels, "channels", minimum=1)
    return max(g for g in range(1, min(max_groups, channels) + 1) if channels % g == 0)


def _valid_trace(in_size: int, depth: int) -> tuple[int | None, str]:
    """Follow one spatial axis through a valid-padding U-Net: (output size or None, reason).

    The sizes come from :func:`companion.unet.valid_trace`; here they are judged.
    """
    steps = valid_trace(in_size, depth)
    for (step, s), (following, _) in zip(steps[1:], steps[2:] + [("end", 0)]):
        if not step.endswith("convs"):
            continue
        level = step.split()[1] if step[0] in "ed" else None
        where = {"e": f"level {level}", "b": "the bottleneck", "d": f"decoder level {level}"}[step[0]]
        if s <= 0:
            return None, f"after the two convolutions of {where} nothing is left ({s})"
        if following.endswith("pool") and s % 2:
            return None, f"after the two convolutions of {where} the map is {s}, an odd size that 2x max pooling cannot halve"
    return steps[-1][1], ""


def unet_output_size(in_size: int, depth: int, padding: str = "valid") -> int:
    """Spatial output size of a U-Net along one axis.

    ``"same"``: the input size (which must be divisible by ``2**depth``). ``"valid"``: each level
    of the encoder maps ``s -> (s - 4) / 2``, the bottleneck ``s -> s - 4`` and each decoder level
    ``s -> 2 s - 4``; e.g. 572 -> 388 for depth 4.

    Parameters
    ----------
    in_size : int
        Input size along one axis.
    depth : int
        Number of poolings.
    padding : {"valid", "same"}

    Returns
    -------
    int
        Output size along that axis.

    Shapes
    ------
    One axis at a time: apply it to each of H, W (and D).

    Examples
    --------
    >>> unet_output_size(572, 4), unet_output_size(64, 4, "same")
    (388, 64)

    Raises
    ------
    ValueError
        If the size does not work (not divisible, an odd size before a pooling, or nothing left).
    """
    in_size = as_int(in_size, "in_size", minimum=1)
    depth = as_int(depth, "depth", minimum=0)
    as_choice(padding, "padding", PADDINGS, expected="'same' or 'valid'")
    if padding == "same":
        m = 2**depth
        if in_size % m:
            lo, hi = (in_size // m) * m, (in_size // m + 1) * m
            near = f"{lo} or {hi}" if lo > 0 else f"{hi}"
            raise ValueError(
                f"in_size: input size {in_size}: expected a multiple of 2**depth = {m} with padding='same' "
                f"and depth={depth}, got {in_size}; use e.g. {near}")
        return in_size
    out, why = _valid_trace(in_size, depth)
    if out is None:
        below = [s for s in valid_input_sizes(depth, max(1, in_size - 64), in_size)]
        above = [s for s in valid_input_sizes(depth, in_size + 1, in_size + 64)]
        near = ", ".join(str(s) for s in (below[-1:] + above[:1])) or "none within 64"
        raise ValueError(
            f"in_size: input size {in_size}: does not work with padding='valid' and depth={depth}: "
            f"{why}; nearest sizes that work: {near}")
    return out


def valid_input_sizes(depth: int, lo: int = 1, hi: int = 1024) -> list[int]:
    """All input sizes in ``[lo, hi]`` that a valid-padding U-Net of `depth` accepts.

    They are spaced ``2**depth`` apart: for depth 4, ..., 556, 572, 588, ...

    Parameters
    ----------
    depth : int
        Number of poolings, >= 0.
    lo, hi : int
        The closed range searched.

    Returns
    -------
    list of int

    Shapes
    ------
    One axis at a time.

    Raises
    ------
    TypeError, ValueError
        For a negative or non-integer `depth`, `lo` or `hi`.

    >>> valid_input_sizes(4, 550, 600)
    [556, 572, 588]
    """
    depth = as_int(depth, "depth", minimum=0)
    lo, hi = as_int(lo, "lo"), as_int(hi, "hi")
    return [s for s in range(max(1, lo), hi + 1) if _valid_trace(s, depth)[0] is not None]


def bottleneck_receptive_field(depth: int, kernel: int = 3, convs_per_level: int = 2) -> int:
    """Receptive field (pixels along one axis) of one bottleneck unit of a U-Net.

    ``r = 1 + sum_layers (k - 1) * j`` where the jump ``j`` doubles after each 2× pooling. With two
    3×3 convolutions per level this is ``9 * 2**depth - 4``: 32 for depth 2, 140 for depth 4.

    Parameters
    ----------
    depth : int
        Number of poolings before the bottleneck, >= 0.
    kernel : int, default 3
    convs_per_level : int, default 2

    Returns
    -------
    int
        Pixels along one axis (the field is a square or cube of this side).

    Shapes
    ------
    One axis at a time.

    Raises
    ------
    TypeError, ValueError
        For a negative or non-integer argument.

    >>> bottleneck_receptive_field(2), bottleneck_receptive_field(4)
    (32, 140)
    """
    depth = as_int(depth, "depth", minimum=0)
    kernel = as_int(kernel, "kernel", minimum=1)
    convs_per_level = as_int(convs_per_level, "convs_per_level", minimum=1)
    plan = make_plan([kernel] * (depth + 1), [2] * depth, 1, max_channels=2**depth, convs=convs_per_level, dims=1)
    return plan_receptive_field(plan)[0]


# --------------------------------------------------------------------------- modules
def _norm(kind: str | None, channels: int, dims: int) -> nn.Module:
    if kind is None:
        return nn.Identity()
    if kind == "batch":
        return (nn.BatchNorm2d if dims == 2 else nn.BatchNorm3d)(channels)
    if kind == "instance":
        return (nn.InstanceNorm2d if dims == 2 else nn.InstanceNorm3d)(channels, affine=True)
    return nn.GroupNorm(group_count(channels), channels)


class _DoubleConv(nn.Sequential):
    """Two (conv -> norm -> ReLU) layers; the conv has a bias only when there is no norm."""

    def __init__(self, c_in: int, c_out: int, dims: int, norm: str | None, padding: str):
        conv = nn.Conv2d if dims == 2 else nn.Conv3d
        pad = 1 if padding == "same" else 0
        bias = norm is None
        super().__init__(
            conv(c_in, c_out, 3, padding=pad, bias=bias), _norm(norm, c_out, dims), nn.ReLU(inplace=True),
            conv(c_out, c_out, 3, padding=pad, bias=bias), _norm(norm, c_out, dims), nn.ReLU(inplace=True),
        )


def _centre_crop(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    slices = [slice(None), slice(None)]
    for have, want in zip(x.shape[2:], size):
        start = (have - want) // 2
        slices.append(slice(start, start + want))
    return x[tuple(slices)]


class UNet(nn.Module):
    """U-Net for 2-D or 3-D segmentation.

    Level ``l`` (0 at full resolution, ``depth`` at the bottleneck) has ``base_channels * 2**l``
    channels. Encoder level ``l < depth``: two 3×3 convolutions, then 2× max pooling. Bottleneck:
    two 3×3 convolutions. Decoder level ``l``: a 2× transposed convolution from ``2c`` to ``c``
    channels, concatenation with the encoder's level-``l`` map (``c`` more channels, centre-cropped
    with ``padding="valid"``), two 3×3 convolutions ``2c -> c -> c``. Head: 1×1 convolution to
    `out_channels` logits.

    Parameters
    ----------
    in_channels, out_channels : int
        Image channels and number of classes.
    dims : {2, 3}
        Spatial dimensionality.
    base_channels : int, default 16
        Channels at level 0 (64 in the 2015 paper).
    depth : int, default 4
        Number of poolings (4 in the 2015 paper, i.e. 5 resolution levels).
    skip : bool, default True
        Concatenate encoder features in the decoder; ``False`` drops them (ablation), so the
        decoder's first convolution of each level then takes ``c`` instead of ``2c`` channels.
    norm : {"batch", "instance", "group", None}
        Normalisation after each 3×3 convolution (group norm: up to 8 groups, see
        :func:`group_count`). Convolutions carry a bias only when `norm` is None.
    padding : {"same", "valid"}
        ``"same"``: zero padding 1, output size = input size (divisible by ``2**depth``).
        ``"valid"``: no padding, skips centre-cropped, output smaller than input.

    Shapes
    ------
    input : (N, in_channels, *S);  output : (N, out_channels, *S_out) with ``S_out = S`` for
    "same" and :func:`unet_output_size` per axis for "valid".

    Raises
    ------
    TypeError, ValueError
        For bad constructor arguments (naming them), and in ``forward`` for an input of the wrong
        rank, channel count or spatial size (naming the size).

    References
    ----------
    ronneberger2015unet, cicek2016unet3d

    Examples
    --------
    >>> net = UNet(1, 2, base_channels=64, depth=4, norm=None, padding="valid")
    >>> count_parameters(net)
    31030658
    >>> net.output_shape((572, 572))
    (388, 388)
    """

    def __init__(self, in_channels: int, out_channels: int, *, dims: int = 2, base_channels: int = 16,
                 depth: int = 4, skip: bool = True, norm: str | None = "batch", padding: str = "same"):
        super().__init__()
        in_channels = as_int(in_channels, "in_channels", minimum=1)
        out_channels = as_int(out_channels, "out_channels", minimum=1)
        dims = as_int(dims, "dims")
        if dims not in (2, 3):
            raise ValueError(f"dims: expected 2 or 3, got {dims}")
        base_channels = as_int(base_channels, "base_channels", minimum=1)
        depth = as_int(depth, "depth", minimum=0)
        skip = as_bool(skip, "skip")
        as_choice(norm, "norm", NORMS, expected="'batch', 'instance', 'group' or None")
        as_choice(padding, "padding", PADDINGS, expected="'same' or 'valid'")
        self.in_channels, self.out_channels, self.dims = in_channels, out_channels, dims
        self.base_channels, self.depth, self.skip = base_channels, depth, skip
        self.norm, self.padding = norm, padding

        ch = [base_channels * 2**level for level in range(depth + 1)]
        conv_t = nn.ConvTranspose2d if dims == 2 else nn.ConvTranspose3d
        self.pool = (nn.MaxPool2d if dims == 2 else nn.MaxPool3d)(2)
        self.down_blocks = nn.ModuleList(
            _DoubleConv(in_channels if level == 0 else ch[level - 1], ch[level], dims, norm, padding)
            for level in range(depth))
        self.bottom = _DoubleConv(in_channels if depth == 0 else ch[depth - 1], ch[depth], dims, norm, padding)
        # decoder lists are indexed by level (0 = full resolution), used from deep to shallow
        self.up_convs = nn.ModuleList(conv_t(ch[level + 1], ch[level], 2, stride=2) for level in range(depth))
        self.up_blocks = nn.ModuleList(
            _DoubleConv((2 if skip else 1) * ch[level], ch[level], dims, norm, padding) for level in range(depth))
        self.head = (nn.Conv2d if dims == 2 else nn.Conv3d)(ch[0], out_channels, 1)

    # ---------------------------------------------------------------- shapes
    def output_shape(self, spatial: Sequence[int]) -> tuple[int, ...]:
        """Output spatial shape for an input spatial shape; ValueError naming a size that fails."""
        spatial = tuple(spatial)
        if len(spatial) != self.dims:
            raise ValueError(f"spatial: expected {self.dims} sizes for a {self.dims}-D U-Net, got {len(spatial)}: {spatial}")
        return tuple(unet_output_size(s, self.depth, self.padding) for s in spatial)

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
        if x.ndim != self.dims + 2:
            names = "(N, C, H, W)" if self.dims == 2 else "(N, C, D, H, W)"
            raise ValueError(f"x: expected {self.dims + 2} dims {names} for a {self.dims}-D U-Net, got {x.ndim} (shape {tuple(x.shape)})")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x: expected {self.in_channels} channels, got {x.shape[1]} (shape {tuple(x.shape)})")
        try:
            self.output_shape(x.shape[2:])
        except ValueError as exc:
            raise ValueError(f"x: {str(exc).removeprefix('in_size: ')} (input shape {tuple(x.shape)})") from None

    # ---------------------------------------------------------------- forward
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Run the encoder and bottleneck: ``(bottleneck features, [skip features per level])``."""
        self._check_input(x)
        skips = []
        for block in self.down_blocks:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        return self.bottom(x), skips

    def decode(self, x: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        """Run the decoder and the 1×1 head on bottleneck features."""
        for level in reversed(range(self.depth)):
            x = self.up_convs[level](x)
            if self.skip:
                x = torch.cat([_centre_crop(skips[level], x.shape[2:]), x], dim=1)
            x = self.up_blocks[level](x)
        return self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(*self.encode(x))

    def extra_repr(self) -> str:
        return (f"dims={self.dims}, base_channels={self.base_channels}, depth={self.depth}, "
                f"skip={self.skip}, norm={self.norm!r}, padding={self.padding!r}")


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters (``requires_grad``) of `module`.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    int
        ``UNet(1, 2, base_channels=64, depth=4, norm=None, padding="valid")``: 31,030,658.

    Shapes
    ------
    Sums ``p.numel()`` over the trainable parameters, whatever their shapes.

    Raises
    ------
    TypeError
        If `module` is not a torch Module.

    >>> count_parameters(torch.nn.Conv2d(1, 64, 3))
    640
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class SummaryRow(NamedTuple):
    """One row of :func:`unet_summary`."""

    name: str
    level: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    parameters: int


def unet_summary(model: UNet, input_shape: Sequence[int]) -> list[SummaryRow]:
    """Per-stage table of a U-Net: input and output shapes and parameter counts.

    Rows, in execution order: ``enc<l>`` (two convolutions), ``pool<l>``, ``bottleneck``,
    ``up<l>`` (transposed convolution), ``cat<l>`` (the concatenated input of the decoder block,
    only with skips), ``dec<l>`` (two convolutions), ``head``. The parameter counts add up to
    :func:`count_parameters`. The shapes come from a forward pass of a twin network built on
    PyTorch's ``meta`` device (no memory, no arithmetic), so the model itself is never run: its
    mode, weights and batch-norm running statistics are untouched, and any input size is cheap.

    Parameters
    ----------
    model : UNet
    input_shape : sequence of int
        ``(N, C, *S)`` or ``(C, *S)``.

    Returns
    -------
    list of SummaryRow
        ``(name, level, input_shape, output_shape, parameters)`` per stage.

    Shapes
    ------
    input_shape : (N, C, *S);  each row's shapes : (N, C_stage, *S_stage)

    Raises
    ------
    TypeError, ValueError
        For a model that is not a UNet, or an input shape it refuses (wrong dims, channels, or a
        size that does not work with its padding and depth).

    >>> [r.output_shape for r in unet_summary(UNet(1, 2, base_channels=4, depth=1), (1, 1, 8, 8))][-1]
    (1, 2, 8, 8)
    """
    if not isinstance(model, UNet):
        raise TypeError(f"model: expected a UNet, got {type(model).__name__}")
    shape = tuple(as_int(s, "input_shape", minimum=1) for s in input_shape)
    if len(shape) == model.dims + 1:
        shape = (1,) + shape
    if len(shape) != model.dims + 2:
        raise ValueError(f"input_shape: expected (N, C, *S) or (C, *S) with {model.dims} spatial sizes, got {shape}")
    rows: list[SummaryRow] = []

    def add(name, level, module, a, b):
        rows.append(SummaryRow(name, level, tuple(a.shape), tuple(b.shape),
                               count_parameters(module) if module is not None else 0))

    # a twin of the same configuration on the "meta" device: shapes without any arithmetic, so the
    # table of the 2015 network at 572 x 572 costs nothing; the parameters are counted on the model
    with torch.device("meta"):
        twin = UNet(model.in_channels, model.out_channels, dims=model.dims, base_channels=model.base_channels,
                    depth=model.depth, skip=model.skip, norm=model.norm, padding=model.padding).eval()
    model._check_input(torch.empty(shape, device="meta"))
    with torch.no_grad():
        x = torch.empty(shape, device="meta")
        skips = []
        for level, block in enumerate(twin.down_blocks):
            y = block(x)
            add(f"enc{level}", level, model.down_blocks[level], x, y)
            skips.append(y)
            x = twin.pool(y)
            add(f"pool{level}", level, None, y, x)
        y = twin.bottom(x)
        add("bottleneck", model.depth, model.bottom, x, y)
        x = y
        for level in reversed(range(model.depth)):
            y = twin.up_convs[level](x)
            add(f"up{level}", level, model.up_convs[level], x, y)
            if model.skip:
                cat = torch.cat([_centre_crop(skips[level], y.shape[2:]), y], dim=1)
                add(f"cat{level}", level, None, y, cat)
                y = cat
            x = twin.up_blocks[level](y)
            add(f"dec{level}", level, model.up_blocks[level], y, x)
        y = twin.head(x)
        add("head", 0, model.head, x, y)
    return rows


def measure_bottleneck_receptive_field(model: UNet, *, size: int | None = None, trials: int = 3,
                                       seed: int = 0) -> tuple[int, ...]:
    """Measure the bottleneck's receptive field from gradients: the support of ∂out_centre/∂input.

    For `trials` random inputs (seeded), back-propagates the sum over channels of the bottleneck
    features at the central position and takes the bounding box of the pixels where the
    gradient is nonzero in any trial (max pooling routes each gradient through one pixel per
    window, and ReLUs switch units off, so one trial can under-estimate the support). Runs in
    eval mode in float64; the model's mode and dtype are restored.

    Parameters
    ----------
    model : UNet
        Any padding; use ``padding="same"`` to keep the input small.
    size : int, optional
        Input size per axis; default: the smallest multiple of ``2**depth`` that exceeds
        ``bottleneck_receptive_field(depth) + 2**(depth + 1)``, so the field lies inside the input.

    Returns
    -------
    tuple of int
        The extent of the support along each spatial axis; equals
        :func:`bottleneck_receptive_field` (``9 · 2**depth - 4`` for 3×3 convolutions).

    Shapes
    ------
    The probe input is ``(1, in_channels, size, ..., size)``;  result : one entry per spatial axis.

    Raises
    ------
    TypeError, ValueError
        For a model that is not a UNet, or a `size` it refuses.
    """
    if not isinstance(model, UNet):
        raise TypeError(f"model: expected a UNet, got {type(model).__name__}")
    trials = as_int(trials, "trials", minimum=1)
    m = 2**model.depth
    if size is None:
        size = bottleneck_receptive_field(model.depth) + 2 * m
        size = -(-size // m) * m
        while model.padding == "valid" and _valid_trace(size, model.depth)[0] is None:
            size += 1
    size = as_int(size, "size", minimum=1)
    was_training = model.training
    p = next(model.parameters())
    dtype = p.dtype
    model.eval().double()
    gen = torch.Generator().manual_seed(as_int(seed, "seed", minimum=0))
    support = torch.zeros((size,) * model.dims, dtype=torch.bool)
    try:
        for _ in range(trials):
            x = torch.randn((1, model.in_channels) + (size,) * model.dims, generator=gen,
                            dtype=torch.float64, device=p.device).requires_grad_(True)
            feats, _skips = model.encode(x)
            centre = tuple(s // 2 for s in feats.shape[2:])
            feats[(0, slice(None)) + centre].sum().backward()
            support |= (x.grad[0] != 0).any(0).cpu()
    finally:
        model.to(dtype)
        model.train(was_training)
    extents = []
    for axis in range(model.dims):
        other = tuple(a for a in range(model.dims) if a != axis)
        idx = torch.nonzero(support.any(dim=other) if other else support).flatten()
        extents.append(int(idx.max() - idx.min() + 1) if len(idx) else 0)
    return tuple(extents)
