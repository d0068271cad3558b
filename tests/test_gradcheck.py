"""Tests of companion.gradcheck against closed-form gradients and torch autograd."""

import doctest

import numpy as np
import pytest
import torch

import companion.gradcheck as gc
from companion.gradcheck import numerical_grad, relative_error

rng = np.random.default_rng(0)


def test_doctests():
    assert doctest.testmod(gc).failed == 0


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 2)])
def test_scalar_function_matches_the_closed_form(shape):
    x = rng.standard_normal(shape)
    # f(x) = sum(sin(x) * x^2): grad = cos(x) x^2 + 2 x sin(x)
    got = numerical_grad(lambda v: np.sum(np.sin(v) * v ** 2), x)
    want = np.cos(x) * x ** 2 + 2 * x * np.sin(x)
    assert got.dtype == np.float64 and got.shape == np.shape(x)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


def test_vjp_matches_autograd():
    x, w = rng.standard_normal((2, 3, 6)), rng.standard_normal((4, 3, 3))
    f = lambda v: torch.nn.functional.conv1d(torch.from_numpy(v), torch.from_numpy(w)).numpy()
    g = rng.standard_normal(f(x).shape)
    xt = torch.from_numpy(x).requires_grad_(True)
    torch.nn.functional.conv1d(xt, torch.from_numpy(w)).backward(torch.from_numpy(g))
    got = numerical_grad(f, x, g)
    assert relative_error(got, xt.grad.numpy()) < 1e-7


def test_error_is_second_order_in_h():
    # exp at 0: the centred error is h^2/6, the forward difference would give h/2
    errors = [abs(numerical_grad(lambda v: float(np.exp(v[0])), np.zeros(1), h=h)[0] - 1) for h in (1e-2, 1e-3)]
    np.testing.assert_allclose(errors[0], 1e-4 / 6, rtol=1e-2)
    assert errors[0] / errors[1] == pytest.approx(100, rel=1e-2)


def test_input_not_mutated_and_int_input_accepted():
    x = np.array([1, 2, 3])
    before = x.copy()
    np.testing.assert_allclose(numerical_grad(lambda v: float(v @ v), x), 2 * before, rtol=1e-8)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("a, b, kind, want", [
    pytest.param([1.0, 2.0], [1.0, 2.0], "elementwise", 0.0, id="equal"),
    pytest.param([1.0, 0.0], [-1.0, 0.0], "elementwise", 1.0, id="opposite-sign"),
    pytest.param([100.0, 1e-3], [100.0, 2e-3], "elementwise", 1 / 3, id="one-small-entry-wrong"),
    pytest.param([100.0, 1e-3], [100.0, 2e-3], "norm", 1e-3 / (np.hypot(100, 1e-3) + np.hypot(100, 2e-3)), id="norm-forgives"),
    pytest.param([0.0, 0.0], [0.0, 0.0], "norm", 0.0, id="zeros-norm"),
    pytest.param([0.0, 0.0], [0.0, 0.0], "elementwise", 0.0, id="zeros-elementwise"),
    pytest.param([3.0, 4.0], [0.0, 0.0], "norm", 1.0, id="against-zero"),
])
def test_relative_error_by_hand(a, b, kind, want):
    assert relative_error(np.array(a), np.array(b), kind=kind) == pytest.approx(want, rel=1e-12, abs=1e-15)


BAD = [
    (lambda: numerical_grad("f", np.zeros(2)), TypeError, r"^f: expected a callable"),
    (lambda: numerical_grad(lambda v: v, np.zeros(2)), TypeError, r"^f: expected a scalar output"),
    (lambda: numerical_grad(lambda v: v, np.zeros(2), np.zeros(3)), ValueError, r"^grad_out: expected the shape of f\(x\)"),
    (lambda: numerical_grad(np.sum, np.zeros(2), h=0.0), ValueError, r"^h: expected a finite number > 0"),
    (lambda: numerical_grad(np.sum, np.zeros(2), h=float("nan")), ValueError, r"^h: expected a finite number > 0"),
    (lambda: relative_error(np.zeros(2), np.zeros(3)), ValueError, r"^b: expected the shape of a"),
    (lambda: relative_error(np.zeros(2), np.zeros(2), kind="l1"), ValueError, r"^kind: expected 'elementwise' or 'norm'"),
]


@pytest.mark.parametrize("call, exc, match", BAD)
def test_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
