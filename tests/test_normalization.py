"""companion.normalization against torch (F.batch_norm, nn.BatchNorm1d/2d/3d, F.instance_norm,
F.group_norm), torch autograd, float64 centred differences, and the contract's worked case."""

import doctest

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import numerical_vjp, relative_error  # the one centred-difference oracle
import companion.normalization as norm_mod
from companion.normalization import (
    BatchNorm, BNCache, batch_norm, batch_norm_backward, batch_norm_inference, group_norm,
    batch_statistics_theory, effective_sample_size, instance_norm, smoothed_noise, update_running_stats,
)

TOL = {np.float32: 1e-5, np.float64: 1e-10}

SHAPES = [  # x shape (N, C, *S)
    pytest.param((8, 3), id="S-empty-(N,C)"),
    pytest.param((4, 3, 7), id="1d"),
    pytest.param((2, 4, 5, 6), id="2d"),
    pytest.param((2, 3, 4, 5, 3), id="3d"),
    pytest.param((1, 2, 3, 4, 5), id="3d-N=1"),
]


def _data(shape, dtype, seed=0, shift=True):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = rng.standard_normal(shape) * rng.uniform(0.5, 3, c).reshape((1, c) + (1,) * (len(shape) - 2))
    if shift:  # a non-zero mean per channel: catches a missing centring
        x = x + rng.uniform(-2, 2, c).reshape((1, c) + (1,) * (len(shape) - 2))
    gamma, beta = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    return x.astype(dtype), gamma.astype(dtype), beta.astype(dtype)


# ---------------------------------------------------------------------------------------------
# Forward, training mode
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_matches_torch_training(shape, dtype):
    x, gamma, beta = _data(shape, dtype)
    keep = x.copy()
    expected = F.batch_norm(torch.from_numpy(x), None, None, torch.from_numpy(gamma),
                            torch.from_numpy(beta), training=True, eps=1e-3).numpy()
    y, cache = batch_norm(x, gamma, beta, eps=1e-3)
    assert y.dtype == dtype and y.shape == x.shape
    np.testing.assert_allclose(y, expected, rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_array_equal(x, keep)
    # statistics over every axis but C, biased variance
    axes = (0,) + tuple(range(2, x.ndim))
    np.testing.assert_allclose(cache.mean, x.astype(np.float64).mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(cache.var, x.astype(np.float64).var(axis=axes, ddof=0), rtol=1e-12)
    assert cache.m == x.size // x.shape[1]


def test_batch_norm_worked_case_of_the_contract():
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 2, 2)
    y, _ = batch_norm(x, np.ones(1), np.zeros(1), eps=1e-5)
    np.testing.assert_allclose(y.ravel(), [-1.341635, -0.447212, 0.447212, 1.341635], atol=1e-6)
    bn = BatchNorm(1)
    y2 = bn(x)
    np.testing.assert_array_equal(y2, y)
    assert bn.running_mean.dtype == np.float64 and bn.running_var.dtype == np.float64
    np.testing.assert_allclose(bn.running_mean, [0.25], rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, [1.0666667], rtol=1e-7)  # biased would give 1.025


def test_batch_norm_none_means_identity_affine():
    x, _, _ = _data((3, 2, 4), np.float64)
    y_none, _ = batch_norm(x, None, None)
    y_id, _ = batch_norm(x, np.ones(2), np.zeros(2))
    np.testing.assert_array_equal(y_none, y_id)


# ---------------------------------------------------------------------------------------------
# Backward
# ---------------------------------------------------------------------------------------------

def rel_err(a, b):
    """Relative error of the whole gradient, ||a - b|| / (||a|| + ||b||): entries near 0 do not dominate."""
    return relative_error(a, b, kind="norm")


@pytest.mark.parametrize("shape", [
    pytest.param((5, 3), id="S-empty"),
    pytest.param((2, 2, 3, 4), id="2d"),
    pytest.param((1, 2, 2, 3, 2), id="3d-N=1"),
])
def test_batch_norm_backward_matches_centred_differences(shape):
    x, gamma, beta = _data(shape, np.float64, seed=3)
    grad_y = np.random.default_rng(4).standard_normal(shape)
    _, cache = batch_norm(x, gamma, beta)
    gx, gg, gb = batch_norm_backward(grad_y, cache)
    assert rel_err(gx, numerical_vjp(lambda v: batch_norm(v, gamma, beta)[0], x, grad_y, h=1e-5)) < 1e-7
    assert rel_err(gg, numerical_vjp(lambda v: batch_norm(x, v, beta)[0], gamma, grad_y, h=1e-5)) < 1e-7
    assert rel_err(gb, numerical_vjp(lambda v: batch_norm(x, gamma, v)[0], beta, grad_y, h=1e-5)) < 1e-7


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_backward_matches_autograd(shape, dtype):
    x, gamma, beta = _data(shape, dtype, seed=5)
    grad_y = np.random.default_rng(6).standard_normal(shape).astype(dtype)
    xt, gt, bt = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    yt = F.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5)
    expected = torch.autograd.grad(yt, (xt, gt, bt), torch.from_numpy(grad_y))
    _, cache = batch_norm(x, gamma, beta)
    got = batch_norm_backward(grad_y, cache)
    tol = 1e-4 if dtype == np.float32 else 1e-10  # float32 torch sums over many terms
    for ours, theirs in zip(got, expected):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=tol, atol=tol)


def test_batch_norm_backward_gradient_of_sum_is_zero():
    # sum(y) = M * sum(beta) does not depend on x: a backward without the mean path fails this
    x, gamma, beta = _data((3, 2, 4), np.float64)
    _, cache = batch_norm(x, gamma, beta)
    gx, _, gb = batch_norm_backward(np.ones_like(x), cache)
    np.testing.assert_allclose(gx, 0, atol=1e-12)
    np.testing.assert_allclose(gb, [12.0, 12.0])


# ---------------------------------------------------------------------------------------------
# BatchNorm class: running statistics over several steps, eval mode
# ---------------------------------------------------------------------------------------------

TORCH_BN = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d, 5: torch.nn.BatchNorm3d}


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_running_stats_match_torch_over_steps(shape, momentum):
    c = shape[1]
    ours = BatchNorm(c, eps=1e-5, momentum=momentum)
    ref = TORCH_BN[len(shape)](c, eps=1e-5, momentum=momentum).double()
    with torch.no_grad():
        ref.weight.copy_(torch.linspace(0.5, 2, c, dtype=torch.float64))
        ref.bias.copy_(torch.linspace(-1, 1, c, dtype=torch.float64))
    ours.gamma, ours.beta = ref.weight.detach().numpy().copy(), ref.bias.detach().numpy().copy()
    for step in range(4):
        x, _, _ = _data(shape, np.float64, seed=10 + step)
        y = ours(x)
        with torch.no_grad():
            y_ref = ref(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(y, y_ref, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ours.running_mean, ref.running_mean.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ours.running_var, ref.running_var.numpy(), rtol=1e-12, atol=1e-14)
        assert ours.num_batches_tracked == int(ref.num_batches_tracked)
    ours.eval(), ref.eval()
    x, _, _ = _data(shape, np.float64, seed=99)
    rm, rv = ours.running_mean.copy(), ours.running_var.copy()
    with torch.no_grad():
        np.testing.assert_allclose(ours(x), ref(torch.from_numpy(x)).numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(ours.running_mean, rm)  # eval changes nothing
    np.testing.assert_array_equal(ours.running_var, rv)


def test_batchnorm_float32_input_keeps_dtype_and_float64_stats():
    bn = BatchNorm(3)
    x, _, _ = _data((4, 3, 5, 5), np.float32)
    ref = torch.nn.BatchNorm2d(3)
    y = bn(x)
    y_ref = ref(torch.from_numpy(x)).detach().numpy()
    assert y.dtype == np.float32 and bn.running_var.dtype == np.float64
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bn.running_var, ref.running_var.numpy(), rtol=1e-5)
    bn.eval()
    ref.eval()
    np.testing.assert_allclose(bn(x), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert bn(x).dtype == np.float32


def test_batchnorm_eval_is_per_sample_train_is_not():
    bn = BatchNorm(2)
    x, _, _ = _data((6, 2, 4), np.float64)
    bn(x)
    y_train_full = bn(x)
    y_train_part = bn(x[:3])
    assert not np.allclose(y_train_full[:3], y_train_part)  # depends on the other samples
    bn.eval()
    np.testing.assert_allclose(bn(x)[:3], bn(x[:3]), rtol=1e-14)


def test_batchnorm_non_affine_and_cache():
    bn = BatchNorm(2, affine=False)
    assert bn.gamma is None and bn.beta is None
    x, _, _ = _data((4, 2, 3), np.float64)
    y = bn(x)
    assert isinstance(bn.cache, BNCache)
    np.testing.assert_allclose(y, batch_norm(x, None, None)[0])
    assert "BatchNorm(2" in repr(bn)


def test_update_running_stats_momentum_edges():
    rm, rv = update_running_stats([1.0], [2.0], [5.0], [3.0], m=4, momentum=0.0)
    assert rm.tolist() == [1.0] and rv.tolist() == [2.0]
    rm, rv = update_running_stats([1.0], [2.0], [5.0], [3.0], m=4, momentum=1.0)
    assert rm.tolist() == [5.0] and rv.tolist() == [4.0]  # 3 * 4/3, the unbiased variance


def test_batch_norm_inference_matches_torch_eval():
    x, gamma, beta = _data((3, 4, 5), np.float64)
    rm, rv = np.array([0.1, -0.2, 0.3, 0.0]), np.array([0.5, 1.5, 2.0, 1.0])
    expected = F.batch_norm(*(torch.from_numpy(a) for a in (x, rm, rv, gamma, beta)), training=False, eps=1e-5)
    np.testing.assert_allclose(batch_norm_inference(x, rm, rv, gamma, beta), expected.numpy(), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Instance norm and group norm
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [
    pytest.param((3, 2, 7), id="1d"), pytest.param((2, 3, 4, 5), id="2d"),
    pytest.param((1, 2, 3, 4, 5), id="3d-N=1"),
])
def test_instance_norm_matches_torch(shape, dtype):
    x, gamma, beta = _data(shape, dtype)
    xt = torch.from_numpy(x)
    tol = TOL[dtype]
    np.testing.assert_allclose(instance_norm(x), F.instance_norm(xt, eps=1e-5).numpy(), rtol=tol, atol=tol)
    with_affine = F.instance_norm(xt, weight=torch.from_numpy(gamma), bias=torch.from_numpy(beta), eps=1e-3)
    out = instance_norm(x, 1e-3, gamma=gamma, beta=beta)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, with_affine.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, groups", [
    pytest.param((4, 6), 3, id="S-empty-G3"),
    pytest.param((2, 6, 5), 2, id="1d-G2"),
    pytest.param((2, 8, 3, 4), 4, id="2d-G4"),
    pytest.param((1, 8, 2, 3, 4), 1, id="3d-G1-layer-norm"),
    pytest.param((2, 4, 2, 3, 3), 4, id="3d-G=C-instance"),
])
def test_group_norm_matches_torch(shape, groups, dtype):
    x, gamma, beta = _data(shape, dtype)
    tol = TOL[dtype]
    expected = F.group_norm(torch.from_numpy(x), groups, torch.from_numpy(gamma), torch.from_numpy(beta), eps=1e-5)
    out = group_norm(x, groups, gamma, beta)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected.numpy(), rtol=tol, atol=tol)
    plain = F.group_norm(torch.from_numpy(x), groups, eps=1e-5)
    np.testing.assert_allclose(group_norm(x, groups), plain.numpy(), rtol=tol, atol=tol)


def test_instance_and_group_norm_do_not_depend_on_batch():
    x, _, _ = _data((5, 4, 6, 6), np.float64)
    np.testing.assert_allclose(instance_norm(x)[:2], instance_norm(x[:2]), rtol=1e-14)
    np.testing.assert_allclose(group_norm(x, 2)[:2], group_norm(x[:2], 2), rtol=1e-14)
    np.testing.assert_allclose(group_norm(x, 4), instance_norm(x), rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------

X = np.zeros((2, 3, 4))
BAD_CALLS = [
    pytest.param(lambda: batch_norm("x", None, None), TypeError, r"^x: expected a float", id="x-str"),
    pytest.param(lambda: batch_norm(np.zeros(4), None, None), ValueError, r"^x: expected \(N, C, \*S\)", id="x-1d"),
    pytest.param(lambda: batch_norm(np.zeros((1, 3)), None, None), ValueError, r"^x: expected more than 1 value per channel", id="x-M=1"),
    pytest.param(lambda: batch_norm(X, np.ones(4), None), ValueError, r"^gamma: expected shape \(3,\)", id="gamma-len"),
    pytest.param(lambda: batch_norm(X, None, np.ones((3, 1))), ValueError, r"^beta: expected shape \(3,\)", id="beta-2d"),
    pytest.param(lambda: batch_norm(X, ["a"] * 3, None), TypeError, r"^gamma: expected a float32", id="gamma-str"),
    pytest.param(lambda: batch_norm(X, None, None, eps=0), ValueError, r"^eps: expected a finite number > 0", id="eps-0"),
    pytest.param(lambda: batch_norm(X, None, None, eps=-1e-5), ValueError, r"^eps: expected a finite number > 0", id="eps-neg"),
    pytest.param(lambda: batch_norm(X, None, None, eps="1e-5"), TypeError, r"^eps: expected a number", id="eps-str"),
    pytest.param(lambda: batch_norm_backward(X, (1, 2)), TypeError, r"^cache: expected the BNCache", id="cache-tuple"),
    pytest.param(lambda: batch_norm_backward(np.zeros((2, 3, 5)), batch_norm(X + np.arange(4), None, None)[1]),
                 ValueError, r"^grad_y: expected shape \(2, 3, 4\)", id="grad-shape"),
    pytest.param(lambda: batch_norm_inference(X, np.zeros(3), -np.ones(3)), ValueError, r"^running_var: expected finite values >= 0", id="neg-running-var"),
    pytest.param(lambda: batch_norm_inference(X, np.zeros(2), np.ones(3)), ValueError, r"^running_mean: expected shape \(3,\)", id="running-mean-len"),
    pytest.param(lambda: update_running_stats([0.0], [1.0], [0.0], [1.0], m=1), ValueError, r"^m: expected an int >= 2", id="m-1"),
    pytest.param(lambda: update_running_stats([0.0], [1.0], [0.0], [1.0], m=4, momentum=1.5), ValueError, r"^momentum: expected a number in \[0, 1\]", id="momentum-big"),
    pytest.param(lambda: batch_norm_inference(X, np.zeros(3), np.full(3, np.nan)), ValueError, r"^running_var: expected finite values >= 0", id="nan-running-var"),
    pytest.param(lambda: update_running_stats([0.0], [1.0], [0.0], [-1.0], m=4), ValueError, r"^batch_var: expected finite values >= 0", id="neg-batch-var"),
    pytest.param(lambda: update_running_stats([0.0], [-1.0], [0.0], [1.0], m=4), ValueError, r"^running_var: expected finite values >= 0", id="urs-neg-running-var"),
    pytest.param(lambda: BatchNorm(3).train("no"), TypeError, r"^mode: expected a bool", id="train-mode-str"),
    pytest.param(lambda: BatchNorm(0), ValueError, r"^num_features: expected an int >= 1", id="num-features-0"),
    pytest.param(lambda: BatchNorm(2.5), TypeError, r"^num_features: expected an int", id="num-features-float"),
    pytest.param(lambda: BatchNorm(3, momentum=-0.1), ValueError, r"^momentum: expected a number in \[0, 1\]", id="momentum-neg"),
    pytest.param(lambda: BatchNorm(3, momentum="0.1"), TypeError, r"^momentum: expected a number", id="momentum-str"),
    pytest.param(lambda: BatchNorm(3, eps=0.0), ValueError, r"^eps: expected a finite number > 0", id="bn-eps-0"),
    pytest.param(lambda: BatchNorm(3, affine=1), TypeError, r"^affine: expected a bool", id="affine-int"),
    pytest.param(lambda: BatchNorm(4)(X), ValueError, r"^x: expected 4 channels \(num_features\)", id="bn-wrong-C"),
    pytest.param(lambda: group_norm(X, 2), ValueError, r"^num_groups: expected a divisor of the 3 channels, got 2", id="groups-not-divisor"),
    pytest.param(lambda: group_norm(X, 0), ValueError, r"^num_groups: expected an int >= 1", id="groups-0"),
    pytest.param(lambda: group_norm(X, 1.5), TypeError, r"^num_groups: expected an int", id="groups-float"),
    pytest.param(lambda: group_norm(X, 3, gamma=np.ones(2)), ValueError, r"^gamma: expected shape \(3,\)", id="gn-gamma-len"),
    pytest.param(lambda: group_norm(X, 3, eps=0), ValueError, r"^eps: expected a finite number > 0", id="gn-eps"),
    pytest.param(lambda: instance_norm(np.zeros((2, 3))), ValueError, r"^x: expected \(N, C, \*S\) with at least one spatial axis", id="in-no-spatial"),
    pytest.param(lambda: instance_norm(np.zeros((2, 3, 1))), ValueError, r"^x: expected more than 1 value per group", id="in-one-position"),
    pytest.param(lambda: instance_norm(X, gamma=np.ones(4)), ValueError, r"^gamma: expected shape \(3,\)", id="in-gamma-len"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_input_raises_naming_the_argument(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_docstring_examples():
    result = doctest.testmod(norm_mod, extraglobs={"np": np}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 8 and result.failed == 0


# ---------------------------------------------------------------------------------------------
# The small-batch problem: smoothed noise and the theory of batch statistics
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, sigma", [
    pytest.param((16,), 1.5, id="1d"), pytest.param((6, 9), (0.0, 1.0), id="2d-one-axis"),
    pytest.param((5, 6, 7), 3.0, id="3d-kernel-longer-than-axis"),
])
def test_smoothed_noise_is_scipy_wrap_filter_scaled_to_unit_variance(shape, sigma):
    from scipy.ndimage import gaussian_filter
    x = smoothed_noise(2, shape, sigma, seed=3)
    w = np.random.default_rng(3).standard_normal((2,) + shape)
    sig = (sigma,) * len(shape) if np.isscalar(sigma) else sigma
    ref = gaussian_filter(w, (0.0,) + tuple(sig), mode="wrap")
    ratio = x / ref
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-10)  # only a constant scale
    # that scale is 1/sqrt(sum g^2) of the kernel scipy applies: the impulse response, read off scipy
    delta = np.zeros(shape)
    delta[(0,) * len(shape)] = 1.0
    g = gaussian_filter(delta, sig, mode="wrap")
    np.testing.assert_allclose(ratio.flat[0], 1 / np.sqrt(np.sum(g ** 2)), rtol=1e-12)


@pytest.mark.parametrize("sigma, n", [
    pytest.param(0.0, 2, id="white-N2"), pytest.param(1.0, 1, id="s1-N1"),
    pytest.param(1.0, 4, id="s1-N4"), pytest.param(2.0, 2, id="s2-N2"),
])
def test_batch_statistics_theory_matches_monte_carlo(sigma, n):
    batches = 3000
    x = smoothed_noise(batches * n, (6, 6, 6), sigma, seed=7).reshape(batches, -1)
    t = batch_statistics_theory((6, 6, 6), sigma, n)
    # standard errors of the Monte-Carlo estimates are ~2.6 % (variances) and ~1 % (means)
    assert x.mean(axis=1).var() == pytest.approx(t.var_mean, rel=0.1)
    assert x.var(axis=1).mean() == pytest.approx(t.mean_var, rel=0.03)
    assert x.var(axis=1).var() == pytest.approx(t.var_var, rel=0.15)
    assert effective_sample_size((6, 6, 6), sigma, n) == t.m_eff


def test_white_noise_theory_is_the_iid_formula():
    m = 3 * 4 * 5 * 2
    t = batch_statistics_theory((3, 4, 5), 0.0, n=2)
    assert t.m_eff == pytest.approx(m, rel=1e-12)
    assert t.var_var == pytest.approx(2 * (m - 1) / m ** 2, rel=1e-12)  # biased variance
    # the unbiased s^2 = M/(M-1) * biased has variance 2/(M-1), the textbook formula
    assert t.var_var * (m / (m - 1)) ** 2 == pytest.approx(2 / (m - 1), rel=1e-12)


def test_effective_sample_size_continuous_approximation_and_scaling():
    # for s >> 1 voxel on a long axis: sum of the correlation ~ 2 sqrt(pi) s per axis
    for s in (1.0, 2.0, 3.0):
        approx = 48 ** 3 / (2 * np.sqrt(np.pi) * s) ** 3
        assert effective_sample_size((48, 48, 48), s) == pytest.approx(approx, rel=1e-3)
    # proportional to N; far below N*D*H*W once voxels are correlated
    assert effective_sample_size((16, 16, 16), 1.5, n=8) == pytest.approx(8 * effective_sample_size((16, 16, 16), 1.5))
    assert effective_sample_size((16, 16, 16), 1.5, n=2) < 0.02 * 2 * 16 ** 3


BAD_THEORY = [
    pytest.param(lambda: smoothed_noise(0, (4, 4), 1.0), ValueError, r"^n: expected an int >= 1", id="n-0"),
    pytest.param(lambda: smoothed_noise(2, "abc", 1.0), TypeError, r"^shape: expected a tuple", id="shape-str"),
    pytest.param(lambda: smoothed_noise(2, (4, 0), 1.0), ValueError, r"^shape: expected an int >= 1", id="shape-0"),
    pytest.param(lambda: smoothed_noise(2, (4, 4), 1.0, seed="a"), TypeError, r"^seed: expected an int", id="seed-str"),
    pytest.param(lambda: smoothed_noise(2, (4, 4), 1.0, seed=-1), ValueError, r"^seed: expected an int >= 0", id="seed-neg"),
    pytest.param(lambda: smoothed_noise(2, (4, 4), -1.0), ValueError, r"^sigma: expected a finite number >= 0", id="sigma-neg"),
    pytest.param(lambda: effective_sample_size((4, 4), (1.0, 1.0, 1.0)), ValueError, r"^sigma: expected a number or 2 numbers", id="sigma-len"),
    pytest.param(lambda: effective_sample_size((4, 4), 1.0, n=1.5), TypeError, r"^n: expected an int", id="n-float"),
    pytest.param(lambda: batch_statistics_theory((4, 4), 1.0, truncate=0), ValueError, r"^truncate: expected a finite number > 0", id="truncate-0"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_THEORY)
def test_bad_theory_input_raises_naming_the_argument(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


# ---- sample_patches and train_eval_gap ----

from companion.normalization import sample_patches, smoothed_noise as _smoothed_noise, train_eval_gap  # noqa: E402


def test_sample_patches_cut_the_image_at_their_corners():
    image = np.arange(20 * 30, dtype=np.float64).reshape(20, 30)
    patches, corners = sample_patches(image, 8, 50, seed=1)
    assert patches.shape == (50, 8, 8) and patches.dtype == np.float64
    assert corners.min() >= 0 and corners[:, 0].max() <= 12 and corners[:, 1].max() <= 22
    for p, (r, c) in zip(patches, corners):
        np.testing.assert_array_equal(p, image[r:r + 8, c:c + 8])
    np.testing.assert_array_equal(sample_patches(image, 8, 50, seed=1)[1], corners)   # seeded
    assert len({tuple(c) for c in corners}) > 30                                       # and spread


def test_sample_patches_oversampling_puts_foreground_in_the_patch():
    image = np.zeros((40, 40))
    fg = np.zeros((40, 40), bool)
    fg[1, 37] = True                                         # a corner pixel: the patch must be shifted inwards
    patches, corners = sample_patches(image, 10, 200, seed=2, foreground=fg, oversample=1.0)
    assert all(r <= 1 < r + 10 and c <= 37 < c + 10 for r, c in corners)
    _, uniform = sample_patches(image, 10, 2000, seed=3, foreground=fg, oversample=0.25)
    hit = np.mean([(r <= 1 < r + 10) and (c <= 37 < c + 10) for r, c in uniform])
    # 25 % forced, plus the uniform draws that cover it by chance (2/31 * 10/31 of them)
    assert abs(hit - (0.25 + 0.75 * 2 / 31 * 10 / 31)) < 0.03


def test_train_eval_gap_matches_torch_batchnorm3d():
    # the same stream through nn.BatchNorm3d: train on the first batches, then compare train vs eval outputs
    gap = train_eval_gap(2, 1.0, seed=4, steps=10, tests=5, shape=(6, 6, 6))
    stream = _smoothed_noise(2 * 15, (6, 6, 6), 1.0, seed=4).reshape(15, 2, 1, 6, 6, 6)
    bn = torch.nn.BatchNorm3d(1, affine=False).double()
    for xb in stream[:10]:
        bn(torch.from_numpy(xb))
    np.testing.assert_allclose(gap.running_var, bn.running_var.item(), rtol=1e-12)
    np.testing.assert_allclose(gap.running_mean, bn.running_mean.item(), rtol=1e-12, atol=1e-15)
    sq = []
    for xb in stream[10:]:
        t = torch.from_numpy(xb)
        y_train = torch.nn.functional.batch_norm(t, None, None, training=True)
        sq.append(((y_train - bn.eval()(t)) ** 2).mean().item())
    np.testing.assert_allclose(gap.rms, np.sqrt(np.mean(sq)), rtol=1e-6)
    assert gap.trace.shape == (10, 3)


@pytest.mark.parametrize("call, exc, pattern", [
    pytest.param(lambda: sample_patches(np.zeros((4, 4, 4)), 2, 1, seed=0), ValueError, r"^image: expected a 2-D", id="3-d"),
    pytest.param(lambda: sample_patches(np.zeros((4, 6)), 5, 1, seed=0), ValueError, r"^size: expected at most 4", id="size"),
    pytest.param(lambda: sample_patches(np.zeros((4, 6)), 2, 1, seed=0, oversample=0.5), ValueError, r"^foreground: expected",
                 id="no fg"),
    pytest.param(lambda: sample_patches(np.zeros((4, 6)), 2, 1, seed=0, oversample=2.0), ValueError, r"^oversample: expected",
                 id="oversample"),
    pytest.param(lambda: sample_patches(np.zeros((4, 6)), 2, 1, seed=-1), ValueError, r"^seed: expected an int >= 0", id="seed"),
    pytest.param(lambda: train_eval_gap(0, 1.0, seed=0), ValueError, r"^n: expected an int >= 1", id="gap n"),
])
def test_patch_and_gap_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
