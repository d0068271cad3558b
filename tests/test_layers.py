"""companion.layers against torch modules in sequence (forward, autograd), torch parameter counts,
float64 centred differences, and published receptive fields (VGG-16 conv5_3 = 196)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import numerical_vjp, relative_error  # the one centred-difference oracle
from companion.layers import (
    conv_bn_act, conv_bn_act_backward, conv_bn_act_forward, count_conv_parameters,
    receptive_field, receptive_field_curve,
)

torch = pytest.importorskip("torch")
nn = torch.nn

CONV = {3: nn.Conv1d, 4: nn.Conv2d, 5: nn.Conv3d}
BN = {3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}
ACT = {"relu": lambda: nn.ReLU(), "leaky_relu": lambda: nn.LeakyReLU(0.2),
       "elu": lambda: nn.ELU(alpha=0.7), "identity": lambda: nn.Identity()}
ACT_KW = {"relu": {}, "leaky_relu": {"negative_slope": 0.2}, "elu": {"alpha": 0.7}, "identity": {}}


def torch_layer(x, w, bias, gamma, beta, activation, kwargs):
    """The same layer from torch modules, weights copied; BatchNorm in training mode."""
    nd = x.ndim
    conv = CONV[nd](w.shape[1], w.shape[0], w.shape[2:], bias=bias is not None, **kwargs)
    bn = BN[nd](w.shape[0])
    conv, bn = (m.to(torch.float64 if x.dtype == np.float64 else torch.float32) for m in (conv, bn))
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w))
        if bias is not None:
            conv.bias.copy_(torch.from_numpy(bias))
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    bn.train()
    return nn.Sequential(conv, bn, ACT[activation]()), conv, bn


LAYER_CASES = [  # x shape, w shape, conv kwargs, activation
    pytest.param((2, 3, 11), (4, 3, 3), dict(padding=1), "relu", id="1d-relu"),
    pytest.param((2, 2, 9, 8), (3, 2, 3, 3), dict(stride=2, padding=1), "leaky_relu", id="2d-stride-leaky"),
    pytest.param((2, 2, 9, 8), (3, 2, 3, 3), dict(dilation=2), "elu", id="2d-dilated-elu"),
    pytest.param((1, 2, 5, 6, 7), (4, 2, 3, 3, 3), dict(padding=(0, 1, 1)), "relu", id="3d-batch1-relu"),
    pytest.param((2, 1, 4, 6, 5), (2, 1, 1, 3, 3), dict(stride=(1, 2, 1)), "identity", id="3d-aniso-identity"),
]


def _params(x_shape, w_shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = (rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[1:]))).astype(dtype)
    c = w_shape[0]
    return x, w, rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype), \
        rng.standard_normal(c).astype(dtype)


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
@pytest.mark.parametrize("x_shape, w_shape, kwargs, activation", LAYER_CASES)
def test_conv_bn_act_matches_torch_modules(x_shape, w_shape, kwargs, activation, dtype, tol):
    x, w, b, g, be = _params(x_shape, w_shape, dtype)
    model, _, _ = torch_layer(x, w, b, g, be, activation, kwargs)
    expected = model(torch.from_numpy(x)).detach().numpy()
    out = conv_bn_act(x, w, b, g, be, activation=activation, **ACT_KW[activation], **kwargs)
    assert out.dtype == dtype and out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("x_shape, w_shape, kwargs, activation", LAYER_CASES)
def test_conv_bn_act_backward_matches_autograd(x_shape, w_shape, kwargs, activation):
    x, w, b, g, be = _params(x_shape, w_shape, np.float64, seed=1)
    model, conv, bn = torch_layer(x, w, b, g, be, activation, kwargs)
    xt = torch.from_numpy(x).requires_grad_()
    yt = model(xt)
    gy = np.random.default_rng(2).standard_normal(yt.shape)
    yt.backward(torch.from_numpy(gy))
    y, cache = conv_bn_act_forward(x, w, b, g, be, activation=activation, **ACT_KW[activation], **kwargs)
    gx, gw, gb, gg, gbe = conv_bn_act_backward(gy, cache)
    for ours, theirs in [(gx, xt.grad), (gw, conv.weight.grad), (gb, conv.bias.grad),
                         (gg, bn.weight.grad), (gbe, bn.bias.grad)]:
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-9, atol=1e-10)


rel_err = relative_error  # elementwise


def test_conv_bn_act_backward_matches_centred_differences():
    # ELU is smooth (alpha = 1): no kink for the differences to trip on
    x, w, b, g, be = _params((2, 2, 5, 5), (3, 2, 3, 3), np.float64, seed=3)
    kw = dict(padding=1, activation="elu")
    y, cache = conv_bn_act_forward(x, w, b, g, be, **kw)
    gy = np.random.default_rng(4).standard_normal(y.shape)
    gx, gw, gb, gg, gbe = conv_bn_act_backward(gy, cache)
    assert rel_err(gx, numerical_vjp(lambda v: conv_bn_act(v, w, b, g, be, **kw), x, gy)) < 1e-6
    assert rel_err(gw, numerical_vjp(lambda v: conv_bn_act(x, v, b, g, be, **kw), w, gy)) < 1e-6
    assert rel_err(gg, numerical_vjp(lambda v: conv_bn_act(x, w, b, v, be, **kw), g, gy)) < 1e-6
    num_gb = numerical_vjp(lambda v: conv_bn_act(x, w, v, g, be, **kw), b, gy)
    np.testing.assert_allclose(num_gb, 0, atol=1e-7)
    np.testing.assert_allclose(gb, 0, atol=1e-12)


def test_bias_before_batch_norm_is_redundant():
    """Any bias gives the same output, and its gradient is zero: BN subtracts the channel mean."""
    x, w, b, g, be = _params((2, 3, 6, 6), (4, 3, 3, 3), np.float64, seed=5)
    y0 = conv_bn_act(x, w, None, g, be, padding=1)
    y1 = conv_bn_act(x, w, 100 * b, g, be, padding=1)
    np.testing.assert_allclose(y1, y0, atol=1e-9)
    # torch autograd agrees: the bias of a Conv2d followed by BatchNorm2d gets a zero gradient
    model, conv, _ = torch_layer(x, w, b, g, be, "relu", dict(padding=1))
    loss = (model(torch.from_numpy(x)) * torch.from_numpy(np.random.default_rng(6).standard_normal(y0.shape))).sum()
    loss.backward()
    assert torch.all(conv.bias.grad.abs() < 1e-10)
    assert torch.any(conv.weight.grad.abs() > 1e-3)  # while the weights do learn


# ---- parameter counts -----------------------------------------------------------------------------

PARAM_CASES = [  # our call, the torch module
    pytest.param((4, 32, (3, 3, 3)), {}, lambda: nn.Conv3d(4, 32, 3), 3488, id="contract-conv3d"),
    pytest.param((512, 512, (2, 2, 2)), dict(transposed=True), lambda: nn.ConvTranspose3d(512, 512, 2),
                 2_097_664, id="contract-convtranspose3d"),
    pytest.param((3, 64, (3, 3)), {}, lambda: nn.Conv2d(3, 64, 3), 1792, id="vgg-conv1_1"),
    pytest.param((16, 8, (1, 3, 3)), dict(bias=False), lambda: nn.Conv3d(16, 8, (1, 3, 3), bias=False),
                 1152, id="aniso-no-bias"),
    pytest.param((6, 4, (2, 3)), dict(transposed=True), lambda: nn.ConvTranspose2d(6, 4, (2, 3)), 148,
                 id="transposed-asymmetric-channels"),
    pytest.param((8, 12, 5), dict(groups=4), lambda: nn.Conv1d(8, 12, 5, groups=4), 132, id="1d-grouped"),
    pytest.param((8, 12, (3, 3)), dict(groups=4, transposed=True),
                 lambda: nn.ConvTranspose2d(8, 12, 3, groups=4), 228, id="transposed-grouped"),
]


@pytest.mark.parametrize("args, kwargs, module, expected", PARAM_CASES)
def test_count_conv_parameters_matches_torch(args, kwargs, module, expected):
    n = count_conv_parameters(*args, **kwargs)
    assert n == sum(p.numel() for p in module().parameters())
    assert n == expected


# ---- receptive field -------------------------------------------------------------------------------

VGG16 = ([(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 2 + [(2, 2)] + [(3, 1)] * 3 + [(2, 2)]
         + [(3, 1)] * 3 + [(2, 2)] + [(3, 1)] * 3)


def _brute_force_rf(layers):
    """Receptive field by autograd: which input pixels does the centre output depend on?"""
    mods = [nn.Conv1d(1, 1, k, stride=s, dilation=d[0] if d else 1, bias=False)
            for k, s, *d in layers]
    for m in mods:
        nn.init.constant_(m.weight, 1.0)
    x = torch.ones(1, 1, 400, dtype=torch.float64, requires_grad=True)
    y = nn.Sequential(*mods).double()(x)
    y[0, 0, y.shape[-1] // 2].backward()
    nz = torch.nonzero(x.grad[0, 0]).ravel()
    return int(nz.max() - nz.min() + 1)


RF_CASES = [
    pytest.param(VGG16, 196, id="vgg16-conv5_3-published"),
    pytest.param([(3, 1)] * 5, 11, id="five-3x3"),
    pytest.param([(3, 1, 1), (3, 1, 2), (3, 1, 4), (3, 1, 8)], 31, id="dilated-stack"),
    pytest.param([(7, 2), (3, 2), (3, 1), (3, 1)], 27, id="stem-strides"),
    pytest.param([], 1, id="empty"),
]


@pytest.mark.parametrize("layers, expected", RF_CASES)
def test_receptive_field(layers, expected):
    assert receptive_field(layers) == expected
    if layers:
        assert receptive_field(layers) == _brute_force_rf(layers)


def test_receptive_field_curve():
    rf, jump = receptive_field_curve(VGG16)
    assert rf[0] == 1 and jump[0] == 1 and len(rf) == len(VGG16) + 1
    assert rf[2] == 5 and rf[3] == 6 and jump[-1] == 16
    assert np.all(np.diff(rf) >= 0)


# ---- bad calls --------------------------------------------------------------------------------------

_x, _w = np.zeros((2, 2, 5, 5)), np.zeros((3, 2, 3, 3))
BAD = [
    (lambda: conv_bn_act(_x, _w, None, None, None, activation="tanh"), ValueError, r"^activation: expected one of"),
    (lambda: conv_bn_act(_x, _w, None, None, None, activation=None), TypeError, r"^activation: expected one of"),
    (lambda: conv_bn_act(_x, _w, None, None, None, activation="elu", alpha=0), ValueError, r"^alpha: expected a number > 0"),
    (lambda: conv_bn_act(_x, _w, None, None, None, negative_slope="a"), TypeError, r"^negative_slope: expected a real"),
    (lambda: conv_bn_act(_x, np.zeros((3, 2, 3)), None, None, None), ValueError, r"^w: expected 4 dims"),
    (lambda: conv_bn_act(_x, _w, np.zeros(2), None, None), ValueError, r"^bias: expected shape \(3,\)"),
    (lambda: conv_bn_act(_x, _w, None, np.ones(2), None), ValueError, r"^gamma"),
    (lambda: conv_bn_act(_x, _w, None, None, None, eps=0), ValueError, r"^eps"),
    (lambda: conv_bn_act(_x, _w, None, None, None, stride=0), ValueError, r"^stride: expected an int >= 1"),
    (lambda: conv_bn_act_backward(np.zeros(3), None), TypeError, r"^cache: expected the ConvBNActCache"),
    (lambda: conv_bn_act_backward(np.zeros(3), conv_bn_act_forward(_x + np.arange(5.0), _w + 1, None, None, None)[1]),
     ValueError, r"^grad_y: expected shape"),
    (lambda: count_conv_parameters(0, 4, 3), ValueError, r"^c_in: expected an int >= 1"),
    (lambda: count_conv_parameters(4, 4.5, 3), TypeError, r"^c_out: expected an int"),
    (lambda: count_conv_parameters(4, 4, (3, 0)), ValueError, r"^kernel: expected an int >= 1"),
    (lambda: count_conv_parameters(4, 4, ()), ValueError, r"^kernel: expected at least one"),
    (lambda: count_conv_parameters(4, 4, 3, bias="yes"), TypeError, r"^bias: expected a bool"),
    (lambda: count_conv_parameters(4, 6, 3, groups=4), ValueError, r"^groups: expected a divisor"),
    (lambda: receptive_field("3,1"), TypeError, r"^layers: expected a sequence"),
    (lambda: receptive_field([(3,)]), ValueError, r"^layers: expected each entry"),
    (lambda: receptive_field([(3, 0)]), ValueError, r"^layers\[0\] stride: expected an int >= 1"),
    (lambda: receptive_field([(3, 1), (2.5, 1)]), TypeError, r"^layers\[1\] kernel: expected an int"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD)
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_inputs_not_mutated():
    x, w, b, g, be = _params((2, 2, 5, 5), (3, 2, 3, 3), np.float32)
    copies = [a.copy() for a in (x, w, b, g, be)]
    conv_bn_act(x, w, b, g, be, activation="leaky_relu")
    for a, c in zip((x, w, b, g, be), copies):
        np.testing.assert_array_equal(a, c)
