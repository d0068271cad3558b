"""companion.intensity, the deployment half: scanner shifts against hand formulas, the nnU-Net CT
normalisation against MONAI's transforms, the MR bias field against MONAI's RandBiasField, and the
augmentations against NumPy/SciPy/MONAI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.data import load_ct_slice, phantom_2d
from companion.intensity import (SHIFTS, CTNormalisation, add_noise, augment, bias_field, ct_normalisation_stats,
                                 ct_normalise, gaussian_blur, random_bias_field, random_flip, scale_intensity,
                                 shift_image, zscore)


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
def test_gain_is_the_stated_linear_map(s, case):
    image, mask = case
    x, m = shift_image(image, mask, "gain", s)
    np.testing.assert_allclose(x, (1 + s) * image.astype(np.float64), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(m, mask)


@pytest.mark.parametrize("s", [0.4, 1.0])
def test_bias_is_a_smooth_multiplicative_field_of_the_stated_amplitude(s, case):
    image, mask = case
    x, m = shift_image(image, mask, "bias", s, seed=2)
    body = image > 0.1
    log_ratio = np.log(x[body].astype(np.float64) / image[body])
    assert np.abs(log_ratio).max() <= 0.5 * s + 1e-5
    np.testing.assert_allclose(np.log(x[body] / image[body]),
                               random_bias_field(image.shape, 0.5 * s, seed=2)[body], atol=1e-5)
    np.testing.assert_array_equal(m, mask)
    assert not np.array_equal(x, shift_image(image, mask, "bias", s, seed=3)[0])  # seeded


def test_noise_has_the_stated_std_and_is_seeded():
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


# ---------------------------------------------------------------- z-score
def test_zscore_statistics_and_affine_invariance(case):
    image, _ = case
    z = zscore(image)
    assert z.dtype == np.float32
    assert abs(float(z.mean())) < 1e-5 and float(z.std()) == pytest.approx(1.0, abs=1e-5)
    for a, b in ((0.5, -0.2), (3.0, 7.0)):
        np.testing.assert_allclose(zscore(a * image.astype(np.float64) + b), zscore(image.astype(np.float64)),
                                   atol=1e-10)
    np.testing.assert_allclose(zscore(-image.astype(np.float64)), -zscore(image.astype(np.float64)), atol=1e-10)


def test_zscore_equals_monai_normalize_intensity(case):
    from monai.transforms import NormalizeIntensity

    image, _ = case
    expected = NormalizeIntensity()(image.astype(np.float64)[None])[0]
    np.testing.assert_allclose(zscore(image.astype(np.float64), eps=0), np.asarray(expected), atol=1e-6)  # MONAI: float32


# ---------------------------------------------------------------- CT normalisation (nnU-Net)
def test_ct_stats_by_hand():
    # values 1..200 in one image, foreground = values > 100: percentiles, mean, population std of 101..200
    img = np.arange(1.0, 201.0).reshape(10, 20)
    fg = (img > 100).astype(np.int64)
    s = ct_normalisation_stats([img], [fg], percentiles=(0, 100))
    assert s == CTNormalisation(101.0, 200.0, 150.5, pytest.approx(np.sqrt((100**2 - 1) / 12)))
    s2 = ct_normalisation_stats([img[:5], img[5:]], [fg[:5], fg[5:]], percentiles=(0, 100))  # pooled over images
    assert s2.mean == pytest.approx(150.5) and s2.std == pytest.approx(s.std)


def test_ct_normalise_equals_monai_clip_then_normalize():
    from monai.transforms import NormalizeIntensity, ThresholdIntensity

    ct = load_ct_slice().pixels.astype(np.float64)
    body = ct > -500
    stats = ct_normalisation_stats([ct], [body])
    np.testing.assert_allclose([stats.lower, stats.upper], np.percentile(ct[body], [0.5, 99.5]))
    clipped = ThresholdIntensity(stats.upper, above=False, cval=stats.upper)(
        ThresholdIntensity(stats.lower, above=True, cval=stats.lower)(ct[None]))
    expected = NormalizeIntensity(subtrahend=stats.mean, divisor=stats.std)(clipped)[0]
    out = ct_normalise(ct, stats)
    np.testing.assert_allclose(out, np.asarray(expected), atol=1e-6)  # MONAI computes in float32
    assert ct_normalise(ct.astype(np.float32), stats).dtype == np.float32


def test_ct_normalise_is_the_same_map_for_every_image_unlike_the_zscore():
    # the same HU value maps to the same number in any image; the per-image z-score does not
    ct = load_ct_slice().pixels.astype(np.float64)
    stats = ct_normalisation_stats([ct], [ct > -500])
    crop = ct[:64]                                  # another field of view of the same scan
    i = np.unravel_index(np.argmin(np.abs(crop - 40)), crop.shape)
    assert ct_normalise(crop, stats)[i] == pytest.approx(ct_normalise(ct, stats)[i])
    assert abs(zscore(crop)[i] - zscore(ct)[i]) > 0.05


# ---------------------------------------------------------------- MR bias field (MONAI's formula)
@pytest.mark.parametrize("shape, degree", [((12, 9), 3), ((7, 16), 2), ((10, 10), 1)])
def test_bias_field_equals_monai(shape, degree):
    from monai.transforms import RandBiasField

    rng = np.random.default_rng(1)
    n = (degree + 1) * (degree + 2) // 2
    coeff = rng.uniform(-0.3, 0.3, n)
    t = RandBiasField(degree=degree, prob=1.0)
    expected = t._generate_random_field(shape, degree, coeff.tolist())
    np.testing.assert_allclose(bias_field(shape, coeff, degree=degree), expected, atol=1e-6)  # MONAI: float32 grid
    image = rng.uniform(0.5, 1.0, shape).astype(np.float32)
    t._coeff, t._do_transform = coeff.tolist(), True
    np.testing.assert_allclose(image * np.exp(bias_field(shape, coeff, degree=degree)),
                               np.asarray(t(image[None], randomize=False))[0], rtol=1e-5)


def test_random_bias_field_amplitude_and_smoothness():
    f = random_bias_field((32, 40), 0.4, seed=5)
    assert np.abs(f).max() == pytest.approx(0.4)
    # a cubic polynomial: third differences are constant along each axis, fourth vanish
    assert np.abs(np.diff(f, 4, axis=0)).max() < 1e-9 and np.abs(np.diff(f, 4, axis=1)).max() < 1e-9
    np.testing.assert_array_equal(f, random_bias_field((32, 40), 0.4, seed=5))
    assert np.all(random_bias_field((8, 8), 0.0, seed=1) == 0)


# ---------------------------------------------------------------- augmentation
def test_random_flip_flips_image_and_mask_together(case):
    image, mask = case
    x, m = random_flip(image, mask, np.random.default_rng(0), p=1.0)
    np.testing.assert_array_equal(x, torch.flip(torch.from_numpy(image), (0, 1)).numpy())
    np.testing.assert_array_equal(m, np.flip(mask, (0, 1)))
    x0, m0 = random_flip(image, mask, np.random.default_rng(0), p=0.0)
    np.testing.assert_array_equal(x0, image)
    # p = 0.5: each axis flipped in about half of the draws
    rng = np.random.default_rng(1)
    which = []
    for _ in range(400):
        x, m = random_flip(image, mask, rng)
        axes = [ax for ax in ((), (0,), (1,), (0, 1)) if np.array_equal(x, np.flip(image, ax))]
        assert len(axes) == 1 and np.array_equal(m, np.flip(mask, axes[0]))
        which.append(axes[0])
    assert 0.43 < np.mean([0 in a for a in which]) < 0.57 and 0.43 < np.mean([1 in a for a in which]) < 0.57


def test_scale_noise_blur(case):
    image, _ = case
    np.testing.assert_allclose(scale_intensity(image, 1.3), 1.3 * image, rtol=1e-6)
    a = add_noise(np.zeros((200, 200)), 0.2, np.random.default_rng(0))
    assert a.std() == pytest.approx(0.2, rel=0.02) and abs(a.mean()) < 0.005
    np.testing.assert_array_equal(a, np.random.default_rng(0).standard_normal((200, 200)) * 0.2)
    delta = np.zeros((31, 31))
    delta[15, 15] = 1
    psf = gaussian_blur(delta, 2.0)
    r = np.arange(31) - 15
    assert (psf.sum(0) * r**2).sum() == pytest.approx(4.0, rel=0.02)
    np.testing.assert_array_equal(gaussian_blur(image, 0.0), image)


def test_augment_is_seeded_keeps_dtype_and_only_flips_the_mask(case):
    image, mask = case
    a = augment(image, mask, np.random.default_rng(3))
    b = augment(image, mask, np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].dtype == image.dtype and a[1].dtype == mask.dtype
    flips = [np.flip(mask, ax) for ax in ((), (0,), (1,), (0, 1))]
    rng = np.random.default_rng(4)
    changed = 0
    for _ in range(20):
        x, m = augment(image, mask, rng)
        assert any(np.array_equal(m, f) for f in flips)
        changed += not any(np.allclose(x, np.flip(image, ax)) for ax in ((), (0,), (1,), (0, 1)))
    assert 5 <= changed <= 19   # 1 - 0.7**3 = 66 % of draws change the intensities
    x, m = augment(image, mask, rng, p_flip=0, p_scale=1, scale=(2, 2), p_noise=0, p_blur=0)
    np.testing.assert_allclose(x, 2 * image, rtol=1e-6)


def test_augment_bias_field_is_random_bias_field_and_off_by_default(case):
    image, mask = case
    # off by default: the same draws as before the option existed
    a = augment(image, mask, np.random.default_rng(5))
    b = augment(image, mask, np.random.default_rng(5), p_bias=0.0)
    np.testing.assert_array_equal(a[0], b[0])
    x, m = augment(image, mask, np.random.default_rng(6), p_flip=0, p_scale=0, p_noise=0, p_blur=0,
                   p_bias=1, bias_amplitude=(0.2, 0.2))
    rng = np.random.default_rng(6)
    rng.random(), rng.random()               # the two flip draws of random_flip (p_flip=0)
    rng.random(), rng.uniform(0.2, 0.2)      # the bias draw and its amplitude
    field = random_bias_field(image.shape, 0.2, seed=int(rng.integers(0, 2**31 - 1)))
    np.testing.assert_allclose(x, image * np.exp(field), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(m, mask)
    assert x.dtype == image.dtype


# ---------------------------------------------------------------- bad calls
_IMG, _MASK = np.zeros((16, 16), np.float32), np.zeros((16, 16), np.int64)
_RNG = np.random.default_rng(0)
BAD_CALLS = [
    pytest.param(lambda: shift_image(_IMG, _MASK, "contrast", 0.5), ValueError, r"^kind: expected one of", id="kind"),
    pytest.param(lambda: shift_image(_IMG, _MASK, "intensity", 0.5), ValueError, r"^kind: expected one of", id="kind-old"),
    pytest.param(lambda: shift_image(_IMG, _MASK, "noise", 1.5), ValueError, r"^strength: expected a number in \[0, 1\]", id="strength"),
    pytest.param(lambda: shift_image(_IMG, _MASK, "noise", "high"), ValueError, r"^strength: expected a number", id="strength-str"),
    pytest.param(lambda: shift_image(_IMG[None], _MASK, "noise", 0.5), ValueError, r"^image: expected 2 dims", id="image-ndim"),
    pytest.param(lambda: shift_image(_IMG, _MASK[:8], "noise", 0.5), ValueError, r"^mask: expected the image's shape", id="mask-shape"),
    pytest.param(lambda: shift_image(_IMG, _MASK.astype(float), "noise", 0.5), TypeError, r"^mask: expected an integer", id="mask-float"),
    pytest.param(lambda: shift_image(_IMG, _MASK, "noise", 0.5, seed=-1), ValueError, r"^seed: expected an int >= 0", id="seed"),
    pytest.param(lambda: zscore("image"), TypeError, r"^image: expected a float array", id="zscore-str"),
    pytest.param(lambda: zscore(np.zeros(0)), ValueError, r"^image: expected at least one pixel", id="zscore-empty"),
    pytest.param(lambda: ct_normalisation_stats([]), ValueError, r"^images: expected a non-empty sequence", id="ct-empty"),
    pytest.param(lambda: ct_normalisation_stats([_IMG], [_MASK]), ValueError, r"^masks: expected at least one foreground", id="ct-no-fg"),
    pytest.param(lambda: ct_normalisation_stats([_IMG], [_MASK, _MASK]), ValueError, r"^masks: expected one mask per image", id="ct-masks"),
    pytest.param(lambda: ct_normalisation_stats([_IMG], percentiles=(99, 1)), ValueError, r"^percentiles: expected", id="ct-pct"),
    pytest.param(lambda: ct_normalise(_IMG, (0, 1, 0, 1)), TypeError, r"^stats: expected a CTNormalisation", id="ct-stats"),
    pytest.param(lambda: bias_field((8, 8), [0.1] * 5), ValueError, r"^coefficients: expected 10 values", id="bias-coeff"),
    pytest.param(lambda: bias_field((8, 8, 8), [0.1] * 10), ValueError, r"^shape: expected two sizes", id="bias-shape"),
    pytest.param(lambda: random_bias_field((8, 8), -0.1), ValueError, r"^amplitude: expected a finite number >= 0", id="bias-amp"),
    pytest.param(lambda: random_flip(_IMG, _MASK, 0), TypeError, r"^rng: expected a numpy.random.Generator", id="flip-rng"),
    pytest.param(lambda: random_flip(_IMG, _MASK, _RNG, p=2), ValueError, r"^p: expected a probability", id="flip-p"),
    pytest.param(lambda: scale_intensity(_IMG, 0), ValueError, r"^factor: expected a finite number > 0", id="scale"),
    pytest.param(lambda: add_noise(_IMG, -1, _RNG), ValueError, r"^std: expected a finite number >= 0", id="noise"),
    pytest.param(lambda: gaussian_blur(_IMG, -1), ValueError, r"^sigma: expected a finite number >= 0", id="blur"),
    pytest.param(lambda: augment(_IMG, _MASK, _RNG, p_noise=1.5), ValueError, r"^p_noise: expected a probability", id="aug-p"),
    pytest.param(lambda: augment(_IMG, _MASK, _RNG, scale=(0, 1)), ValueError, r"^scale: expected a range", id="aug-scale"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
