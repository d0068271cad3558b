"""companion.activations against torch (values) and torch autograd (derivatives), including x = 0."""

import doctest

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import companion.activations as act
from companion.activations import (
    activation, activation_grad, dead_fraction, elu, elu_grad, gaussian_inactive_fraction, leaky_relu,
    leaky_relu_grad,
    relu, relu_grad,
)

# Many points, exactly 0 and ±0 among them, tiny and large magnitudes, both sides of the kink.
POINTS = np.concatenate([
    np.array([0.0, -0.0, 1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 20.0, -20.0, 80.0, -80.0]),
    np.linspace(-6, 6, 121),
])

# name, our function, our derivative, torch function, kwargs
CASES = [
    pytest.param(relu, relu_grad, F.relu, {}, id="relu"),
    pytest.param(leaky_relu, leaky_relu_grad, F.leaky_relu, {}, id="leaky-default-0.01"),
    pytest.param(leaky_relu, leaky_relu_grad, F.leaky_relu, dict(negative_slope=0.2), id="leaky-0.2"),
    pytest.param(leaky_relu, leaky_relu_grad, F.leaky_relu, dict(negative_slope=-0.5), id="leaky-negative-slope"),
    pytest.param(elu, elu_grad, F.elu, {}, id="elu-default-1"),
    pytest.param(elu, elu_grad, F.elu, dict(alpha=0.3), id="elu-0.3"),
    pytest.param(elu, elu_grad, F.elu, dict(alpha=2.5), id="elu-2.5"),
]


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-6), (np.float64, 1e-12)])
@pytest.mark.parametrize("f, g, tf, kwargs", CASES)
def test_activation_matches_torch_value_and_autograd(f, g, tf, kwargs, dtype, tol):
    x = POINTS.astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = tf(xt, **kwargs)
    (grad_t,) = torch.autograd.grad(yt.sum(), xt)
    y, d = f(x, **kwargs), g(x, **kwargs)
    assert y.dtype == dtype and d.dtype == dtype
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(d, grad_t.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("f, g, tf, kwargs, expected", [
    pytest.param(relu, relu_grad, F.relu, {}, 0.0, id="relu'(0)=0"),
    pytest.param(leaky_relu, leaky_relu_grad, F.leaky_relu, dict(negative_slope=0.07), 0.07, id="leaky'(0)=slope"),
    pytest.param(elu, elu_grad, F.elu, dict(alpha=1.7), 1.7, id="elu'(0)=alpha"),
])
def test_derivative_at_exactly_zero(f, g, tf, kwargs, expected):
    # the convention at the kink, written out (catches `>=` in place of `>`)
    xt = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    (grad_t,) = torch.autograd.grad(tf(xt, **kwargs).sum(), xt)
    assert grad_t.tolist() == [expected] * 3
    assert g(np.zeros(3), **kwargs).tolist() == [expected] * 3
    assert f(np.zeros(3), **kwargs).tolist() == [0.0] * 3


@pytest.mark.parametrize("f, g, kwargs", [
    pytest.param(leaky_relu, leaky_relu_grad, dict(negative_slope=0.1), id="leaky"),
    pytest.param(elu, elu_grad, dict(alpha=0.8), id="elu"),
    pytest.param(relu, relu_grad, {}, id="relu"),
])
def test_grad_matches_centred_differences_away_from_kink(f, g, kwargs):
    rng = np.random.default_rng(1)
    x = rng.uniform(-4, 4, 200)
    x = x[np.abs(x) > 1e-3]
    h = 1e-6
    numeric = (f(x + h, **kwargs) - f(x - h, **kwargs)) / (2 * h)
    np.testing.assert_allclose(g(x, **kwargs), numeric, rtol=1e-7, atol=1e-9)


def test_elu_alpha_one_is_c1_but_not_c2():
    # the seed says ELU (alpha = 1) is smooth: the first derivative is continuous at 0 ...
    eps = 1e-9
    assert abs(elu_grad(np.array(-eps)) - elu_grad(np.array(eps))) < 1e-8
    # ... but LeakyReLU's is not, and ELU's second derivative jumps from 1 to 0
    assert abs(leaky_relu_grad(np.array(-eps)) - leaky_relu_grad(np.array(eps))) > 0.9
    h = 1e-4
    second_left = (elu_grad(np.array(-h)) - elu_grad(np.array(-2 * h))) / h
    second_right = (elu_grad(np.array(2 * h)) - elu_grad(np.array(h))) / h
    assert second_left > 0.99 and second_right == 0.0


def test_leaky_relu_is_max_ax_x_for_slope_below_one():
    x = np.linspace(-3, 3, 61)
    np.testing.assert_array_equal(leaky_relu(x, 0.01), np.maximum(0.01 * x, x))
    # for a > 1 the max form is wrong (it is then min): the piecewise form is the definition
    assert not np.allclose(leaky_relu(x, 2.0), np.maximum(2.0 * x, x))


def test_inputs_not_mutated_and_shapes_kept():
    x = np.array([[-1.0, 0.0], [2.0, -3.0]], dtype=np.float32)
    keep = x.copy()
    for f in (relu, relu_grad, leaky_relu, leaky_relu_grad, elu, elu_grad):
        out = f(x)
        assert out.shape == x.shape and out.dtype == np.float32
        assert out is not x
    np.testing.assert_array_equal(x, keep)


def test_integer_input_becomes_float64_and_no_overflow_warning():
    assert relu([-1, 2]).dtype == np.float64
    np.testing.assert_allclose(elu(np.array([1000.0, -1000.0])), [1000.0, -1.0])
    np.testing.assert_allclose(elu_grad(np.array([1000.0, -1000.0])), [1.0, 0.0])


def test_activation_by_name():
    x = np.array([-2.0, 0.0, 1.5])
    np.testing.assert_array_equal(activation(x, "elu", 0.5), elu(x, 0.5))
    np.testing.assert_array_equal(activation_grad(x, "leaky_relu"), leaky_relu_grad(x))
    np.testing.assert_array_equal(activation(x, "relu", 3.0), relu(x))


# ---------------------------------------------------------------------------------------------
# dead_fraction
# ---------------------------------------------------------------------------------------------

DEAD_CASES = [  # pre-activations, sample_axis, expected (by hand)
    pytest.param([[-1.0, 2.0, 0.0], [-3.0, -1.0, 0.0]], 0, 2 / 3, id="zero-counts-as-dead"),
    pytest.param([[1.0, 1.0], [1.0, 1.0]], 0, 0.0, id="all-alive"),
    pytest.param(-np.ones((5, 2, 3)), 0, 1.0, id="all-dead-conv-units"),
    pytest.param([[-1.0, -1.0], [5.0, -1.0]], 1, 0.5, id="samples-on-axis-1"),
]


@pytest.mark.parametrize("z, axis, expected", DEAD_CASES)
def test_dead_fraction_by_hand(z, axis, expected):
    assert dead_fraction(z, sample_axis=axis) == pytest.approx(expected)


def test_dead_fraction_matches_phi_for_gaussian_bias_shift():
    # z = mu + sigma * e, one sample each: P(z <= 0) = Phi(-mu/sigma)
    from scipy.stats import norm
    rng = np.random.default_rng(0)
    mu, sigma = -0.7, 1.3
    z = mu + sigma * rng.standard_normal((1, 200_000))
    assert dead_fraction(z) == pytest.approx(norm.cdf(-mu / sigma), abs=5e-3)


def test_dead_fraction_accepts_torch():
    z = torch.tensor([[-1.0, 1.0], [-2.0, -1.0]])
    assert dead_fraction(z) == 0.5


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------

BAD_CALLS = [
    pytest.param(lambda: relu("abc"), TypeError, r"^x: expected a float", id="relu-string"),
    pytest.param(lambda: relu(np.array([True])), TypeError, r"^x: expected a float32 or float64", id="relu-bool"),
    pytest.param(lambda: relu_grad(None), TypeError, r"^x: expected a float array", id="relu-grad-none"),
    pytest.param(lambda: leaky_relu([1.0], negative_slope="a"), TypeError, r"^negative_slope: expected a real number", id="slope-str"),
    pytest.param(lambda: leaky_relu_grad([1.0], negative_slope=np.nan), ValueError, r"^negative_slope: expected a finite", id="slope-nan"),
    pytest.param(lambda: elu([1.0], alpha=None), TypeError, r"^alpha: expected a real number", id="alpha-none"),
    pytest.param(lambda: elu_grad([1.0], alpha=np.inf), ValueError, r"^alpha: expected a finite", id="alpha-inf"),
    pytest.param(lambda: activation([1.0], "gelu"), ValueError, r"^name: expected one of", id="unknown-name"),
    pytest.param(lambda: activation([1.0], 3), TypeError, r"^name: expected one of", id="name-not-str"),
    pytest.param(lambda: dead_fraction([1.0, 2.0]), ValueError, r"^pre_activations: expected at least 2 dims", id="dead-1d"),
    pytest.param(lambda: dead_fraction(np.zeros((0, 3))), ValueError, r"^pre_activations: expected at least one sample", id="dead-empty"),
    pytest.param(lambda: dead_fraction(np.zeros((2, 3)), sample_axis=2), ValueError, r"^sample_axis: expected an axis", id="dead-axis"),
    pytest.param(lambda: dead_fraction(np.zeros((2, 3)), sample_axis=0.5), TypeError, r"^sample_axis: expected an int", id="dead-axis-float"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_input_raises_naming_the_argument(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_docstring_examples():
    result = doctest.testmod(act, extraglobs={"np": np}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5 and result.failed == 0


@pytest.mark.parametrize("mu, sigma, k", [
    pytest.param(0.0, 1.0, 1, id="half"), pytest.param(-0.8, 0.5, 1, id="negative-shift"),
    pytest.param(0.3, 2.0, 3, id="k-samples"),
])
def test_gaussian_inactive_fraction_matches_scipy_and_monte_carlo(mu, sigma, k):
    from scipy.stats import norm
    expected = norm.cdf(-mu / sigma) ** k
    assert gaussian_inactive_fraction(mu, sigma, k) == pytest.approx(expected, rel=1e-12)
    z = mu + sigma * np.random.default_rng(2).standard_normal((k, 100_000))  # k samples x units
    assert dead_fraction(z) == pytest.approx(expected, abs=6e-3)


@pytest.mark.parametrize("call, exc, pattern", [
    pytest.param(lambda: gaussian_inactive_fraction(0.0, 0.0), ValueError, r"^sigma: expected a number > 0", id="sigma-0"),
    pytest.param(lambda: gaussian_inactive_fraction("a", 1.0), TypeError, r"^mu: expected a real number", id="mu-str"),
    pytest.param(lambda: gaussian_inactive_fraction(0.0, 1.0, k=0), ValueError, r"^k: expected an int >= 1", id="k-0"),
])
def test_gaussian_inactive_fraction_bad_input(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
