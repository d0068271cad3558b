"""companion.losses against torch (F.cross_entropy, autograd), MONAI (DiceLoss, DiceCELoss) and hand cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion.losses import (
    composite_loss,
    composite_loss_grad,
    cross_entropy,
    cross_entropy_grad,
    dice_loss,
    dice_loss_grad,
    log_softmax,
    one_hot,
    soft_dice,
    soft_dice_grad,
    softmax,
)

TOL = {np.float32: 1e-5, np.float64: 1e-10}

SHAPES = [  # logits shape (N, K, *S)
    pytest.param((6, 4), id="no-spatial"),
    pytest.param((2, 3, 7), id="1d"),
    pytest.param((2, 3, 5, 6), id="2d"),
    pytest.param((1, 2, 3, 4, 5), id="3d-binary"),
]
CE_OPTIONS = [  # keyword arguments; the mistake each case catches
    pytest.param(dict(), id="mean"),  # plain mean over all voxels (not per sample)
    pytest.param(dict(reduction="sum"), id="sum"),
    pytest.param(dict(reduction="none"), id="none"),  # per-voxel map, (N, *S)
    pytest.param(dict(weight="w"), id="weighted-mean"),  # divides by sum of w[y], not N*S
    pytest.param(dict(weight="w", reduction="sum"), id="weighted-sum"),
    pytest.param(dict(weight="w", reduction="none"), id="weighted-none"),
]


def _data(shape, dtype, seed=0, scale=2.0):
    rng = np.random.default_rng(seed)
    z = (scale * rng.standard_normal(shape)).astype(dtype)
    t = rng.integers(0, shape[1], size=(shape[0],) + shape[2:])
    return z, t


def _resolve(kwargs, k, dtype):
    kwargs = dict(kwargs)
    if kwargs.get("weight") == "w":
        kwargs["weight"] = np.linspace(0.2, 3.0, k).astype(dtype)
    return kwargs


def _torch_kwargs(kwargs):
    out = dict(kwargs)
    if out.get("weight") is not None:
        out["weight"] = torch.from_numpy(out["weight"])
    return out


# ------------------------------------------------------------------------------------------
# softmax / log_softmax
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_softmax_matches_torch(shape, dtype):
    z, _ = _data(shape, dtype)
    for ours, theirs in ((softmax, torch.softmax), (log_softmax, torch.log_softmax)):
        out = ours(z, axis=1)
        assert out.dtype == dtype
        np.testing.assert_allclose(out, theirs(torch.from_numpy(z), dim=1).numpy(), rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("big", [1e4, 1e6, 1e30])
def test_softmax_stable_for_huge_logits(big, dtype):
    if big > np.finfo(dtype).max:
        pytest.skip("not representable")
    z = np.array([[big, 0.0, -big], [-big, -big, -big]], dtype=dtype)
    p = softmax(z, axis=1)
    lp = log_softmax(z, axis=1)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(lp))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p[0], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-6)
    assert lp[0, 2] == pytest.approx(-2 * big, rel=1e-6)  # exact, where log(softmax) gives -inf


def test_naive_softmax_overflows_and_ours_does_not():
    z = np.array([1e4, 0.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z) / np.exp(z).sum()
    assert np.isnan(naive[0])
    np.testing.assert_allclose(softmax(z, axis=0), [1.0, 0.0])


# ------------------------------------------------------------------------------------------
# cross-entropy
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", CE_OPTIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_cross_entropy_matches_torch(shape, kwargs, dtype):
    z, t = _data(shape, dtype)
    kwargs = _resolve(kwargs, shape[1], dtype)
    out = cross_entropy(z, t, **kwargs)
    expected = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(t), **_torch_kwargs(kwargs)).numpy()
    assert out.dtype == dtype and out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=TOL[dtype], atol=TOL[dtype])


def test_cross_entropy_hand_case():
    # two voxels, K=2: -(log σ(2) + log σ(-1)) / 2 with σ the logistic function
    z = np.array([[[2.0, 1.0], [0.0, 0.0]]])  # (N=1, K=2, L=2)
    t = np.array([[0, 1]])
    expected = -(np.log(1 / (1 + np.exp(-2))) + np.log(1 / (1 + np.exp(1.0)))) / 2
    assert float(cross_entropy(z, t)) == pytest.approx(expected, rel=1e-12)
    assert float(cross_entropy(z, t, reduction="sum")) == pytest.approx(2 * expected, rel=1e-12)


def test_cross_entropy_is_negative_log_likelihood():
    z, t = _data((3, 4, 5), np.float64)
    p = softmax(z, axis=1)
    loglik = np.sum(one_hot(t, 4) * np.log(p))  # Σ_i Σ_k y_ik log p_ik
    assert float(cross_entropy(z, t, reduction="sum")) == pytest.approx(-loglik, rel=1e-12)


def test_cross_entropy_stable_for_huge_logits():
    z = np.array([[1e4, -1e4]])
    assert float(cross_entropy(z, np.array([1]))) == pytest.approx(2e4, rel=1e-12)
    assert float(cross_entropy(z, np.array([0]))) == 0.0


def test_cross_entropy_does_not_mutate():
    z, t = _data((2, 3, 4), np.float64)
    z0, t0 = z.copy(), t.copy()
    cross_entropy(z, t, weight=np.ones(3))
    cross_entropy_grad(z, t)
    dice_loss_grad(z, t)
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(t, t0)


# ------------------------------------------------------------------------------------------
# gradients: centred differences, then autograd
# ------------------------------------------------------------------------------------------

def numerical_grad(f, x, h=1e-6):
    """Centred-difference gradient of the scalar f(x) with respect to x, in float64."""
    x, grad = x.astype(np.float64), np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x_plus, x_minus = x.copy(), x.copy()
        x_plus[i] += h
        x_minus[i] -= h
        grad[i] = (f(x_plus) - f(x_minus)) / (2 * h)
    return grad


def assert_grad_close(analytic, numeric, tol=1e-7):
    err = np.linalg.norm(analytic - numeric) / max(1e-12, np.linalg.norm(analytic) + np.linalg.norm(numeric))
    assert err < tol, f"relative gradient error {err:.1e} exceeds {tol:.0e}"


@pytest.mark.parametrize("kwargs", CE_OPTIONS)
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2, 3)])
def test_cross_entropy_grad_centred_differences(shape, kwargs):
    z, t = _data(shape, np.float64, seed=1)
    kwargs = _resolve(kwargs, shape[1], np.float64)
    rng = np.random.default_rng(2)
    if kwargs.get("reduction") == "none":
        g = rng.standard_normal(t.shape)  # random upstream gradient, contracted
        f = lambda x: float(np.sum(g * cross_entropy(x, t, **kwargs)))  # noqa: E731
        analytic = cross_entropy_grad(z, t, grad_out=g, **kwargs)
    else:
        g = 0.7
        f = lambda x: g * float(cross_entropy(x, t, **kwargs))  # noqa: E731
        analytic = cross_entropy_grad(z, t, grad_out=g, **kwargs)
    assert_grad_close(analytic, numerical_grad(f, z))
    # and autograd
    zt = torch.from_numpy(z).requires_grad_(True)
    out = F.cross_entropy(zt, torch.from_numpy(t), **_torch_kwargs(kwargs))
    out.backward(torch.as_tensor(g, dtype=torch.float64).expand_as(out) if out.ndim else torch.tensor(g, dtype=torch.float64))
    np.testing.assert_allclose(analytic, zt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cross_entropy_grad_is_softmax_minus_onehot():
    z, t = _data((1, 5), np.float64)
    np.testing.assert_allclose(cross_entropy_grad(z, t, reduction="sum"), softmax(z) - one_hot(t, 5), atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_grad_keeps_dtype(dtype):
    z, t = _data((2, 3, 4), dtype)
    assert cross_entropy_grad(z, t).dtype == dtype
    assert dice_loss_grad(z, t).dtype == dtype
    assert composite_loss_grad(z, t).dtype == dtype


@pytest.mark.parametrize("batch", [False, True])
def test_soft_dice_grad_centred_differences(batch):
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, size=(2, 3, 4, 3))
    y = one_hot(rng.integers(0, 3, size=(2, 4, 3)), 3)
    g = rng.standard_normal((3,) if batch else (2, 3))
    f = lambda x: float(np.sum(g * soft_dice(x, y, 1e-5, batch=batch)))  # noqa: E731
    analytic = soft_dice_grad(p, y, 1e-5, batch=batch, grad_out=g)
    assert_grad_close(analytic, numerical_grad(f, p))


DICE_OPTIONS = [
    pytest.param(dict(), id="default"),
    pytest.param(dict(include_background=False), id="no-background"),  # drops class 0 from the mean
    pytest.param(dict(batch=True), id="batch"),  # sums over N before dividing
    pytest.param(dict(include_background=False, batch=True, eps=1e-3), id="no-bg-batch-eps"),
]


@pytest.mark.parametrize("kwargs", DICE_OPTIONS)
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 2, 3, 3)])
def test_dice_and_composite_grad_centred_differences_and_autograd(shape, kwargs):
    from companion.models import losses as tl

    z, t = _data(shape, np.float64, seed=4, scale=1.0)
    for loss, grad, twin, extra in (
        (dice_loss, dice_loss_grad, tl.dice_loss, {}),
        (composite_loss, composite_loss_grad, tl.composite_loss, dict(alpha=0.6, beta=1.7)),
    ):
        analytic = grad(z, t, **kwargs, **extra)
        assert_grad_close(analytic, numerical_grad(lambda x: float(loss(x, t, **kwargs, **extra)), z))
        zt = torch.from_numpy(z).requires_grad_(True)
        twin(zt, torch.from_numpy(t), **kwargs, **extra).backward()
        np.testing.assert_allclose(analytic, zt.grad.numpy(), rtol=1e-10, atol=1e-13)


# ------------------------------------------------------------------------------------------
# soft Dice, Dice loss, composite loss vs MONAI
# ------------------------------------------------------------------------------------------

def test_soft_dice_hand_case():
    p = np.array([[[0.9, 0.8, 0.1, 0.0]]])
    y = np.array([[[1.0, 1.0, 0.0, 0.0]]])
    np.testing.assert_allclose(soft_dice(p, y, eps=0), [[2 * 1.7 / 3.8]])
    # a class absent from both prediction and reference scores 1 thanks to eps (not 0/0)
    np.testing.assert_allclose(soft_dice(np.zeros((1, 1, 4)), np.zeros((1, 1, 4))), [[1.0]])
    # hard 0/1 inputs, eps = 0: the Dice coefficient 2|P∩Y|/(|P|+|Y|)
    np.testing.assert_allclose(soft_dice(np.array([[[1.0, 1, 1, 0]]]), y, eps=0), [[2 * 2 / 5]])


MONAI_CASES = [  # logits shape, Dice settings
    pytest.param((2, 3, 6), dict(), id="1d"),
    pytest.param((2, 3, 5, 6), dict(), id="2d"),
    pytest.param((2, 3, 5, 6), dict(include_background=False), id="2d-no-background"),
    pytest.param((3, 2, 4, 5), dict(batch=True), id="2d-batch"),
    pytest.param((1, 4, 3, 4, 5), dict(include_background=False, batch=True, eps=1e-3), id="3d-no-bg-batch"),
]


def _monai_kwargs(kwargs):
    eps = kwargs.get("eps", 1e-5)
    return dict(softmax=True, to_onehot_y=True, smooth_nr=eps, smooth_dr=eps,
                include_background=kwargs.get("include_background", True), batch=kwargs.get("batch", False))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kwargs", MONAI_CASES)
def test_dice_loss_matches_monai(shape, kwargs, dtype):
    from monai.losses import DiceCELoss, DiceLoss

    z, t = _data(shape, dtype, seed=5)
    zt, tt = torch.from_numpy(z), torch.from_numpy(t)[:, None]  # MONAI wants (N, 1, *S)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = DiceLoss(**_monai_kwargs(kwargs))(zt, tt).numpy()
        expected_c = DiceCELoss(**_monai_kwargs(kwargs), lambda_ce=0.4, lambda_dice=1.5)(zt, tt).numpy()
    out = dice_loss(z, t, **kwargs)
    out_c = composite_loss(z, t, alpha=0.4, beta=1.5, **kwargs)
    assert out.dtype == dtype and out_c.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_allclose(out_c, expected_c, rtol=TOL[dtype], atol=TOL[dtype])


def test_dice_loss_perfect_and_worst():
    t = np.array([[0, 0, 1, 1]])
    perfect = np.where(one_hot(t, 2) > 0, 50.0, -50.0)
    assert float(dice_loss(perfect, t)) == pytest.approx(0.0, abs=1e-12)
    assert float(dice_loss(-perfect, t, eps=0)) == pytest.approx(1.0, abs=1e-12)


def test_composite_is_weighted_sum():
    z, t = _data((2, 3, 4, 4), np.float64)
    expected = 0.3 * cross_entropy(z, t) + 2.0 * dice_loss(z, t, include_background=False)
    np.testing.assert_allclose(composite_loss(z, t, alpha=0.3, beta=2.0, include_background=False), expected)


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------

Z = np.zeros((2, 3, 4))
T = np.zeros((2, 4), dtype=np.int64)
BAD_CALLS = [  # call, exception, message pattern
    pytest.param(lambda: cross_entropy(Z, T + 3), ValueError, r"^target: expected class labels in \[0, 3\)", id="label-too-big"),
    pytest.param(lambda: cross_entropy(Z, T - 1), ValueError, r"^target: expected class labels in \[0, 3\)", id="label-negative"),
    pytest.param(lambda: dice_loss(Z, T + 3), ValueError, r"^target: expected class labels", id="dice-label"),
    pytest.param(lambda: cross_entropy(Z, np.zeros((2, 5), dtype=np.int64)), ValueError, r"^target: expected shape \(2, 4\)", id="shape-mismatch"),
    pytest.param(lambda: dice_loss(Z, T[:, None]), ValueError, r"^target: expected shape .*drop the channel axis", id="monai-style-target"),
    pytest.param(lambda: cross_entropy(Z, T.astype(float)), TypeError, r"^target: expected an integer array", id="float-target"),
    pytest.param(lambda: composite_loss(Z, T.astype(bool)), TypeError, r"^target: expected an integer array", id="bool-target"),
    pytest.param(lambda: cross_entropy(Z.astype(complex), T), TypeError, r"^logits: expected a float", id="complex-logits"),
    pytest.param(lambda: cross_entropy(np.zeros(3), T), ValueError, r"^logits: expected \(N, K, \*S\)", id="1d-logits"),
    pytest.param(lambda: dice_loss(np.zeros((2, 3)), T[:, 0]), ValueError, r"^logits: expected \(N, K, \*S\) with at least 3", id="dice-no-spatial"),
    pytest.param(lambda: cross_entropy(Z, T, weight=np.ones(2)), ValueError, r"^weight: expected shape \(3,\)", id="weight-shape"),
    pytest.param(lambda: cross_entropy(Z, T, weight=-np.ones(3)), ValueError, r"^weight: expected finite non-negative", id="weight-negative"),
    pytest.param(lambda: cross_entropy(Z, T, reduction="avg"), ValueError, r"^reduction: expected 'mean', 'sum' or 'none'", id="reduction"),
    pytest.param(lambda: dice_loss(Z, T, eps=-1.0), ValueError, r"^eps: expected a finite number >= 0", id="eps"),
    pytest.param(lambda: dice_loss(Z[:, :1], T, include_background=False), ValueError, r"^include_background: False needs K >= 2", id="one-class-no-bg"),
    pytest.param(lambda: soft_dice(Z, np.zeros((2, 3, 5))), ValueError, r"^onehot: expected shape \(2, 3, 4\)", id="onehot-shape"),
    pytest.param(lambda: soft_dice(np.zeros((2, 3)), np.zeros((2, 3))), ValueError, r"^probs: expected \(N, K, \*S\)", id="probs-ndim"),
    pytest.param(lambda: composite_loss(Z, T, alpha=-1.0), ValueError, r"^alpha: expected a finite number >= 0", id="alpha"),
    pytest.param(lambda: one_hot(T, 0), ValueError, r"^num_classes: expected an int >= 1", id="one-hot-k"),
    pytest.param(lambda: dice_loss(Z, T, batch="yes"), TypeError, r"^batch: expected a bool, got str", id="batch-not-bool"),
    pytest.param(lambda: composite_loss(Z, T, batch=1), TypeError, r"^batch: expected a bool, got int", id="composite-batch-int"),
    pytest.param(lambda: dice_loss_grad(Z, T, include_background="no"), TypeError, r"^include_background: expected a bool", id="grad-background-str"),
    pytest.param(lambda: soft_dice(Z, Z, batch=None), TypeError, r"^batch: expected a bool", id="soft-dice-batch-none"),
    pytest.param(lambda: softmax(Z, axis=5), ValueError, r"^axis: expected an axis in \[-3, 3\) of z with 3 dims, got 5", id="softmax-axis"),
    pytest.param(lambda: log_softmax(np.zeros(3)), ValueError, r"^axis: expected an axis in \[-1, 1\)", id="log-softmax-1d-default-axis"),
    pytest.param(lambda: cross_entropy_grad(Z, T, reduction="none", grad_out=np.ones(3)), ValueError, r"^grad_out: expected shape \(2, 4\)", id="grad-out-shape"),
]


@pytest.mark.parametrize("call, exc, match", BAD_CALLS)
def test_bad_input_raises(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
