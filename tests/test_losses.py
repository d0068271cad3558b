"""companion.losses against torch (F.cross_entropy, autograd), MONAI (DiceLoss, DiceCELoss) and hand cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import numerical_vjp, relative_error  # the one centred-difference oracle
from companion.losses import (
    composite_loss,
    composite_loss_grad,
    cross_entropy,
    cross_entropy_grad,
    dice_loss,
    dice_loss_grad,
    focal_loss,
    generalized_dice_loss,
    log_softmax,
    one_hot,
    soft_dice,
    soft_dice_grad,
    softmax,
    tversky_loss,
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

numerical_grad = numerical_vjp  # the scalar case: no grad_out


def assert_grad_close(analytic, numeric, tol=1e-7):
    err = relative_error(analytic, numeric, kind="norm")
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
# V-Net's squared denominator, generalised Dice, Tversky, focal: MONAI as the oracle
# ------------------------------------------------------------------------------------------

def _absent(t, cls, image=0):
    """The label map with class `cls` removed from image `image` (relabelled 0)."""
    t = t.copy()
    t[image][t[image] == cls] = 0
    return t


SQUARED_CASES = [  # logits shape, Dice settings; the mistake each catches
    pytest.param((2, 3, 5, 6), dict(), id="2d"),  # linear Σp + Σy instead of Σp² + Σy²
    pytest.param((2, 3, 7), dict(include_background=False), id="1d-no-background"),
    pytest.param((3, 2, 4, 5), dict(batch=True), id="2d-batch"),  # squares summed over N too
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kwargs", SQUARED_CASES)
def test_squared_pred_matches_monai(shape, kwargs, dtype):
    from monai.losses import DiceLoss

    z, t = _data(shape, dtype, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = DiceLoss(**_monai_kwargs(kwargs), squared_pred=True)(
            torch.from_numpy(z), torch.from_numpy(t)[:, None]).numpy()
    out = dice_loss(z, t, squared_pred=True, **kwargs)
    assert out.dtype == dtype
    # MONAI forms Σy² as ‖y‖² from a float32 one-hot (sqrt, then squared) whatever the input
    # dtype, and Σpy as (‖p‖² + ‖y‖² - ‖p - y‖²)/2: float32 accuracy (measured up to 5e-8
    # relative in float64); the squared-vs-linear check below is 1e3 times larger than the tolerance
    tol = 1e-5 if dtype == np.float32 else 1e-6
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)
    assert abs(float(out) - float(dice_loss(z, t, **kwargs))) > 1e-3  # the two forms differ on soft p


def test_squared_pred_equals_linear_on_hard_inputs():
    rng = np.random.default_rng(7)
    y = one_hot(rng.integers(0, 3, size=(2, 6)), 3)
    hard = one_hot(rng.integers(0, 3, size=(2, 6)), 3)
    np.testing.assert_allclose(soft_dice(hard, y, squared_pred=True), soft_dice(hard, y))


@pytest.mark.parametrize("batch", [False, True])
def test_squared_pred_grad_centred_differences(batch):
    rng = np.random.default_rng(8)
    p = rng.uniform(0.05, 0.95, size=(2, 3, 4, 3))
    y = one_hot(rng.integers(0, 3, size=(2, 4, 3)), 3)
    g = rng.standard_normal((3,) if batch else (2, 3))
    f = lambda x: float(np.sum(g * soft_dice(x, y, 1e-5, batch=batch, squared_pred=True)))  # noqa: E731
    analytic = soft_dice_grad(p, y, 1e-5, batch=batch, squared_pred=True, grad_out=g)
    assert_grad_close(analytic, numerical_grad(f, p))
    z, t = _data((2, 3, 5), np.float64, seed=9, scale=1.0)
    f2 = lambda x: float(dice_loss(x, t, squared_pred=True, batch=batch))  # noqa: E731
    assert_grad_close(dice_loss_grad(z, t, squared_pred=True, batch=batch), numerical_grad(f2, z))


GDL_CASES = [  # logits shape, settings, label-map edit; the mistake each catches
    pytest.param((2, 3, 5, 6), dict(), None, id="2d"),  # weights 1/Σy instead of 1/(Σy)²
    pytest.param((2, 3, 7), dict(include_background=False), None, id="1d-no-background"),
    pytest.param((3, 2, 4, 5), dict(batch=True), None, id="2d-batch"),  # weights per batch, not image
    pytest.param((2, 3, 5, 6), dict(), (2, 0), id="absent-class"),  # inf weight -> largest finite
    pytest.param((2, 3, 5, 6), dict(batch=True), (2, 0), id="absent-in-one-image-batch"),
    pytest.param((2, 2, 4, 4), dict(include_background=False), (1, 1), id="no-foreground-at-all"),
    pytest.param((1, 4, 3, 4, 5), dict(eps=1e-3), (3, 0), id="3d-eps"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kwargs, edit", GDL_CASES)
def test_generalized_dice_matches_monai(shape, kwargs, edit, dtype):
    from monai.losses import GeneralizedDiceLoss

    z, t = _data(shape, dtype, seed=10)
    if edit is not None:
        t = _absent(t, *edit)
    eps = kwargs.get("eps", 1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = GeneralizedDiceLoss(softmax=True, to_onehot_y=True, w_type="square", smooth_nr=eps,
                                       smooth_dr=eps, include_background=kwargs.get("include_background", True),
                                       batch=kwargs.get("batch", False))(
            torch.from_numpy(z), torch.from_numpy(t)[:, None]).numpy()
    out = generalized_dice_loss(z, t, **kwargs)
    assert out.dtype == dtype
    # MONAI forms its weights in float32 whatever the input: float32 tolerance for both dtypes
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_generalized_dice_hand_case():
    # one image, two classes, 4 pixels: background 3 px, lesion 1 px; weights 1/9 and 1/1
    p = np.array([[[0.9, 0.8, 0.7, 0.4], [0.1, 0.2, 0.3, 0.6]]])
    z = np.log(p)
    t = np.array([[0, 0, 0, 1]])
    w = np.array([1 / 9, 1.0])
    num = 2 * (w[0] * (0.9 + 0.8 + 0.7) + w[1] * 0.6)
    den = w[0] * (2.8 + 3) + w[1] * (1.2 + 1)
    assert float(generalized_dice_loss(z, t, eps=0)) == pytest.approx(1 - num / den, rel=1e-12)


TVERSKY_CASES = [  # logits shape, settings; the mistake each catches
    pytest.param((2, 3, 5, 6), dict(), id="2d-dice"),
    pytest.param((2, 3, 5, 6), dict(alpha=0.3, beta=0.7), id="fp-fn-swapped"),  # alpha on FP, beta on FN
    pytest.param((2, 3, 7), dict(alpha=0.8, beta=0.2, include_background=False), id="1d-no-background"),
    pytest.param((3, 2, 4, 5), dict(alpha=0.1, beta=0.9, batch=True), id="2d-batch"),
    pytest.param((1, 3, 3, 4, 5), dict(alpha=1.0, beta=1.0, eps=1e-3), id="3d-jaccard"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kwargs", TVERSKY_CASES)
def test_tversky_matches_monai(shape, kwargs, dtype):
    from monai.losses import TverskyLoss

    z, t = _data(shape, dtype, seed=11)
    eps = kwargs.get("eps", 1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = TverskyLoss(softmax=True, to_onehot_y=True, alpha=kwargs.get("alpha", 0.5),
                               beta=kwargs.get("beta", 0.5), smooth_nr=eps, smooth_dr=eps,
                               include_background=kwargs.get("include_background", True),
                               batch=kwargs.get("batch", False))(
            torch.from_numpy(z), torch.from_numpy(t)[:, None]).numpy()
    out = tversky_loss(z, t, **kwargs)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=TOL[dtype], atol=TOL[dtype])


def test_tversky_half_half_is_dice_and_asymmetric():
    z, t = _data((2, 3, 6), np.float64, seed=12)
    # (TP + eps)/(TP + FP/2 + FN/2 + eps) is Dice with eps doubled: equal exactly at eps = 0
    np.testing.assert_allclose(tversky_loss(z, t, eps=0), dice_loss(z, t, eps=0), rtol=1e-12)
    # all-background prediction on a lesion: FN only, so beta (not alpha) sets the loss
    t = np.array([[0, 0, 1, 1]])
    z = np.array([[[9.0] * 4, [-9.0] * 4]])
    hi_beta = float(tversky_loss(z, t, alpha=0.1, beta=0.9, include_background=False))
    lo_beta = float(tversky_loss(z, t, alpha=0.9, beta=0.1, include_background=False))
    assert hi_beta > 0.99 and lo_beta > 0.99 and hi_beta > lo_beta


FOCAL_CASES = [  # logits shape, settings; the mistake each catches
    pytest.param((6, 4), dict(), id="no-spatial"),
    pytest.param((2, 3, 5, 6), dict(gamma=2.0), id="2d"),  # (1-p)^gamma on the wrong class
    pytest.param((2, 3, 7), dict(gamma=0.5), id="1d-fractional-gamma"),
    pytest.param((2, 3, 5, 6), dict(gamma=2.0, weight="w"), id="2d-weighted"),  # weighted by w[y]
    pytest.param((1, 2, 3, 4, 5), dict(gamma=3.0, weight="w"), id="3d-weighted"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kwargs", FOCAL_CASES)
def test_focal_matches_monai(shape, kwargs, dtype):
    from monai.losses import FocalLoss

    z, t = _data(shape, dtype, seed=13)
    kwargs = _resolve(kwargs, shape[1], dtype)
    w = kwargs.get("weight")
    zt = torch.from_numpy(z if z.ndim > 2 else z[..., None])     # MONAI wants a spatial axis
    tt = torch.from_numpy(t if t.ndim > 1 else t[..., None])[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monai_map = FocalLoss(use_softmax=True, to_onehot_y=True, gamma=kwargs.get("gamma", 2.0),
                              weight=None if w is None else torch.from_numpy(w), reduction="none")(zt, tt)
    per_voxel = monai_map.sum(dim=1).reshape(t.shape).double().numpy()  # zero off the true class
    tol = 1e-5  # MONAI computes in float32 whatever the input
    out_none = focal_loss(z, t, reduction="none", **kwargs)
    assert out_none.dtype == dtype and out_none.shape == t.shape
    np.testing.assert_allclose(out_none, per_voxel, rtol=tol, atol=1e-7)
    np.testing.assert_allclose(focal_loss(z, t, reduction="sum", **kwargs), per_voxel.sum(), rtol=tol)
    denom = t.size if w is None else w[t].sum()
    np.testing.assert_allclose(focal_loss(z, t, **kwargs), per_voxel.sum() / denom, rtol=tol)


@pytest.mark.parametrize("kwargs", CE_OPTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_focal_gamma_zero_is_cross_entropy_exactly(kwargs, dtype):
    z, t = _data((2, 3, 4, 5), dtype, seed=14)
    kwargs = _resolve(kwargs, 3, dtype)
    np.testing.assert_array_equal(focal_loss(z, t, gamma=0.0, **kwargs), cross_entropy(z, t, **kwargs))


def test_focal_hand_case_and_down_weighting():
    z, t = np.array([[np.log(9.0), 0.0]]), np.array([0])  # p_y = 0.9
    assert float(focal_loss(z, t, gamma=2.0)) == pytest.approx(0.01 * -np.log(0.9), rel=1e-12)
    # near p_y = 1 the factor (1 - p)^gamma is accurate (expm1), not 0
    z = np.array([[40.0, 0.0]])
    assert float(focal_loss(z, t, gamma=1.0)) == pytest.approx(np.exp(-40.0) * np.exp(-40.0), rel=1e-6)


LOSS_TWINS = [  # numpy loss, its keyword arguments
    pytest.param("generalized_dice_loss", dict(), id="gdl"),
    pytest.param("generalized_dice_loss", dict(include_background=False, batch=True), id="gdl-no-bg-batch"),
    pytest.param("tversky_loss", dict(alpha=0.3, beta=0.7), id="tversky"),
    pytest.param("tversky_loss", dict(alpha=0.7, beta=0.3, batch=True, include_background=False), id="tversky-batch"),
    pytest.param("focal_loss", dict(gamma=2.0), id="focal"),
    pytest.param("focal_loss", dict(gamma=1.5, weight=np.array([0.5, 1.0, 2.0])), id="focal-weighted"),
    pytest.param("dice_loss", dict(squared_pred=True), id="dice-squared"),
]


@pytest.mark.parametrize("name, kwargs", LOSS_TWINS)
def test_torch_twins_equal_numpy_and_their_autograd_equals_centred_differences(name, kwargs):
    import companion.losses as nl
    from companion.models import losses as tl

    z, t = _data((2, 3, 3, 4), np.float64, seed=15, scale=1.0)
    t = _absent(t, 2, image=1)  # an absent class exercises the generalised Dice weights
    ours = getattr(nl, name)
    tkw = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    zt = torch.from_numpy(z).requires_grad_(True)
    value = getattr(tl, name)(zt, torch.from_numpy(t), **tkw)
    np.testing.assert_allclose(value.item(), float(ours(z, t, **kwargs)), rtol=1e-12)
    value.backward()
    numeric = numerical_grad(lambda x: float(ours(x, t, **kwargs)), z)
    assert_grad_close(zt.grad.numpy(), numeric)


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
    pytest.param(lambda: dice_loss(Z, T, squared_pred="yes"), TypeError, r"^squared_pred: expected a bool", id="squared-not-bool"),
    pytest.param(lambda: generalized_dice_loss(Z, T + 3), ValueError, r"^target: expected class labels", id="gdl-label"),
    pytest.param(lambda: generalized_dice_loss(Z[:, :1], T, include_background=False), ValueError, r"^include_background: False needs K >= 2", id="gdl-one-class"),
    pytest.param(lambda: tversky_loss(Z, T, alpha=-0.1), ValueError, r"^alpha: expected a finite number >= 0", id="tversky-alpha"),
    pytest.param(lambda: tversky_loss(Z, T, beta=float("nan")), ValueError, r"^beta: expected a finite number", id="tversky-beta-nan"),
    pytest.param(lambda: focal_loss(Z, T, gamma=-1.0), ValueError, r"^gamma: expected a finite number >= 0", id="focal-gamma"),
    pytest.param(lambda: focal_loss(Z, T.astype(float)), TypeError, r"^target: expected an integer array", id="focal-float-target"),
    pytest.param(lambda: focal_loss(Z, T, reduction="avg"), ValueError, r"^reduction: expected 'mean'", id="focal-reduction"),
]


@pytest.mark.parametrize("call, exc, match", BAD_CALLS)
def test_bad_input_raises(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
