"""companion.unet: the arithmetic of a U-Net plan, against a torch build, a hand count and the
receptive-field recursion of companion.layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from companion.layers import receptive_field
from companion.models import UNet, count_parameters
from companion.unet import (
    anisotropy_violations,
    make_plan,
    patch_divisible,
    plan_activation_bytes,
    plan_layers,
    plan_parameters,
    plan_receptive_field,
    stage_channels,
)


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("norm", ["batch", "instance", "group", None])
@pytest.mark.parametrize("depth, base", [(1, 4), (3, 8), (4, 16)])
def test_parameters_equal_companion_unet_in_torch(dims, norm, depth, base):
    model = UNet(2, 3, dims=dims, base_channels=base, depth=depth, norm=norm)
    plan = make_plan([3] * (depth + 1), [2] * depth, base, max_channels=10**6, dims=dims)
    assert plan_parameters(plan, 2, 3, norm=norm is not None) == count_parameters(model)


def _torch_plan(plan, c_in, n_classes, *, bias=False, affine=True, skip=True):
    """A plain torch build of an anisotropic plan, to count its parameters independently."""
    ch = stage_channels(plan)
    mods = []

    def stage(a, c, k):
        pad = tuple(x // 2 for x in k)
        with torch.device("meta"):  # shapes only
            return [nn.Conv3d(a, c, k, padding=pad, bias=bias), nn.InstanceNorm3d(c, affine=affine),
                    nn.Conv3d(c, c, k, padding=pad, bias=bias), nn.InstanceNorm3d(c, affine=affine)]
    for s in range(plan.depth + 1):
        mods += stage(c_in if s == 0 else ch[s - 1], ch[s], plan.kernels[s])
    for s in range(plan.depth):
        mods.append(nn.ConvTranspose3d(ch[s + 1], ch[s], plan.pools[s], stride=plan.pools[s]))
        mods += stage((2 if skip else 1) * ch[s], ch[s], plan.kernels[s])
    mods.append(nn.Conv3d(ch[0], n_classes, 1))
    return sum(p.numel() for m in mods for p in m.parameters())


def test_parameters_of_an_anisotropic_capped_plan_equal_a_torch_build():
    plan = make_plan([(1, 3, 3), (1, 3, 3), 3, 3, 3, 3], [(1, 2, 2), (1, 2, 2), 2, 2, 2], 32, max_channels=320)
    assert stage_channels(plan) == [32, 64, 128, 256, 320, 320]
    assert plan_parameters(plan, 1, 3) == _torch_plan(plan, 1, 3)


@pytest.mark.parametrize("switches", [
    dict(conv_bias=True), dict(norm_affine=False), dict(skip=False),
    dict(conv_bias=True, norm_affine=False, skip=False),
], ids=["bias-before-norm", "norm-without-affine", "no-skip", "all-three"])
def test_parameter_switches_equal_a_torch_build(switches):
    """The misconception switches of the practice bank are real networks: a torch build counts them."""
    plan = make_plan([(1, 3, 3), 3, 3, 3], [(1, 2, 2), 2, 2], 8, max_channels=48)
    torch_kw = {"bias": switches.get("conv_bias", False), "affine": switches.get("norm_affine", True),
                "skip": switches.get("skip", True)}
    assert plan_parameters(plan, 2, 3, **switches) == _torch_plan(plan, 2, 3, **torch_kw)


def test_two_d_kernels_count_as_one_by_three_by_three():
    """A 3×3 kernel written into a 3-D network has the weights of a 1×3×3 one: c_out·c_in·9."""
    flat = make_plan([(1, 3, 3)] * 3, [2, 2], 4)
    full = make_plan([3] * 3, [2, 2], 4)
    ch = stage_channels(full)
    convs_in = [1, ch[0], ch[0], ch[1], ch[1], ch[2]] + [2 * ch[1], ch[1], 2 * ch[0], ch[0]]
    convs_out = [ch[0], ch[0], ch[1], ch[1], ch[2], ch[2], ch[1], ch[1], ch[0], ch[0]]
    weights = sum(a * b for a, b in zip(convs_in, convs_out))
    assert plan_parameters(full, 1, 2) - plan_parameters(flat, 1, 2) == (27 - 9) * weights


def test_plan_layers_closed_form():
    plan = make_plan([3, 3, 3], [2, 2], 4, convs=2, dims=1)
    assert plan_layers(plan) == [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1)]
    assert receptive_field(plan_layers(plan)) == 9 * 2**2 - 4
    # without the bottleneck's convolutions: 2 * 2 * 4 = 16 fewer; without the pools' extent: 1 + 2 fewer
    assert receptive_field(plan_layers(plan, bottleneck=False)) == 9 * 2**2 - 4 - 16
    assert receptive_field(plan_layers(plan, pool_extent=False)) == 9 * 2**2 - 4 - 3
    aniso = make_plan([(1, 3, 3), 3], [(1, 2, 2)], 4)
    assert plan_layers(aniso, 0) == [(1, 1), (1, 1), (1, 1), (3, 1), (3, 1)]
    assert plan_layers(aniso, 2) == [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1)]
    with pytest.raises(ValueError, match=r"^axis: expected an axis < 3"):
        plan_layers(aniso, 3)
    with pytest.raises(TypeError, match=r"^skip: expected a bool"):
        plan_parameters(aniso, 1, 2, skip=1)


def test_receptive_field_per_axis_equals_the_layer_recursion_and_a_measurement():
    plan = make_plan([(1, 3, 3), 3, 3], [(1, 2, 2), 2], 4)
    rf = plan_receptive_field(plan)
    # h axis by hand: convs 3,3, pool 2, convs 3,3, pool 2, convs 3,3 = 32
    assert rf == (14, 32, 32)
    assert rf[1] == receptive_field([(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1)])
    # measured: the gradient of one bottleneck voxel of a linear conv/avg-pool stack w.r.t. the input
    torch.manual_seed(0)
    layers = []
    for s in range(plan.depth + 1):
        k = plan.kernels[s]
        layers += [nn.Conv3d(1, 1, k, bias=False), nn.Conv3d(1, 1, k, bias=False)]
        if s < plan.depth:
            layers.append(nn.AvgPool3d(plan.pools[s]))
    net = nn.Sequential(*layers).double()
    for m in net:
        if isinstance(m, nn.Conv3d):
            nn.init.constant_(m.weight, 1.0)
    x = torch.ones(1, 1, 40, 80, 80, dtype=torch.float64, requires_grad=True)
    y = net(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2, y.shape[4] // 2].backward()
    nz = np.nonzero(x.grad[0, 0].numpy())
    assert tuple(int(a.max() - a.min() + 1) for a in nz) == rf


def test_activation_bytes_by_hand_and_linear_in_batch():
    plan = make_plan([3, 3], [2], 8, dims=2)
    # stage 0: 16x16=256 voxels, 8 ch: encoder 2 convs x 2 maps, decoder the same, up + concat 24 ch
    # stage 1: 8x8=64 voxels, 16 ch: 2 convs x 2 maps
    values = 2 * 2 * 8 * 256 * 2 + 24 * 256 + 2 * 2 * 16 * 64
    assert plan_activation_bytes(plan, (16, 16)) == 4 * values
    assert plan_activation_bytes(plan, (16, 16), 3) == 3 * 4 * values
    assert plan_activation_bytes(plan, (16, 16), itemsize=2) == 2 * values


def test_anisotropy_rule_and_divisibility():
    iso = make_plan([3, 3, 3], [2, 2], 8)
    assert anisotropy_violations(iso, (1.0, 1.0, 1.0)) == []
    assert any("stage 0: axis 0" in v for v in anisotropy_violations(iso, (5.0, 0.8, 0.8)))
    aniso = make_plan([(1, 3, 3), (1, 3, 3), 3], [(1, 2, 2), (2, 2, 2)], 8)
    # 3.0 / 0.8 = 3.75 > 2: no z at stage 0; then 3.0 / 1.6 = 1.9 <= 2: z may be convolved and pooled
    assert anisotropy_violations(aniso, (3.0, 0.8, 0.8)) == []
    assert patch_divisible(aniso, (6, 64, 64)) == []
    assert patch_divisible(aniso, (7, 64, 63)) == [
        "axis 0: patch size 7 is not divisible by 2 (the product of its poolings)",
        "axis 2: patch size 63 is not divisible by 4 (the product of its poolings)"]


@pytest.mark.parametrize("call, exc, match", [
    (lambda: make_plan([3, 3], [2, 2], 8), ValueError, r"^kernels: expected len\(pools\) \+ 1 = 3 stages, got 2"),
    (lambda: make_plan([3, (3, 3)], [2], 8), ValueError, r"^kernels\[1\]: expected 3 positive ints"),
    (lambda: make_plan([3, 3], [0], 8), ValueError, r"^pools\[0\]: expected 3 positive ints"),
    (lambda: make_plan([3, 3], [2], 0), ValueError, r"^base_channels: expected a positive int"),
    (lambda: make_plan("33", [2], 8), TypeError, r"^kernels: expected a sequence"),
    (lambda: make_plan([3, 3], [2], 8, max_channels=4), ValueError, r"^max_channels: expected an int >= base_channels"),
])
def test_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("depth, size", [(1, 20), (2, 44), (2, 60), (3, 92)])
def test_valid_trace_equals_a_valid_torch_unet(depth, size):
    """The last size of valid_trace is the output size of companion.models.UNet(padding='valid')."""
    from companion.unet import valid_trace

    torch.manual_seed(0)
    net = UNet(1, 2, dims=2, base_channels=2, depth=depth, norm=None, padding="valid")
    with torch.no_grad():
        out = net(torch.zeros(1, 1, size, size))
    assert out.shape[-1] == valid_trace(size, depth)[-1][1]
    assert valid_trace(572, 4)[-1] == ("decoder 0 convs", 388)   # Ronneberger et al.'s tile
    # without decoder convolutions only the encoder and the bottleneck trim: ((572-4)/2-4)/2 ... = 28, then x16
    assert valid_trace(572, 4, decoder_convs=False)[-1] == ("decoder 0 up", 16 * 28)
