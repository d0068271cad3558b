"""The arithmetic of a U-Net design, without building it: channels, parameters, memory, receptive field.

A U-Net *plan* is what one writes down before training: per resolution stage the convolution
kernel and the pooling (or strided-convolution) factor, per axis, in the style of nnU-Net's plans.
Stage ``s = 0 .. depth``; stage ``s < depth`` ends with a down-sampling by ``pools[s]``; the
bottleneck is stage ``depth``. Each stage holds ``convs`` convolutions (two by default), each
followed by a normalisation and a ReLU; the decoder mirrors the encoder with a transposed
convolution (kernel = stride = the pooling factor) and a skip concatenation, and a 1×1×1
convolution gives the logits. The functions here are pure NumPy/Python, so an exercise checker or
a design widget can use them without torch; :class:`companion.models.UNet` builds the isotropic
special case in torch, and the tests hold the parameter count equal to a torch build.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

from companion._validation import as_bool, as_int
from companion.layers import count_conv_parameters, receptive_field

__all__ = ["UNetPlan", "make_plan", "stage_channels", "plan_parameters", "plan_activation_bytes",
           "plan_training_bytes", "plan_layers", "plan_receptive_field", "valid_trace", "stage_spacings", "anisotropy_violations",
           "patch_divisible"]


class UNetPlan(NamedTuple):
    """A 3-D (or 2-D) U-Net design: per-stage kernels and per-step pooling factors, per axis."""

    kernels: tuple[tuple[int, ...], ...]   # depth + 1 entries, each (k_d, k_h, k_w)
    pools: tuple[tuple[int, ...], ...]     # depth entries, each (p_d, p_h, p_w)
    base_channels: int
    max_channels: int = 320
    convs: int = 2

    @property
    def depth(self) -> int:
        return len(self.pools)

    @property
    def dims(self) -> int:
        return len(self.kernels[0])


def _tuple(v, n: int, name: str) -> tuple[int, ...]:
    if isinstance(v, bool):
        raise TypeError(f"{name}: expected an int or a tuple of {n} ints, got bool")
    if isinstance(v, int):
        if v < 1:
            raise ValueError(f"{name}: expected {n} positive ints, got {v!r}")
        return (v,) * n
    try:
        t = tuple(v)
    except TypeError:
        raise TypeError(f"{name}: expected an int or a tuple of {n} ints, got {type(v).__name__}") from None
    if len(t) != n or not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in t):
        raise ValueError(f"{name}: expected {n} positive ints, got {v!r}")
    return t


def make_plan(kernels: Sequence, pools: Sequence, base_channels: int, *, max_channels: int = 320,
              convs: int = 2, dims: int = 3) -> UNetPlan:
    """Check and normalise a plan.

    Parameters
    ----------
    kernels : sequence
        ``depth + 1`` kernel sizes, one per stage: an int (same on every axis) or a `dims`-tuple.
    pools : sequence
        ``depth`` down-sampling factors, one per step: an int or a `dims`-tuple.
    base_channels : int
        Channels of stage 0; each stage doubles them, up to `max_channels`.
    max_channels : int, default 320
        The cap on channels (nnU-Net uses 320 for 3-D networks).
    convs : int, default 2
        Convolutions per stage.
    dims : int, default 3

    Returns
    -------
    UNetPlan

    Raises
    ------
    TypeError, ValueError
        Naming the argument: wrong lengths (``len(kernels) != len(pools) + 1``), non-positive sizes.

    Examples
    --------
    >>> p = make_plan([(1, 3, 3), 3, 3], [(1, 2, 2), 2], 32)
    >>> p.depth, p.kernels[0], p.pools[1]
    (2, (1, 3, 3), (2, 2, 2))
    """
    if isinstance(base_channels, bool) or not isinstance(base_channels, int) or base_channels < 1:
        raise ValueError(f"base_channels: expected a positive int, got {base_channels!r}")
    if isinstance(max_channels, bool) or not isinstance(max_channels, int) or max_channels < base_channels:
        raise ValueError(f"max_channels: expected an int >= base_channels, got {max_channels!r}")
    if isinstance(convs, bool) or not isinstance(convs, int) or convs < 1:
        raise ValueError(f"convs: expected a positive int, got {convs!r}")
    if isinstance(kernels, (str, bytes)) or not hasattr(kernels, "__len__"):
        raise TypeError(f"kernels: expected a sequence of depth + 1 kernel sizes, got {type(kernels).__name__}")
    if isinstance(pools, (str, bytes)) or not hasattr(pools, "__len__"):
        raise TypeError(f"pools: expected a sequence of depth pooling factors, got {type(pools).__name__}")
    if len(kernels) != len(pools) + 1:
        raise ValueError(f"kernels: expected len(pools) + 1 = {len(pools) + 1} stages, got {len(kernels)}")
    ks = tuple(_tuple(k, dims, f"kernels[{i}]") for i, k in enumerate(kernels))
    ps = tuple(_tuple(p, dims, f"pools[{i}]") for i, p in enumerate(pools))
    return UNetPlan(ks, ps, base_channels, max_channels, convs)


def stage_channels(plan: UNetPlan) -> list[int]:
    """Channels per stage: ``min(base * 2**s, max_channels)``.

    >>> stage_channels(make_plan([3] * 6, [2] * 5, 32))
    [32, 64, 128, 256, 320, 320]
    """
    return [min(plan.base_channels * 2 ** s, plan.max_channels) for s in range(plan.depth + 1)]


def plan_parameters(plan: UNetPlan, in_channels: int, n_classes: int, *, norm: bool = True,
                    conv_bias: bool | None = None, norm_affine: bool = True, skip: bool = True) -> int:
    """Trainable parameters of the planned network.

    Convolutions followed by a normalisation carry no bias, each normalisation learns ``2 C``
    (γ, β); transposed convolutions (kernel = stride = the pooling factor) and the 1×1 head have a
    bias. With ``norm=False`` every convolution has a bias.

    Parameters
    ----------
    plan : UNetPlan
    in_channels, n_classes : int
        Channels of the input and of the logits.
    norm : bool, default True
        Whether a normalisation follows every convolution of a stage.
    conv_bias : bool, optional
        Whether those convolutions have a bias; by default only when no normalisation follows
        (``conv_bias=True`` with `norm` counts the bias that the mean subtraction cancels).
    norm_affine : bool, default True
        Whether each normalisation learns γ and β (``False``: a normalisation without parameters).
    skip : bool, default True
        Whether each decoder stage concatenates the encoder's map (its first convolution then takes
        twice the stage's channels); ``False`` is a decoder without skip connections.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If a switch is not a bool.

    Examples
    --------
    >>> plan_parameters(make_plan([3, 3], [2], 8, dims=2), 1, 2)
    6498
    >>> plan_parameters(make_plan([3, 3], [2], 8, dims=2), 1, 2, skip=False)
    5922
    """
    norm = as_bool(norm, "norm")
    bias = (not norm) if conv_bias is None else as_bool(conv_bias, "conv_bias")
    norm_params = 2 if norm and as_bool(norm_affine, "norm_affine") else 0
    skip = as_bool(skip, "skip")
    ch = stage_channels(plan)

    def stage(c_in: int, c: int, kernel: tuple[int, ...]) -> int:
        n = 0
        for i in range(plan.convs):
            n += count_conv_parameters(c_in if i == 0 else c, c, kernel, bias=bias)
            n += norm_params * c
        return n

    total = sum(stage(in_channels if s == 0 else ch[s - 1], ch[s], plan.kernels[s]) for s in range(plan.depth + 1))
    for s in range(plan.depth):
        total += count_conv_parameters(ch[s + 1], ch[s], plan.pools[s], transposed=True)
        total += stage((2 if skip else 1) * ch[s], ch[s], plan.kernels[s])
    return total + count_conv_parameters(ch[0], n_classes, (1,) * plan.dims)


def _stage_shapes(plan: UNetPlan, patch: Sequence[int]) -> list[tuple[int, ...]]:
    shapes, cur = [], tuple(int(p) for p in patch)
    for s in range(plan.depth + 1):
        shapes.append(cur)
        if s < plan.depth:
            cur = tuple(c // p for c, p in zip(cur, plan.pools[s]))
    return shapes


def plan_activation_bytes(plan: UNetPlan, patch: Sequence[int], batch: int = 1, *, maps_per_conv: int = 2,
                          itemsize: int = 4) -> int:
    """Bytes of the feature maps kept for the backward pass, for a batch of `batch` patches.

    Every convolution of the encoder, the bottleneck and the decoder keeps `maps_per_conv` maps of
    its stage's size (its output and its normalised, activated copy), plus each decoder's
    up-sampled map and concatenation. An estimate, not a profiler's number: it ignores the
    framework's workspace and the input.

    Examples
    --------
    >>> plan_activation_bytes(make_plan([3, 3], [2], 8, dims=2), (16, 16)) // 4   # float32 values
    26624
    """
    ch = stage_channels(plan)
    shapes = _stage_shapes(plan, patch)
    values = 0
    for s in range(plan.depth + 1):
        vox = math.prod(shapes[s])
        values += plan.convs * maps_per_conv * ch[s] * vox          # encoder / bottleneck
        if s < plan.depth:
            values += plan.convs * maps_per_conv * ch[s] * vox      # decoder stage s
            values += (ch[s] + 2 * ch[s]) * vox                     # up-sampled map + concatenation
    return int(batch * values * itemsize)


def plan_training_bytes(plan: UNetPlan, patch: Sequence[int], batch: int, in_channels: int, n_classes: int, *,
                        itemsize: int = 4) -> int:
    """Activations (:func:`plan_activation_bytes`) plus weights, gradients and Adam's two moments
    (four float32 copies of the parameters)."""
    params = plan_parameters(plan, in_channels, n_classes)
    return plan_activation_bytes(plan, patch, batch, itemsize=itemsize) + 4 * 4 * params


def plan_layers(plan: UNetPlan, axis: int = 0, *, bottleneck: bool = True,
                pool_extent: bool = True) -> list[tuple[int, int]]:
    """The encoder along one axis as a ``(kernel, stride)`` list, from the input to the bottleneck.

    Every stage gives ``convs`` entries ``(k, 1)``; every down-sampling between stages gives
    ``(p, p)`` (a pooling window of the pooling factor). The list is what
    :func:`companion.layers.receptive_field` takes.

    Parameters
    ----------
    plan : UNetPlan
    axis : int, default 0
        The spatial axis.
    bottleneck : bool, default True
        Include the bottleneck's own convolutions (``False`` stops after the last down-sampling).
    pool_extent : bool, default True
        ``False`` writes each down-sampling as ``(1, p)``: a stride without a window, the common
        mistake of forgetting that a pooling window widens the field too.

    Returns
    -------
    list of (int, int)

    Raises
    ------
    ValueError
        If `axis` is not an axis of the plan.

    Examples
    --------
    >>> plan_layers(make_plan([3, 3], [2], 8, convs=2, dims=1))
    [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1)]
    >>> plan_layers(make_plan([3, 3], [2], 8, dims=1), bottleneck=False, pool_extent=False)
    [(3, 1), (3, 1), (1, 2)]
    """
    axis = as_int(axis, "axis", minimum=0)
    if axis >= plan.dims:
        raise ValueError(f"axis: expected an axis < {plan.dims} of the plan, got {axis}")
    out: list[tuple[int, int]] = []
    for s in range(plan.depth + 1):
        if s < plan.depth or as_bool(bottleneck, "bottleneck"):
            out += [(plan.kernels[s][axis], 1)] * plan.convs
        if s < plan.depth:
            p = plan.pools[s][axis]
            out.append((p if as_bool(pool_extent, "pool_extent") else 1, p))
    return out


def plan_receptive_field(plan: UNetPlan) -> tuple[int, ...]:
    """Receptive field of one bottleneck voxel, in input voxels, per axis.

    >>> plan_receptive_field(make_plan([(1, 3, 3), 3, 3], [(1, 2, 2), 2], 32))
    (14, 32, 32)
    """
    return tuple(receptive_field(plan_layers(plan, axis)) for axis in range(plan.dims))


def valid_trace(in_size: int, depth: int, *, kernel: int = 3, convs: int = 2,
                decoder_convs: bool = True) -> list[tuple[str, int]]:
    """The size along one axis after each step of a U-Net with valid (unpadded) convolutions.

    Each stage's `convs` convolutions of `kernel` remove ``convs (kernel - 1)`` samples; a 2×
    max pooling halves the size (rounding down, as torch does; a U-Net wants it even); a 2×
    transposed convolution doubles it. No check is made here: a size can reach 0 or below, which
    :func:`companion.models.unet.unet_output_size` reports as an unusable input.

    Parameters
    ----------
    in_size : int
        Input size along the axis.
    depth : int
        Number of poolings.
    kernel, convs : int, default 3 and 2
        Kernel size and number of convolutions per stage.
    decoder_convs : bool, default True
        Whether the decoder stages convolve too (``False``: a decoder of up-sampling only).

    Returns
    -------
    list of (str, int)
        ``(step, size after it)`` from ``("input", in_size)`` to the last decoder step.

    Raises
    ------
    TypeError, ValueError
        For a non-integer or negative argument.

    Examples
    --------
    >>> valid_trace(572, 4)[-1], valid_trace(572, 4)[1]
    (('decoder 0 convs', 388), ('encoder 0 convs', 568))
    """
    size = as_int(in_size, "in_size", minimum=1)
    depth = as_int(depth, "depth", minimum=0)
    trim = as_int(convs, "convs", minimum=1) * (as_int(kernel, "kernel", minimum=1) - 1)
    decoder_convs = as_bool(decoder_convs, "decoder_convs")
    steps = [("input", size)]
    for level in range(depth):
        steps.append((f"encoder {level} convs", steps[-1][1] - trim))
        steps.append((f"encoder {level} pool", steps[-1][1] // 2))
    steps.append(("bottleneck convs", steps[-1][1] - trim))
    for level in reversed(range(depth)):
        steps.append((f"decoder {level} up", 2 * steps[-1][1]))
        if decoder_convs:
            steps.append((f"decoder {level} convs", steps[-1][1] - trim))
    return steps


def stage_spacings(plan: UNetPlan, spacing: Sequence[float]) -> list[tuple[float, ...]]:
    """The voxel spacing (mm) at each stage: the input spacing times the pooling so far."""
    cur, out = tuple(float(s) for s in spacing), []
    for s in range(plan.depth + 1):
        out.append(cur)
        if s < plan.depth:
            cur = tuple(c * p for c, p in zip(cur, plan.pools[s]))
    return out


def anisotropy_violations(plan: UNetPlan, spacing: Sequence[float], *, ratio: float = 2.0) -> list[str]:
    """Where the plan breaks nnU-Net's rule for anisotropic voxels.

    At a stage whose spacing along an axis is more than `ratio` times the finest spacing there,
    that axis is neither convolved (kernel 1) nor pooled (factor 1): it is already coarse, and
    pooling it would lose the through-plane resolution first. Returns one sentence per violation.

    >>> for line in anisotropy_violations(make_plan([3, 3], [2], 8), (5.0, 0.7, 0.7)):
    ...     print(line)
    stage 0: axis 0 is 7.1x coarser than the finest axis, yet its kernel is 3 (use 1)
    stage 0: axis 0 is 7.1x coarser than the finest axis, yet it is pooled by 2 (use 1)
    stage 1: axis 0 is 7.1x coarser than the finest axis, yet its kernel is 3 (use 1)
    >>> anisotropy_violations(make_plan([(1, 3, 3), (1, 3, 3)], [(1, 2, 2)], 8), (2.5, 0.7, 0.7))
    []
    """
    out = []
    for s, sp in enumerate(stage_spacings(plan, spacing)):
        finest = min(sp)
        for axis, v in enumerate(sp):
            if v > ratio * finest:
                if plan.kernels[s][axis] != 1:
                    out.append(f"stage {s}: axis {axis} is {v / finest:.1f}x coarser than the finest axis, "
                               f"yet its kernel is {plan.kernels[s][axis]} (use 1)")
                if s < plan.depth and plan.pools[s][axis] != 1:
                    out.append(f"stage {s}: axis {axis} is {v / finest:.1f}x coarser than the finest axis, "
                               f"yet it is pooled by {plan.pools[s][axis]} (use 1)")
    return out


def patch_divisible(plan: UNetPlan, patch: Sequence[int]) -> list[str]:
    """Axes whose patch size is not divisible by the product of its pooling factors."""
    out = []
    for axis, size in enumerate(patch):
        total = math.prod(p[axis] for p in plan.pools)
        if size % total:
            out.append(f"axis {axis}: patch size {size} is not divisible by {total} (the product of its poolings)")
    return out
