"""Tests of companion.models.unet against published numbers, hand counts and gradient measurements."""

import numpy as np
import pytest
import torch
from torch import nn

from companion.models import UNet, count_parameters
from companion.models.unet import (
    bottleneck_receptive_field,
    group_count,
    measure_bottleneck_receptive_field,
    unet_output_size,
    unet_summary,
    valid_input_sizes,
)

torch.set_num_threads(1)


def conv_params(c_in, c_out, k, dims=2, bias=True):
    """Hand count of a convolution's parameters: c_out * (c_in * k**dims + bias)."""
    return c_out * (c_in * k**dims + int(bias))


def unet_params_by_hand(c_in, k_out, base, depth, dims=2, skip=True, norm=None):
    """Independent parameter count of the U-Net described in the paper (Fig. 1), level by level."""
    bias = norm is None
    norm_params = 0 if norm is None else 2  # gamma and beta per channel, per normalisation
    ch = [base * 2**level for level in range(depth + 1)]
    total, prev = 0, c_in
    for c in ch:  # encoder levels and the bottleneck: conv prev->c, conv c->c
        total += conv_params(prev, c, 3, dims, bias) + conv_params(c, c, 3, dims, bias) + 2 * norm_params * c
        prev = c
    for level in range(depth):  # decoder: up-conv 2c->c (2x2, bias), conv (2c or c)->c, conv c->c
        c = ch[level]
        total += conv_params(2 * c, c, 2, dims, True)
        total += conv_params((2 if skip else 1) * c, c, 3, dims, bias) + conv_params(c, c, 3, dims, bias)
        total += 2 * norm_params * c
    return total + conv_params(ch[0], k_out, 1, dims, True)


# --------------------------------------------------------------------------- the 2015 configuration
def plain_torch_unet_2015():
    """The 23 convolution layers of Ronneberger et al. 2015 (Fig. 1 and section 2), as plain torch modules.

    The paper states the layers ("in total the network has 23 convolutional layers") but no
    parameter count: 18 unpadded 3x3 convolutions, 4 2x2 up-convolutions halving the channels,
    one 1x1 output convolution, all with biases; 1 input channel, 2 classes.
    """
    ch = [64, 128, 256, 512, 1024]
    layers, prev = [], 1
    for c in ch:                                   # contracting path and bottleneck
        layers += [nn.Conv2d(prev, c, 3), nn.Conv2d(c, c, 3)]
        prev = c
    for c in reversed(ch[:-1]):                    # expanding path
        layers += [nn.ConvTranspose2d(2 * c, c, 2, stride=2), nn.Conv2d(2 * c, c, 3), nn.Conv2d(c, c, 3)]
    layers.append(nn.Conv2d(64, 2, 1))
    return nn.ModuleList(layers)


def test_unet_original_has_31030658_parameters():
    # The count of the 2015 architecture as described (the paper itself states no count),
    # checked against a plain torch build of its 23 convolution layers and a hand count.
    net = UNet(1, 2, base_channels=64, depth=4, norm=None, padding="valid")
    plain = plain_torch_unet_2015()
    assert len(plain) == 23
    assert count_parameters(net) == sum(p.numel() for p in plain.parameters()) == 31_030_658
    assert unet_params_by_hand(1, 2, 64, 4) == 31_030_658
    ours = sorted(tuple(m.weight.shape) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    assert ours == sorted(tuple(m.weight.shape) for m in plain)


def test_unet_original_maps_572_to_388():
    # the same architecture with 2 base channels (same spatial arithmetic) run for real on 572x572
    assert UNet(1, 2, base_channels=64, depth=4, norm=None, padding="valid").output_shape((572, 572)) == (388, 388)
    net = UNet(1, 2, base_channels=2, depth=4, norm=None, padding="valid")
    with torch.no_grad():
        out = net(torch.zeros(1, 1, 572, 572))
    assert out.shape == (1, 2, 388, 388)


def test_unet_summary_matches_paper_figure():
    # spatial sizes of Fig. 1 of the paper: 572 -> 568 -> 284 -> 280 -> ... -> 388
    rows = {r.name: r for r in unet_summary(UNet(1, 2, base_channels=1, depth=4, norm=None, padding="valid"), (1, 572, 572))}
    sizes = {"enc0": 568, "pool0": 284, "enc1": 280, "pool1": 140, "enc2": 136, "pool2": 68, "enc3": 64,
             "pool3": 32, "bottleneck": 28, "up3": 56, "dec3": 52, "up2": 104, "dec2": 100, "up1": 200,
             "dec1": 196, "up0": 392, "dec0": 388, "head": 388}
    for name, s in sizes.items():
        assert rows[name].output_shape[2:] == (s, s), name
    # with 64 base channels the channel numbers are those of the figure; the table adds up
    net = UNet(1, 2, base_channels=64, depth=4, norm=None, padding="valid")
    table = unet_summary(UNet(1, 2, base_channels=64, depth=4, norm=None, padding="same"), (1, 16, 16))
    assert sum(r.parameters for r in table) == count_parameters(net)
    by = {r.name: r for r in table}
    assert by["enc0"].parameters == conv_params(1, 64, 3) + conv_params(64, 64, 3) == 37_568
    assert by["bottleneck"].output_shape[1] == 1024
    assert by["cat3"].output_shape[1] == 1024 and by["cat0"].output_shape[1] == 128  # skip + up-sampled
    assert by["up3"].parameters == 2_097_664  # ConvTranspose2d(1024 -> 512, 2x2)


def test_unet_summary_restores_mode_and_running_stats():
    net = UNet(1, 2, base_channels=4, depth=2).train()
    before = net.down_blocks[0][1].running_mean.clone()
    unet_summary(net, (1, 1, 16, 16))
    assert net.training
    torch.testing.assert_close(net.down_blocks[0][1].running_mean, before)


# --------------------------------------------------------------------------- parameter counts
CONFIGS = [  # (in, out, base, depth, dims, skip, norm)
    pytest.param(1, 2, 8, 2, 2, True, None, id="2d-nonorm"),
    pytest.param(3, 4, 4, 3, 2, True, "batch", id="2d-batch-no-bias"),
    pytest.param(1, 3, 4, 2, 3, True, "instance", id="3d-instance"),
    pytest.param(2, 2, 6, 2, 3, True, "group", id="3d-group"),
    pytest.param(1, 2, 8, 3, 2, False, None, id="2d-no-skip-half-channels"),
]


@pytest.mark.parametrize("c_in, k, base, depth, dims, skip, norm", CONFIGS)
def test_count_parameters_matches_hand_count(c_in, k, base, depth, dims, skip, norm):
    net = UNet(c_in, k, dims=dims, base_channels=base, depth=depth, skip=skip, norm=norm)
    assert count_parameters(net) == unet_params_by_hand(c_in, k, base, depth, dims, skip, norm)


def test_count_parameters_skips_frozen():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 2, 1))
    net[0].requires_grad_(False)
    assert count_parameters(net) == 4 * 2 + 2


# --------------------------------------------------------------------------- shapes, norms
@pytest.mark.parametrize("dims, shape", [(2, (40, 24)), (3, (8, 16, 24))])
@pytest.mark.parametrize("norm", ["batch", "instance", "group", None])
def test_unet_same_padding_keeps_size(dims, shape, norm):
    net = UNet(2, 3, dims=dims, base_channels=4, depth=3 if dims == 2 else 2, norm=norm)
    with torch.no_grad():
        out = net(torch.randn((2, 2) + shape))
    assert out.shape == (2, 3) + shape


@pytest.mark.parametrize("norm, cls", [("batch", nn.BatchNorm2d), ("instance", nn.InstanceNorm2d),
                                       ("group", nn.GroupNorm), (None, nn.Identity)])
def test_unet_norm_layers(norm, cls):
    net = UNet(1, 2, base_channels=12, depth=1, norm=norm)
    norms = [m for m in net.down_blocks[0] if not isinstance(m, (nn.Conv2d, nn.ReLU))]
    assert len(norms) == 2 and all(type(m) is cls for m in norms)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert all((c.bias is None) == (norm is not None) for c in convs)


@pytest.mark.parametrize("channels", [1, 3, 4, 5, 6, 8, 12, 16, 20, 24, 36, 64])
def test_group_count_is_largest_divisor_at_most_8(channels):
    expected = max(g for g in range(1, 9) if channels % g == 0)
    assert group_count(channels) == expected
    net = UNet(1, 2, base_channels=channels, depth=0, norm="group")
    assert net.bottom[1].num_groups == expected


def test_group_count_examples():
    assert [group_count(c) for c in (4, 12, 20, 64)] == [4, 6, 5, 8]


def test_skip_false_changes_output_and_channels():
    torch.manual_seed(0)
    net = UNet(1, 2, base_channels=4, depth=2, skip=False, norm=None)
    assert net.up_blocks[0][0].in_channels == 4 and net.up_blocks[1][0].in_channels == 8
    x = torch.randn(1, 1, 16, 16)
    with torch.no_grad():
        feats, skips = net.encode(x)
        zeroed = [torch.zeros_like(s) for s in skips]
        # without skips, the decoder ignores the encoder's level features entirely
        torch.testing.assert_close(net.decode(feats, skips), net.decode(feats, zeroed))
    net2 = UNet(1, 2, base_channels=4, depth=2, skip=True, norm=None)
    with torch.no_grad():
        feats, skips = net2.encode(x)
        assert not torch.allclose(net2.decode(feats, skips), net2.decode(feats, [torch.zeros_like(s) for s in skips]))


# --------------------------------------------------------------------------- valid padding arithmetic
def test_valid_sizes_are_16_apart_for_depth_4():
    sizes = valid_input_sizes(4, 500, 640)
    assert 572 in sizes and np.all(np.diff(sizes) == 16)
    # by hand: bottleneck input b gives input 16 b + 60 and output 16 b - 124, so out = in - 184
    for s in sizes:
        assert unet_output_size(s, 4) == s - 184


@pytest.mark.parametrize("depth, size, expected", [(1, 18, 2), (1, 20, 4), (2, 44, 4), (2, 64, 24), (4, 188, 4), (4, 572, 388)])
def test_unet_output_size_valid_cases(depth, size, expected):
    assert unet_output_size(size, depth) == expected
    net = UNet(1, 1, base_channels=1, depth=depth, norm=None, padding="valid")
    with torch.no_grad():
        assert net(torch.zeros(1, 1, size, size)).shape[-1] == expected


def test_valid_padding_3d_forward():
    net = UNet(1, 2, dims=3, base_channels=2, depth=1, norm="group", padding="valid")
    with torch.no_grad():
        out = net(torch.zeros(1, 1, 18, 20, 24))
    assert out.shape == (1, 2, 2, 4, 8)  # s - 16 per axis for depth 1


# --------------------------------------------------------------------------- receptive field
def rf_recursion(layers):
    """Reference: r = 1 + sum (k - 1) j, the jump j multiplied by each stride (Araujo et al. 2019)."""
    r, j = 1, 1
    for k, s in layers:
        r += (k - 1) * j
        j *= s
    return r


@pytest.mark.parametrize("depth", [0, 1, 2, 3, 4, 5])
def test_bottleneck_receptive_field_formula(depth):
    layers = []
    for level in range(depth + 1):
        layers += [(3, 1), (3, 1)] + ([(2, 2)] if level < depth else [])
    assert bottleneck_receptive_field(depth) == rf_recursion(layers) == 9 * 2**depth - 4


@pytest.mark.parametrize("depth, dims, norm, padding", [
    pytest.param(1, 2, None, "same", id="d1"),
    pytest.param(2, 2, "batch", "same", id="d2-batch-eval"),
    pytest.param(3, 2, None, "same", id="d3"),
    pytest.param(2, 2, None, "valid", id="d2-valid"),
    pytest.param(1, 3, None, "same", id="3d-d1"),
])
def test_measured_receptive_field_equals_formula(depth, dims, norm, padding):
    torch.manual_seed(0)
    net = UNet(1, 2, dims=dims, base_channels=4, depth=depth, norm=norm, padding=padding)
    assert measure_bottleneck_receptive_field(net, trials=2) == (bottleneck_receptive_field(depth),) * dims


def test_group_norm_makes_the_field_global():
    # group norm's statistics run over the whole image, so the gradient support fills the input
    torch.manual_seed(0)
    net = UNet(1, 2, base_channels=4, depth=1, norm="group")
    assert measure_bottleneck_receptive_field(net, size=32, trials=1) == (32, 32)


# --------------------------------------------------------------------------- bad calls
BAD_CALLS = [
    (lambda: UNet(1, 2, dims=4), ValueError, r"^dims: expected 2 or 3, got 4"),
    (lambda: UNet(0, 2), ValueError, r"^in_channels: expected an int >= 1"),
    (lambda: UNet(1, 2.5), TypeError, r"^out_channels: expected an int"),
    (lambda: UNet(1, 2, norm="layer"), ValueError, r"^norm: expected 'batch', 'instance', 'group' or None"),
    (lambda: UNet(1, 2, padding="full"), ValueError, r"^padding: expected 'same' or 'valid'"),
    (lambda: UNet(1, 2, skip=1), TypeError, r"^skip: expected a bool"),
    (lambda: UNet(1, 2, depth=4)(torch.zeros(1, 1, 50, 64)), ValueError,
     r"^x: input size 50: expected a multiple of 2\*\*depth = 16"),
    (lambda: UNet(1, 2, depth=4, norm=None, padding="valid")(torch.zeros(1, 1, 573, 572)), ValueError,
     r"^x: input size 573: does not work with padding='valid' and depth=4.*572, 588"),
    (lambda: UNet(1, 2, depth=2, padding="valid")(torch.zeros(1, 1, 20, 20)), ValueError,
     r"^x: input size 20: does not work .*nothing is left"),
    (lambda: UNet(1, 2, depth=1)(torch.zeros(1, 16, 16)), ValueError, r"^x: expected 4 dims \(N, C, H, W\)"),
    (lambda: UNet(3, 2, depth=1)(torch.zeros(1, 1, 16, 16)), ValueError, r"^x: expected 3 channels, got 1"),
    (lambda: UNet(1, 2, depth=1)(np.zeros((1, 1, 16, 16))), TypeError, r"^x: expected a torch.Tensor"),
    (lambda: count_parameters("net"), TypeError, r"^module: expected a torch.nn.Module"),
    (lambda: unet_summary(UNet(1, 2, depth=1), (16, 16)), ValueError, r"^input_shape: expected"),
    (lambda: UNet(1, 2, depth=1).output_shape((16,)), ValueError, r"^spatial: expected 2 sizes"),
    (lambda: unet_output_size(30, 2, "same"), ValueError, r"^in_size: input size 30: expected a multiple of 2\*\*depth = 4"),
    (lambda: unet_output_size(573, 4), ValueError, r"^in_size: input size 573: does not work with padding='valid'.*572, 588"),
    (lambda: valid_input_sizes(-1), ValueError, r"^depth: expected an int >= 0"),
    (lambda: bottleneck_receptive_field(2, kernel=0), ValueError, r"^kernel: expected an int >= 1"),
    (lambda: UNet(1, 2, depth=2, padding="valid").output_shape((30, 30)), ValueError,
     r"^in_size: input size 30: does not work"),
]


@pytest.mark.parametrize("call, exc, match", BAD_CALLS)
def test_unet_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --------------------------------------------------------------------------- the exercises agree with the model
@pytest.mark.parametrize("learner", ["", "ada", "grace", "alan"])
def test_exercises_agree_with_unet(learner):
    from companion.exercises import answer, exercise

    p = exercise("unet.level-params", learner=learner).params
    net = UNet(p["c_in"], 2, dims=p["dims"], base_channels=p["base"], depth=4, norm=None)
    assert answer("unet.level-params", learner=learner) == count_parameters(net.down_blocks[p["level"]])

    p = exercise("unet.valid-output", learner=learner).params
    assert answer("unet.valid-output", learner=learner) == unet_output_size(p["n"], p["depth"], "valid")

    p = exercise("unet.skip-channels", learner=learner).params
    net = UNet(1, 2, base_channels=p["base"], depth=p["depth"])
    rows = {r.name: r for r in unet_summary(net, (1, 1, 16, 16))}
    assert answer("unet.skip-channels", learner=learner) == rows[f"cat{p['level']}"].output_shape[1]
    assert net.up_blocks[p["level"]][0].in_channels == rows[f"cat{p['level']}"].output_shape[1]

    p = exercise("unet.bottleneck-rf", learner=learner).params
    assert answer("unet.bottleneck-rf", learner=learner) == bottleneck_receptive_field(p["depth"])
