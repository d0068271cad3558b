"""companion.models.erf: the ERF of linear stacks equals the repeated convolution of the kernels."""

import doctest

import numpy as np
import pytest
import torch
from torch import nn

import companion.models.erf as erf_mod
from companion.models.erf import effective_receptive_field, erf_std, random_relu_cnn

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


def _stack(kernels_1d, dims):
    """Linear convolutions whose (separable) kernels are the outer products of the 1-D kernels."""
    layers = []
    for k in kernels_1d:
        k = np.asarray(k, dtype=np.float64)
        w = k
        for _ in range(dims - 1):
            w = np.multiply.outer(w, k)
        conv = CONV[dims](1, 1, len(k), bias=False).double()
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(w)[None, None])
        layers.append(conv)
    return nn.Sequential(*layers)


CASES = [  # 1-D kernels of the stack, dims, input size per axis
    pytest.param([[1, 1, 1]] * 4, 1, 21, id="1d-box3x4"),
    pytest.param([[1, 2, 3], [1, 1, 1, 1, 1], [0.5, 4.0, 1.0]], 1, 25, id="1d-asymmetric"),  # catches a flip
    pytest.param([[1, 1, 1]] * 3, 2, 15, id="2d-box3x3"),
    pytest.param([[1, 3, 1], [2, 1, 1]], 2, 11, id="2d-asymmetric"),
    pytest.param([[1, 1, 1]] * 2, 3, 9, id="3d-box3x2"),
]


@pytest.mark.parametrize("kernels, dims, size", CASES)
def test_linear_stack_erf_is_the_repeated_convolution(kernels, dims, size):
    model = _stack(kernels, dims)
    x = np.random.default_rng(0).standard_normal((2, 1) + (size,) * dims)   # input values do not matter
    erf = effective_receptive_field(model, x)
    prof = np.array([1.0])
    for k in kernels:
        prof = np.convolve(prof, np.asarray(k, dtype=np.float64))            # closed form, not flipped
    expected = prof
    for _ in range(dims - 1):
        expected = np.multiply.outer(expected, prof)
    expected = expected / expected.sum()
    out_size = size - sum(len(k) - 1 for k in kernels)
    start = out_size // 2                                                     # centre output sees [start, start + r)
    full = np.zeros((size,) * dims)
    full[tuple(slice(start, start + len(prof)) for _ in range(dims))] = expected
    np.testing.assert_allclose(erf, full, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("n_layers, k", [(1, 3), (4, 3), (6, 5)])
def test_erf_std_of_box_stack_is_sqrt_sum_of_variances(n_layers, k):
    model = _stack([[1.0] * k] * n_layers, 2)
    erf = effective_receptive_field(model, np.zeros((1, 1, 41, 41)))
    expected = np.sqrt(n_layers * (k * k - 1) / 12)                           # variance of a k-box: (k^2 - 1)/12
    np.testing.assert_allclose(erf_std(erf), [expected, expected], rtol=1e-10)
    np.testing.assert_allclose(erf_std(erf, spacing=(5.0, 0.7)), [5 * expected, 0.7 * expected], rtol=1e-10)


def test_position_moves_the_field():
    model = _stack([[1, 1, 1]], 1)
    erf = effective_receptive_field(model, np.zeros((1, 1, 10)), position=[0])
    np.testing.assert_allclose(erf, [1 / 3, 1 / 3, 1 / 3] + [0] * 7)


def test_random_relu_cnn_is_he_initialised_and_relu_between_layers():
    net = random_relu_cnn(4, channels=16, seed=3)
    convs = [m for m in net if isinstance(m, nn.Conv2d)]
    assert len(convs) == 4 and sum(isinstance(m, nn.ReLU) for m in net) == 3
    w = convs[1].weight
    assert abs(w.std().item() / np.sqrt(2 / (16 * 9)) - 1) < 0.1
    assert all((c.bias == 0).all() for c in convs) and w.dtype == torch.float64
    assert not any(isinstance(m, nn.ReLU) for m in random_relu_cnn(3, seed=0, linear=True))
    torch.testing.assert_close(random_relu_cnn(2, seed=5)[0].weight, random_relu_cnn(2, seed=5)[0].weight)


def test_relu_erf_is_narrower_than_theoretical_and_grows_slower():
    # Luo et al. 2016: the ERF of random ReLU stacks grows like sqrt(depth), the theoretical like depth.
    torch.set_num_threads(1)
    x = np.random.default_rng(1).standard_normal((2, 1, 72, 72))
    std = {L: np.mean([erf_std(effective_receptive_field(random_relu_cnn(L, seed=s), x)).mean()
                       for s in range(3)]) for L in (4, 16)}
    assert 1.5 < std[16] / std[4] < 3.0            # sqrt(4) = 2, theoretical 33 / 9 = 3.7
    assert std[16] < 33 / 4


BAD_CALLS = [
    (lambda: random_relu_cnn(0, seed=0), ValueError, r"^depth: expected an int >= 1"),
    (lambda: random_relu_cnn(2, kernel=4, seed=0), ValueError, r"^kernel: expected an odd size"),
    (lambda: random_relu_cnn(2, dims=4, seed=0), ValueError, r"^dims: expected 1, 2 or 3"),
    (lambda: effective_receptive_field("net", np.zeros((1, 1, 5))), TypeError, r"^model: expected a torch.nn.Module"),
    (lambda: effective_receptive_field(_stack([[1, 1, 1]], 1), np.zeros((1, 5))), ValueError, r"^x: expected \(N, C"),
    (lambda: effective_receptive_field(_stack([[1, 1, 1]], 1), np.zeros((1, 1, 5)), position=[7]), ValueError,
     r"^position: expected indices inside"),
    (lambda: effective_receptive_field(_stack([[1, 1, 1]], 1), np.zeros((1, 1, 5)), position=[1, 1]), ValueError,
     r"^position: expected 1 indices"),
    (lambda: effective_receptive_field(_stack([[0, 0, 0]], 1), np.zeros((1, 1, 5))), ValueError, r"^model: the gradient"),
    (lambda: erf_std(np.array([1.0, -1.0])), ValueError, r"^erf: expected non-negative"),
    (lambda: erf_std(np.ones((3, 3)), spacing=(1.0,)), ValueError, r"^spacing: expected 2 values"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_doctests():
    assert doctest.testmod(erf_mod, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
