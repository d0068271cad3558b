"""companion.residual (NumPy core) against torch autograd through PlainNet/ResidualNet, the
closed-form expectations, and a Monte Carlo estimate of E||g_0||² / ||g_L||²."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.models import PlainNet, ResidualNet
from companion.models.resnets import layer_gradient_norms
from companion.residual import linear_backward_norms, linear_theory_growth, residual_backward


@pytest.mark.parametrize("cls, residual", [pytest.param(PlainNet, False, id="plain"),
                                           pytest.param(ResidualNet, True, id="residual")])
@pytest.mark.parametrize("depth, sigma", [(1, 0.7), (6, 1.3), (12, 0.5)])
def test_linear_backward_norms_equal_torch_autograd(cls, residual, depth, sigma):
    # the oracle: autograd through the torch network with the same weights and upstream gradient
    net = cls(depth, 8, sigma=sigma, seed=3).double()
    x = torch.randn(5, 8, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    expected = layer_gradient_norms(net, x, seed=5)
    weights = [b.linear.weight.detach().numpy() for b in net.blocks]
    g = torch.randn((5, 8), generator=torch.Generator().manual_seed(5), dtype=torch.float64).numpy()
    np.testing.assert_allclose(linear_backward_norms(weights, g, residual=residual), expected, rtol=1e-12)


def test_plain_stack_may_change_width():
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((6, 4)), rng.standard_normal((3, 6))]   # 4 -> 6 -> 3
    g = rng.standard_normal((2, 3))
    out = linear_backward_norms(w, g, residual=False)
    np.testing.assert_allclose(out, [np.linalg.norm(g @ w[1] @ w[0]), np.linalg.norm(g @ w[1]),
                                     np.linalg.norm(g)] / np.linalg.norm(g))


@pytest.mark.parametrize("depth, sigma, residual, scale, expected", [
    pytest.param(10, 0.5, False, 1.0, 0.25 ** 10, id="plain"),
    pytest.param(3, 1.0, True, 1.0, 8.0, id="residual"),
    pytest.param(4, 2.0, True, 0.5, 16.0, id="scaled-branch"),    # (1 + (2 * 0.5)^2)^4
    pytest.param(0, 3.0, True, 1.0, 1.0, id="no-blocks"),
    pytest.param(5, 0.0, True, 1.0, 1.0, id="zero-branches"),
])
def test_linear_theory_growth_closed_forms(depth, sigma, residual, scale, expected):
    assert linear_theory_growth(depth, sigma, residual=residual, branch_scale=scale) == pytest.approx(expected, rel=1e-14)


def test_branch_scale_one_over_sqrt_depth_stays_below_e_sigma_squared():
    for depth in (1, 10, 100, 10_000):
        g = linear_theory_growth(depth, 1.2, residual=True, branch_scale=depth ** -0.5)
        assert 1 + 1.44 <= g < np.exp(1.44)


@pytest.mark.parametrize("residual", [False, True])
def test_theory_is_the_monte_carlo_mean(residual):
    rng = np.random.default_rng(11)
    depth, n, sigma = 4, 16, 0.9
    sq = []
    for _ in range(400):
        w = [rng.normal(0, sigma / np.sqrt(n), (n, n)) for _ in range(depth)]
        sq.append(linear_backward_norms(w, rng.standard_normal((1, n)), residual=residual)[0] ** 2)
    theory = linear_theory_growth(depth, sigma, residual=residual)
    sem = np.std(sq) / np.sqrt(len(sq))
    assert abs(np.mean(sq) - theory) < 4 * sem


def test_residual_backward_equals_autograd():
    torch.manual_seed(0)
    net = ResidualNet(1, 4, activation="relu", sigma=1.5).double()
    x = torch.randn(1, 4, dtype=torch.float64) + 0.1
    g = torch.randn(1, 4, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(net.blocks[0], x).reshape(4, 4)
    xr = x.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(net(xr), xr, grad_outputs=g)
    np.testing.assert_allclose(residual_backward(g.numpy(), jac.numpy()), auto.numpy(), rtol=1e-12)
    np.testing.assert_allclose(residual_backward(g.numpy()[0], jac.numpy()), auto.numpy()[0], rtol=1e-12)


def test_no_torch_needed():
    import subprocess
    import sys

    code = ("import sys; sys.modules['torch'] = None; import companion.residual as r; "
            "print(r.linear_theory_growth(2, 1.0, residual=True))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "4.0"


BAD_CALLS = [  # call, exception, message pattern
    pytest.param(lambda: linear_theory_growth(-1, 1.0, residual=True), ValueError, r"^depth: expected", id="depth"),
    pytest.param(lambda: linear_theory_growth(3, -1.0, residual=True), ValueError, r"^sigma: expected", id="sigma"),
    pytest.param(lambda: linear_theory_growth(3, 1.0, residual=1), TypeError, r"^residual: expected a bool", id="residual"),
    pytest.param(lambda: linear_theory_growth(3, 1.0, residual=True, branch_scale=-1), ValueError, r"^branch_scale: expected", id="scale"),
    pytest.param(lambda: linear_backward_norms([np.eye(3)], np.zeros((1, 3)), residual=True), ValueError, r"^grad_out: expected a non-zero", id="zero-grad"),
    pytest.param(lambda: linear_backward_norms([np.eye(3)], np.ones(3), residual=True), ValueError, r"^grad_out: expected \(B, n\)", id="grad-1d"),
    pytest.param(lambda: linear_backward_norms([np.eye(4)], np.ones((1, 3)), residual=False), ValueError, r"^weights\[0\]: expected shape \(3, n_in\)", id="no-chain"),
    pytest.param(lambda: linear_backward_norms([np.ones((3, 2))], np.ones((1, 3)), residual=True), ValueError, r"^weights\[0\]: expected a square", id="residual-not-square"),
    pytest.param(lambda: linear_backward_norms(["a"], np.ones((1, 3)), residual=True), TypeError, r"^weights\[0\]: expected", id="weight-type"),
    pytest.param(lambda: residual_backward(np.ones(3), np.eye(2)), ValueError, r"^jacobian: expected shape \(3, 3\)", id="jacobian-shape"),
    pytest.param(lambda: residual_backward(np.ones((1, 1, 3)), np.eye(3)), ValueError, r"^grad_y: expected \(n,\) or \(B, n\)", id="grad-y-ndim"),
]


@pytest.mark.parametrize("call, exc, match", BAD_CALLS)
def test_bad_input_raises(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
