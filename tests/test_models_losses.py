"""companion.models.losses (torch) against the NumPy companion.losses, F.cross_entropy and torch.autograd.gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion import losses as npl
from companion.models import losses as tl

TOL = {torch.float32: 1e-5, torch.float64: 1e-10}
CASES = [  # logits shape, Dice settings
    pytest.param((2, 3, 7), dict(), id="1d"),
    pytest.param((2, 2, 5, 6), dict(), id="2d-binary"),
    pytest.param((2, 3, 5, 6), dict(include_background=False), id="2d-no-background"),
    pytest.param((3, 3, 4, 4), dict(batch=True, eps=1e-3), id="2d-batch"),
    pytest.param((1, 2, 3, 4, 5), dict(include_background=False, batch=True), id="3d"),
]


def _data(shape, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = 2 * torch.randn(shape, generator=g, dtype=dtype)
    t = torch.randint(0, shape[1], (shape[0],) + shape[2:], generator=g)
    return z, t


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape, kwargs", CASES)
def test_twins_equal_numpy(shape, kwargs, dtype):
    z, t = _data(shape, dtype)
    zn, tn = z.numpy(), t.numpy()
    pairs = [
        (tl.cross_entropy(z, t), npl.cross_entropy(zn, tn)),
        (tl.dice_loss(z, t, **kwargs), npl.dice_loss(zn, tn, **kwargs)),
        (tl.composite_loss(z, t, alpha=0.5, beta=2.0, **kwargs),
         npl.composite_loss(zn, tn, alpha=0.5, beta=2.0, **kwargs)),
    ]
    for ours, ref in pairs:
        assert ours.dtype == dtype and ours.ndim == 0
        np.testing.assert_allclose(ours.numpy(), ref, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_weighted_equals_functional(reduction):
    z, t = _data((2, 3, 4, 4), torch.float64)
    w = torch.tensor([0.1, 1.0, 5.0], dtype=torch.float64)
    torch.testing.assert_close(tl.cross_entropy(z, t, w, reduction=reduction),
                               F.cross_entropy(z, t, weight=w, reduction=reduction))
    np.testing.assert_allclose(tl.cross_entropy(z, t, w, reduction=reduction).numpy(),
                               npl.cross_entropy(z.numpy(), t.numpy(), weight=w.numpy(), reduction=reduction),
                               rtol=1e-12)


GRAD_CASES = [
    pytest.param((2, 3, 3), dict(), id="1d"),
    pytest.param((2, 3, 2, 2), dict(include_background=False, batch=True), id="2d-no-bg-batch"),
]


@pytest.mark.parametrize("shape, kwargs", GRAD_CASES)
def test_twins_are_differentiable(shape, kwargs):
    z, t = _data(shape, torch.float64, seed=1)
    z = (z / 2).requires_grad_(True)
    for fn in (lambda x: tl.dice_loss(x, t, **kwargs), lambda x: tl.composite_loss(x, t, **kwargs),
               lambda x: tl.cross_entropy(x, t)):
        assert torch.autograd.gradcheck(fn, (z,), eps=1e-6, atol=1e-8, fast_mode=True)
    # and the gradient equals the NumPy derivation
    tl.dice_loss(z, t, **kwargs).backward()
    np.testing.assert_allclose(z.grad.numpy(), npl.dice_loss_grad(z.detach().numpy(), t.numpy(), **kwargs),
                               rtol=1e-10, atol=1e-13)


def test_get_loss_names():
    assert tl.get_loss("ce") is tl.cross_entropy
    assert tl.get_loss("dice") is tl.dice_loss
    assert tl.get_loss("composite") is tl.composite_loss
    z, t = _data((2, 2, 4, 4), torch.float32)
    for name in ("ce", "dice", "composite"):
        value = tl.get_loss(name)(z, t)
        assert value.ndim == 0 and torch.isfinite(value)
    own = lambda a, b: a.sum()  # noqa: E731
    assert tl.get_loss(own) is own


Z = torch.zeros(2, 3, 4)
T = torch.zeros(2, 4, dtype=torch.int64)
BAD_CALLS = [  # call, exception, message pattern
    pytest.param(lambda: tl.cross_entropy(Z, T + 3), ValueError, r"^target: expected class labels in \[0, 3\)", id="label"),
    pytest.param(lambda: tl.dice_loss(Z, T - 1), ValueError, r"^target: expected class labels in \[0, 3\)", id="negative"),
    pytest.param(lambda: tl.dice_loss(Z, T[:, None]), ValueError, r"^target: expected shape \(2, 4\).*drop the channel", id="channel"),
    pytest.param(lambda: tl.composite_loss(Z, torch.zeros(2, 5, dtype=torch.int64)), ValueError, r"^target: expected shape", id="shape"),
    pytest.param(lambda: tl.dice_loss(Z, T.float()), TypeError, r"^target: expected an integer tensor", id="float-target"),
    pytest.param(lambda: tl.dice_loss(Z.long(), T), TypeError, r"^logits: expected a floating-point tensor", id="int-logits"),
    pytest.param(lambda: tl.cross_entropy(Z.numpy(), T), TypeError, r"^logits: expected a float torch.Tensor", id="numpy"),
    pytest.param(lambda: tl.dice_loss(torch.zeros(2, 3), T[:, 0]), ValueError, r"^logits: expected \(N, K, \*S\) with at least 3", id="no-spatial"),
    pytest.param(lambda: tl.cross_entropy(Z, T, torch.ones(2)), ValueError, r"^weight: expected shape \(3,\)", id="weight"),
    pytest.param(lambda: tl.cross_entropy(Z, T, reduction="avg"), ValueError, r"^reduction: expected", id="reduction"),
    pytest.param(lambda: tl.dice_loss(Z[:, :1], T, include_background=False), ValueError, r"^include_background: False needs", id="one-class"),
    pytest.param(lambda: tl.composite_loss(Z, T, alpha=-1.0), ValueError, r"^alpha: expected a finite number >= 0", id="alpha"),
    pytest.param(lambda: tl.composite_loss(Z, T, beta="2"), TypeError, r"^beta: expected a number", id="beta-str"),
    pytest.param(lambda: tl.dice_loss(Z, T, eps=-1e-5), ValueError, r"^eps: expected a finite number >= 0", id="eps"),
    pytest.param(lambda: tl.dice_loss(Z, T, batch="yes"), TypeError, r"^batch: expected a bool", id="batch-str"),
    pytest.param(lambda: tl.composite_loss(Z, T, include_background=0), TypeError, r"^include_background: expected a bool", id="background-int"),
    pytest.param(lambda: tl.get_loss("focal"), ValueError, r"^name: expected one of \['ce', 'composite', 'dice'\]", id="name"),
]


@pytest.mark.parametrize("call, exc, match", BAD_CALLS)
def test_bad_input_raises(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("shape, kwargs", CASES)
def test_composite_class_weight_is_weighted_cross_entropy_plus_dice(shape, kwargs):
    # oracle: torch's F.cross_entropy(weight=...) plus our (unweighted) Dice term
    z, t = _data(shape, torch.float64, seed=3)
    w = torch.linspace(0.5, 2.0, shape[1], dtype=torch.float64)
    ours = tl.composite_loss(z, t, alpha=0.5, beta=2.0, weight=w, **kwargs)
    ref = 0.5 * F.cross_entropy(z, t, weight=w) + 2.0 * tl.dice_loss(z, t, **kwargs)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
