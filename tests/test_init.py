"""companion.init against torch.nn.init (kaiming_normal_, calculate_gain) and torch forward passes."""

import doctest
import math

import numpy as np
import pytest
import torch

import companion.init as init_mod
from companion.init import (fan_in, he_normal, he_std, propagate_second_moment, relu_gain,
                            second_moment_theory)

SHAPES = [  # weight shape: linear, 1-D, 2-D, 3-D and anisotropic 1x3x3 convolutions
    pytest.param((300, 200), id="linear"),
    pytest.param((64, 16, 5), id="conv1d"),
    pytest.param((128, 32, 3, 3), id="conv2d"),
    pytest.param((64, 16, 3, 3, 3), id="conv3d"),
    pytest.param((64, 32, 1, 3, 3), id="conv3d-1x3x3"),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("a", [0.0, 0.01, 0.2])
def test_he_std_is_the_std_kaiming_normal_draws(shape, a):
    w = torch.empty(shape, dtype=torch.float64)
    torch.manual_seed(0)
    torch.nn.init.kaiming_normal_(w, a=a, mode="fan_in", nonlinearity="leaky_relu")
    n = w.numel()
    expected = he_std(fan_in(shape), a)
    # the sample std of n normal draws has relative standard error 1/sqrt(2n): allow 5 of them
    assert abs(w.std().item() / expected - 1) < 5 / math.sqrt(2 * n)
    assert abs(w.mean().item()) < 5 * expected / math.sqrt(n)
    ours = he_normal(shape, negative_slope=a, seed=1)
    assert ours.shape == tuple(shape) and ours.dtype == np.float64
    assert abs(ours.std() / expected - 1) < 5 / math.sqrt(2 * n)


@pytest.mark.parametrize("shape", SHAPES)
def test_fan_in_matches_torch(shape):
    w = torch.empty(shape)
    assert fan_in(shape) == torch.nn.init._calculate_fan_in_and_fan_out(w)[0]


@pytest.mark.parametrize("a", [0.0, 0.01, 0.1, 0.3, 1.0])
def test_relu_gain_matches_calculate_gain(a):
    assert relu_gain(a) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", a), rel=1e-12)
    if a == 0.0:
        assert relu_gain() == pytest.approx(torch.nn.init.calculate_gain("relu"), rel=1e-12)


def _torch_second_moments(x, depth, width, a, std_scale=1.0, seed=0):
    """The same network in torch, initialised by kaiming_normal_ (times std_scale)."""
    torch.manual_seed(seed)
    y, out = torch.from_numpy(x), []
    for _ in range(depth):
        lin = torch.nn.Linear(y.shape[1], width, bias=False).double()
        torch.nn.init.kaiming_normal_(lin.weight, a=a, mode="fan_in", nonlinearity="leaky_relu")
        with torch.no_grad():
            z = lin(y) * std_scale
        out.append((z ** 2).mean().item())
        y = torch.nn.functional.leaky_relu(z, a)
    return np.array(out)


@pytest.mark.parametrize("a, std_scale", [(0.0, 1.0), (0.01, 1.0), (0.2, 1.0), (0.0, math.sqrt(0.5)),
                                          (0.0, 1.2)])
def test_propagation_agrees_with_torch_kaiming_and_theory(a, std_scale):
    # Catches: forgetting the factor 1/2 of ReLU (He gain sqrt(2)), fan_out instead of fan_in,
    # LeakyReLU's (1 + a^2) correction (each is a factor >= 1.2 per layer, log >= 0.18, or x2 at
    # layer 1). Width 256, batch 256: the log of one layer's factor fluctuates by about
    # sqrt(2/256) = 0.09; its mean over 9 layers by about 0.03: allow 0.1, and 0.2 at layer 1.
    torch.set_num_threads(1)
    x = np.random.default_rng(3).standard_normal((256, 300))
    depth = 10
    theory = second_moment_theory(float(np.mean(x * x)), depth, std_scale=std_scale, negative_slope=a)
    ours = propagate_second_moment(x, depth, 256, std_scale=std_scale, negative_slope=a, seed=4)
    theirs = _torch_second_moments(x, depth, 256, a, std_scale)
    for measured in (ours, theirs):
        assert abs(np.log(measured[0] / theory[0])) < 0.2
        slope = np.mean(np.diff(np.log(measured)))
        assert abs(slope - np.log(std_scale ** 2)) < 0.1, slope
    # and a wrong rule (no ReLU factor 1/2) is far off for ReLU
    if a == 0.0 and std_scale == 1.0:
        wrong = np.mean(x * x) * 2.0 ** np.arange(1, depth + 1)
        assert abs(ours[-1] / wrong[-1] - 1) > 0.9


def test_second_moment_theory_by_hand():
    np.testing.assert_allclose(second_moment_theory(2.0, 3), [4.0, 4.0, 4.0])
    np.testing.assert_allclose(second_moment_theory(1.0, 3, std_scale=math.sqrt(0.5)), [1.0, 0.5, 0.25])
    np.testing.assert_allclose(second_moment_theory(1.0, 2, negative_slope=1.0), [1.0, 1.0])


BAD_CALLS = [
    (lambda: fan_in((3,)), ValueError, r"^weight_shape: expected at least 2"),
    (lambda: fan_in(5), TypeError, r"^weight_shape: expected a sequence"),
    (lambda: fan_in((3, 0, 3)), ValueError, r"^weight_shape: expected an int >= 1"),
    (lambda: relu_gain(-0.1), ValueError, r"^negative_slope: expected a finite number >= 0"),
    (lambda: relu_gain(2.0), ValueError, r"^negative_slope: expected a slope in \[0, 1\]"),
    (lambda: relu_gain("0.1"), TypeError, r"^negative_slope: expected a number"),
    (lambda: he_std(0), ValueError, r"^fan_in: expected an int >= 1"),
    (lambda: he_std(2.5), TypeError, r"^fan_in: expected an int"),
    (lambda: he_normal((4, 4), seed=-1), ValueError, r"^seed: expected an int >= 0"),
    (lambda: second_moment_theory(0.0, 3), ValueError, r"^q_in: expected a finite number > 0"),
    (lambda: second_moment_theory(1.0, 0), ValueError, r"^depth: expected an int >= 1"),
    (lambda: propagate_second_moment(np.ones(5), 2, 4, seed=0), ValueError, r"^x: expected"),
    (lambda: propagate_second_moment(np.ones((5, 3)), 2, 0, seed=0), ValueError, r"^width: expected an int >= 1"),
    (lambda: propagate_second_moment(np.ones((5, 3)), 2, 4, std_scale=0, seed=0), ValueError, r"^std_scale:"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_doctests():
    assert doctest.testmod(init_mod, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_import_is_numpy_only():
    import ast
    import inspect
    tree = ast.parse(inspect.getsource(init_mod))
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
             for a in n.names} | {n.module.split(".")[0] for n in ast.walk(tree)
                                   if isinstance(n, ast.ImportFrom) and n.module}
    assert not names & {"torch", "matplotlib", "ipywidgets"}
