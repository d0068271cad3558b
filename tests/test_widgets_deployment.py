"""companion.widgets.deployment: the seeded shifts against hand formulas, z-score invariance, and the
widget driven headlessly with a fixed, hand-set threshold model (no training)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from companion.data import phantom_2d  # noqa: E402
from companion.train import dice_score, predict  # noqa: E402
from companion.widgets.deployment import SHIFTS, shift_grid, shift_image, shift_widget, shifted_prediction, zscore  # noqa: E402


def threshold_model(level: float = 0.75) -> torch.nn.Module:
    """A fixed 1x1 'segmenter': lesion where x > level (z_1 - z_0 = 20 (x - level))."""
    net = torch.nn.Conv2d(1, 2, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([-10.0, 10.0]).reshape(2, 1, 1, 1))
        net.bias.copy_(torch.tensor([10.0 * level, -10.0 * level]))
    return net.eval()


@pytest.fixture(scope="module")
def case():
    return phantom_2d(48, n_lesions=2, seed=3)


# ---------------------------------------------------------------- shift_image
@pytest.mark.parametrize("kind", SHIFTS)
def test_zero_strength_is_identity(kind, case):
    image, mask = case
    x, m = shift_image(image, mask, kind, 0.0)
    assert x.dtype == image.dtype and m.dtype == np.int64
    np.testing.assert_allclose(x, image, atol=1e-6)
    np.testing.assert_array_equal(m, mask)


@pytest.mark.parametrize("s", [0.3, 1.0])
def test_intensity_is_the_stated_affine_map(s, case):
    image, mask = case
    x, m = shift_image(image, mask, "intensity", s)
    np.testing.assert_allclose(x, (1 + s / 2) * image.astype(np.float64) + s / 10, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(m, mask)


def test_noise_has_the_stated_std_and_is_seeded(case):
    image, mask = phantom_2d(96, seed=1)
    x, _ = shift_image(image, mask, "noise", 0.5, seed=4)
    residual = x.astype(np.float64) - image
    assert abs(residual.std() - 0.15) < 0.15 * 0.05 and abs(residual.mean()) < 0.01  # 9216 draws
    np.testing.assert_array_equal(x, shift_image(image, mask, "noise", 0.5, seed=4)[0])
    assert not np.array_equal(x, shift_image(image, mask, "noise", 0.5, seed=5)[0])


@pytest.mark.parametrize("s", [0.4, 1.0])
def test_blur_of_a_point_has_variance_sigma_squared(s):
    # the point-spread function of the blur is a Gaussian of sigma = 2.5 s: its second moment is sigma^2
    delta = np.zeros((41, 41))
    delta[20, 20] = 1.0
    psf, _ = shift_image(delta, np.zeros((41, 41), int), "blur", s)
    r = np.arange(41) - 20
    assert psf.sum() == pytest.approx(1.0, abs=1e-9)
    assert (psf.sum(axis=0) * r**2).sum() == pytest.approx((2.5 * s) ** 2, rel=0.02)
    assert (psf.sum(axis=1) * r**2).sum() == pytest.approx((2.5 * s) ** 2, rel=0.02)


@pytest.mark.parametrize("s, size", [(0.5, 40), (1.0, 24)])  # 48 * 2**-0.5 = 33.9 -> 34 -> padded to 40
def test_spacing_resamples_pads_and_scales_the_area(s, size, case):
    image, mask = case
    x, m = shift_image(image, mask, "spacing", s)
    assert x.shape == m.shape == (size, size)
    n = int(round(48 * 2**-s))
    assert np.all(x[n:] == 0) and np.all(x[:, n:] == 0) and np.all(m[n:] == 0)  # padding is air, background
    assert set(np.unique(m)) <= {0, 1}
    assert m.sum() / mask.sum() == pytest.approx(2 ** (-2 * s), rel=0.2)  # area scales by f**2


def test_zscore_statistics_and_affine_invariance(case):
    image, _ = case
    z = zscore(image)
    assert z.dtype == np.float32
    assert abs(float(z.mean())) < 1e-5 and float(z.std()) == pytest.approx(1.0, abs=1e-5)
    for a, b in ((0.5, -0.2), (3.0, 7.0)):
        np.testing.assert_allclose(zscore(a * image.astype(np.float64) + b), zscore(image.astype(np.float64)),
                                   atol=1e-10)
    np.testing.assert_allclose(zscore(-image.astype(np.float64)), -zscore(image.astype(np.float64)), atol=1e-10)


# ---------------------------------------------------------------- prediction under shift
def test_shifted_prediction_scores_its_own_prediction(case):
    image, mask = case
    net = threshold_model()
    r0 = shifted_prediction(net, image, mask, "intensity", 0.0)
    np.testing.assert_array_equal(r0.pred, (image > 0.75).astype(np.int64))  # the threshold, by hand
    assert r0.dice == pytest.approx(dice_score(r0.pred, mask, 2)[0]) and r0.dice > 0.9
    r1 = shifted_prediction(net, image, mask, "intensity", 1.0)
    assert r1.dice < r0.dice - 0.1  # the bright organ (0.6 -> 1.0) crosses the threshold
    rz = shifted_prediction(net, image, mask, "spacing", 1.0, normalise=True)
    np.testing.assert_array_equal(rz.pred, predict(net, zscore(rz.image)[None]))


def test_static_grid(case):
    image, mask = case
    fig = shift_grid(threshold_model(), image, mask, [("intensity", 0.0), ("blur", 1.0), ("spacing", 1.0)])
    assert len(fig.axes) == 6
    assert "Dice" in fig.axes[0].get_title()


def test_widget_updates_on_controls(case):
    image, mask = case
    ui = shift_widget(threshold_model(), image, mask)._companion
    before, png = ui.result, ui.pictures["prediction"].value
    assert before.kind == "intensity" and before.strength == 0.0
    ui.strength.value = 1.0
    assert ui.result.dice < before.dice - 0.1 and ui.pictures["prediction"].value != png
    ui.kind.value = "spacing"
    assert ui.result.kind == "spacing" and ui.result.image.shape == (24, 24)
    assert ui.result.dice == pytest.approx(dice_score(ui.result.pred, ui.result.mask, 2)[0])
    assert "Dice" in ui.caption.value and ui.last_update_s > 0


# ---------------------------------------------------------------- bad calls
_IMG, _MASK = np.zeros((16, 16), np.float32), np.zeros((16, 16), np.int64)
BAD_CALLS = [
    pytest.param(lambda: shift_image(_IMG, _MASK, "contrast", 0.5), ValueError, r"^kind: expected one of", id="kind"),
    pytest.param(lambda: shift_image(_IMG, _MASK, "noise", 1.5), ValueError, r"^strength: expected a number in \[0, 1\]", id="strength"),
    pytest.param(lambda: shift_image(_IMG, _MASK, "noise", "high"), ValueError, r"^strength: expected a number", id="strength-str"),
    pytest.param(lambda: shift_image(_IMG[None], _MASK, "noise", 0.5), ValueError, r"^image: expected 2 dims", id="image-ndim"),
    pytest.param(lambda: shift_image(_IMG, _MASK[:8], "noise", 0.5), ValueError, r"^mask: expected the image's shape", id="mask-shape"),
    pytest.param(lambda: shift_image(_IMG, _MASK.astype(float), "noise", 0.5), TypeError, r"^mask: expected an integer", id="mask-float"),
    pytest.param(lambda: shift_image(_IMG, _MASK, "noise", 0.5, seed=-1), ValueError, r"^seed: expected an int >= 0", id="seed"),
    pytest.param(lambda: zscore("image"), TypeError, r"^image: expected a float array", id="zscore-str"),
    pytest.param(lambda: shift_widget("net", _IMG, _MASK), TypeError, r"^model: expected a torch.nn.Module", id="widget-model"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
