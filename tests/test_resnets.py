"""PlainNet / ResidualNet: equal size, the residual gradient identity (centred differences and
autograd), and gradient norms through depth against the linear theory sigma^{2L} / (1+sigma²)^L."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import numerical_vjp  # the one centred-difference oracle
from companion.models import PlainNet, ResidualNet
from companion.models.resnets import layer_gradient_norms


def n_params(m):
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


@pytest.mark.parametrize("kwargs, expected", [
    pytest.param(dict(depth=5, width=8), 5 * 64, id="linear"),
    pytest.param(dict(depth=3, width=4, dims=1), 3 * 4 * 4 * 3, id="conv1d"),
    pytest.param(dict(depth=3, width=4, dims=2, norm="batch", in_channels=1, num_classes=2),
                 3 * (4 * 4 * 9 + 8) + (9 * 4 + 4) + (4 * 2 + 2), id="conv2d-bn-stem-head"),
])
def test_plain_and_residual_have_equal_parameter_counts(kwargs, expected):
    assert n_params(PlainNet(**kwargs)) == n_params(ResidualNet(**kwargs)) == expected


def test_forward_is_the_documented_recursion():
    torch.manual_seed(0)
    x = torch.randn(5, 6, dtype=torch.float64)
    for cls, residual in [(PlainNet, False), (ResidualNet, True)]:
        net = cls(3, 6, activation="relu", sigma=1.3).double()
        h = x
        for block in net.blocks:
            f = torch.relu(h) @ block.linear.weight.T
            h = h + f if residual else f
        torch.testing.assert_close(net(x), h, rtol=1e-12, atol=1e-12)


def test_zero_branches_give_identity_and_zero():
    x = torch.randn(4, 8)
    assert torch.equal(ResidualNet(6, 8, sigma=0.0)(x), x)
    assert torch.count_nonzero(PlainNet(6, 8, sigma=0.0)(x)) == 0


def test_init_scale_and_seed():
    net = PlainNet(4, 256, sigma=0.5)
    w = torch.cat([b.linear.weight.detach().flatten() for b in net.blocks])
    assert float(w.std()) == pytest.approx(0.5 / 16, rel=0.02)  # sigma / sqrt(fan_in)
    state = torch.random.get_rng_state()
    a, b = ResidualNet(3, 8, seed=7), ResidualNet(3, 8, seed=7)
    assert torch.equal(torch.random.get_rng_state(), state)  # global generator untouched
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.blocks[0].linear.weight, ResidualNet(3, 8, seed=8).blocks[0].linear.weight)


@pytest.mark.parametrize("dims, shape", [pytest.param(0, (3, 5), id="linear"),
                                          pytest.param(2, (2, 3, 4, 4), id="conv2d")])
def test_residual_block_gradient_is_identity_plus_jacobian_transpose(dims, shape):
    torch.manual_seed(1)
    width = shape[1]
    net = ResidualNet(1, width, dims=dims, activation="relu", sigma=1.5).double()
    branch = net.blocks[0]
    x = torch.randn(shape, dtype=torch.float64) + 0.05  # values away from the ReLU kink (tiny h)
    g = torch.randn(shape, dtype=torch.float64)
    # dL/dx = g + J_F^T g, with J_F from autograd.functional
    jac = torch.autograd.functional.jacobian(branch, x).reshape(x.numel(), x.numel())
    formula = (g.reshape(-1) + jac.T @ g.reshape(-1)).reshape(shape)
    numeric = numerical_vjp(net, x, g)
    xr = x.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(net(xr), xr, grad_outputs=g)
    rel = float((formula - numeric).abs().max() / (formula.abs().max()))
    assert rel < 1e-7, rel
    torch.testing.assert_close(auto, formula, rtol=1e-12, atol=1e-12)
    # the plain block misses exactly the identity term
    plain = PlainNet(1, width, dims=dims, activation="relu", sigma=1.5).double()
    plain.load_state_dict(net.state_dict())
    (auto_plain,) = torch.autograd.grad(plain(xr), xr, grad_outputs=g)
    torch.testing.assert_close(auto - auto_plain, g, rtol=1e-12, atol=1e-12)


def _slope(cls, sigma, depths=(4, 8, 12, 16, 20), width=64):
    logs = []
    for d in depths:
        net = cls(d, width, sigma=sigma, activation="linear", seed=d).double()
        x = torch.randn(256, width, generator=torch.Generator().manual_seed(d), dtype=torch.float64)
        logs.append(2 * np.log(layer_gradient_norms(net, x, seed=d)[0]))
    return np.polyfit(depths, logs, 1)[0]


@pytest.mark.parametrize("sigma", [0.8, 1.2])
@pytest.mark.parametrize("cls, theory", [pytest.param(PlainNet, lambda s: s ** 2, id="plain"),
                                         pytest.param(ResidualNet, lambda s: 1 + s ** 2, id="residual")])
def test_gradient_norm_growth_matches_linear_theory(cls, theory, sigma):
    # slope of log ||dL/dx_0||^2 against depth = log(sigma^2) (plain) or log(1 + sigma^2) (residual);
    # the two differ by > 0.5, so a tolerance of 0.05 fails if the skip is lost or doubled
    assert _slope(cls, sigma) == pytest.approx(np.log(theory(sigma)), abs=0.05)


def test_layer_gradient_norms_shape_and_ends():
    net = PlainNet(5, 8, sigma=1.0)
    x = torch.randn(16, 8)
    norms = layer_gradient_norms(net, x)
    assert norms.shape == (6,) and norms[-1] == 1.0
    # first entry against a direct autograd computation
    g = torch.randn(16, 8, generator=torch.Generator().manual_seed(0))
    xr = x.clone().requires_grad_(True)
    (gx,) = torch.autograd.grad(net(xr), xr, grad_outputs=g)
    assert norms[0] == pytest.approx(float(gx.norm() / g.norm()), rel=1e-5)


BAD_CALLS = [
    pytest.param(lambda: PlainNet(0, 8), ValueError, r"^depth: expected an int >= 1", id="depth 0"),
    pytest.param(lambda: PlainNet(2.5, 8), TypeError, r"^depth: expected an int", id="depth float"),
    pytest.param(lambda: ResidualNet(2, 8, dims=3), ValueError, r"^dims: expected 0", id="dims 3"),
    pytest.param(lambda: ResidualNet(2, 8, sigma=-1.0), ValueError, r"^sigma: expected a finite number", id="sigma<0"),
    pytest.param(lambda: ResidualNet(2, 8, activation="tanh"), ValueError, r"^activation: expected one of", id="act"),
    pytest.param(lambda: ResidualNet(2, 8, norm="layer"), ValueError, r"^norm: expected one of", id="norm"),
    pytest.param(lambda: layer_gradient_norms(torch.nn.Linear(2, 2), torch.zeros(1, 2)), TypeError,
                 r"^model: expected a PlainNet or ResidualNet", id="foreign model"),
    pytest.param(lambda: PlainNet(2, 4)(torch.zeros(3, 5)), ValueError,
                 r"^x: expected 4 channels \(features\) on axis 1, got 5", id="forward width"),
    pytest.param(lambda: ResidualNet(2, 4, dims=2)(torch.zeros(3, 4, 8)), ValueError,
                 r"^x: expected 4 dims \(N, C, H, W\), got 3", id="forward ndim"),
    pytest.param(lambda: ResidualNet(2, 4, dims=2, in_channels=1, num_classes=2)(torch.zeros(1, 3, 8, 8)), ValueError,
                 r"^x: expected 1 channels", id="forward stem channels"),
    pytest.param(lambda: PlainNet(2, 4)(np.zeros((3, 4))), TypeError, r"^x: expected a torch.Tensor", id="forward numpy"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_calls_raise_named_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


# ---- the torch twin of blur_pool and the small classifier of the pooling chapter ----

@pytest.mark.parametrize("shape, kernel, stride, filter_size", [
    pytest.param((2, 3, 15, 16), 2, 2, 3, id="2d-odd"),
    pytest.param((1, 2, 12, 13), 3, 2, 5, id="2d-k3-f5"),
    pytest.param((1, 2, 7, 8, 9), 2, 2, 3, id="3d"),
])
def test_blurpool_module_matches_numpy_blur_pool(shape, kernel, stride, filter_size):
    from companion.models.resnets import BlurPool
    from companion.pooling import blur_pool
    x = np.random.default_rng(0).standard_normal(shape)
    layer = BlurPool(shape[1], kernel, stride, filter_size, dims=len(shape) - 2)
    out = layer(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, blur_pool(x, kernel, stride, filter_size), rtol=1e-10, atol=1e-10)


def test_tiny_cnn_pools_differ_only_in_pooling():
    from companion.models.resnets import TinyCNN
    a, b = TinyCNN(pool="max", seed=3), TinyCNN(pool="blur", seed=3)
    assert n_params(a) == n_params(b)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert a(torch.zeros(2, 1, 32, 32)).shape == (2, 2)
    with pytest.raises(ValueError, match=r"^pool: expected 'max' or 'blur'"):
        TinyCNN(pool="avg")


def test_dncnn_residual_and_plain_share_weights_and_differ_by_the_skip():
    from companion.models.resnets import DnCNN

    res, plain = DnCNN(width=4, depth=4, residual=True, seed=3), DnCNN(width=4, depth=4, residual=False, seed=3)
    assert n_params(res) == n_params(plain) == (9 * 4 + 4) + 2 * (4 * 4 * 9 + 8) + (4 * 9 + 1)
    x = torch.randn(2, 1, 8, 8)
    res.eval(), plain.eval()
    torch.testing.assert_close(res(x), x - plain(x))          # residual learning: x - (predicted noise)
    state = torch.random.get_rng_state()
    DnCNN(seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    with pytest.raises(ValueError, match=r"^x: expected 4 dims"):
        res(torch.zeros(1, 8, 8))
    with pytest.raises(TypeError, match=r"^residual: expected a bool"):
        DnCNN(residual=1)
