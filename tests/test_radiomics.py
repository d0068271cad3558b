"""companion.radiomics against scikit-image (GLCM, texture properties, region properties), SciPy
(moments, entropy, the Bayes AUC by quadrature) and Monte-Carlo estimates of the cohort's AUC."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from skimage.feature import graycomatrix, graycoprops
from skimage.measure import regionprops

from companion.evaluation import roc_auc
from companion.radiomics import (GLCM_PROPS, bayes_auc, feature_names, first_order_features, glcm, glcm_props,
                                 latent_shift, quantize, radiomics_features, shape_features, simulate_cohort)

ANGLES = [0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4]
GLCM_CASES = [  # image shape, levels, distances, angles
    pytest.param((5, 6), 3, [1], [0.0], id="tiny-right-neighbour"),
    pytest.param((16, 16), 8, [1, 2, 3], ANGLES, id="four-angles-three-distances"),
    pytest.param((9, 23), 5, [2, 5], [np.pi, -np.pi / 4, 1.0], id="negative-and-odd-angles"),   # offsets < 0
    pytest.param((32, 32), 16, [1, 4, 7], ANGLES, id="16-levels"),    # rounding of 0.707 * d
    pytest.param((4, 4), 4, [6], [0.0, np.pi / 2], id="distance-beyond-image"),                # empty matrix
    pytest.param((12, 7), 1, [0, 1], [0.0], id="one-level"),
]


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("normed", [False, True])
@pytest.mark.parametrize("shape, levels, distances, angles", GLCM_CASES)
def test_glcm_matches_skimage(shape, levels, distances, angles, symmetric, normed):
    rng = np.random.default_rng(0)
    for _ in range(5):  # several random images per case
        img = rng.integers(0, levels, size=shape).astype(np.uint8)
        ref = graycomatrix(img, distances, angles, levels=levels, symmetric=symmetric, normed=normed)
        out = glcm(img, distances, angles, levels, symmetric=symmetric, normed=normed)
        assert out.dtype == ref.dtype and out.shape == ref.shape
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=0)


def test_glcm_mask_matches_skimage_with_an_extra_level():
    # scikit-image has no mask; pixels outside set to level L, then row and column L dropped
    rng = np.random.default_rng(1)
    for _ in range(10):
        img = rng.integers(0, 6, size=(20, 20))
        mask = rng.random((20, 20)) < 0.7
        sentinel = np.where(mask, img, 6).astype(np.uint8)
        ref = graycomatrix(sentinel, [1, 2], ANGLES, levels=7, symmetric=True)[:6, :6]
        np.testing.assert_array_equal(glcm(img, [1, 2], ANGLES, 6, symmetric=True, mask=mask), ref)


def test_glcm_counts_by_hand():
    img = np.array([[0, 0, 1], [1, 2, 2]])
    np.testing.assert_array_equal(glcm(img, [1], [0.0], 3)[..., 0, 0], [[1, 1, 0], [0, 0, 1], [0, 0, 1]])
    # pi/2 is the pixel in the next row (down), as in scikit-image's loop
    np.testing.assert_array_equal(glcm(img, [1], [np.pi / 2], 3)[..., 0, 0], [[0, 1, 1], [0, 0, 1], [0, 0, 0]])


@pytest.mark.parametrize("prop", GLCM_PROPS)
def test_glcm_props_match_skimage(prop):
    rng = np.random.default_rng(2)
    for levels in (2, 5, 16):
        for _ in range(5):
            img = rng.integers(0, levels, size=(24, 24)).astype(np.uint8)
            for symmetric, normed in [(False, False), (True, True)]:
                P = graycomatrix(img, [1, 3], ANGLES, levels=levels, symmetric=symmetric, normed=normed)
                np.testing.assert_allclose(glcm_props(P, prop), graycoprops(P, prop), rtol=1e-12, atol=1e-14)
    flat = graycomatrix(np.zeros((5, 5), np.uint8), [1], [0.0], levels=3)   # correlation's 0/0 case
    np.testing.assert_allclose(glcm_props(flat, prop), graycoprops(flat, prop))


def test_glcm_props_example_values():
    # a checkerboard: every right neighbour differs by 1 -> contrast 1, homogeneity 1/2, correlation -1
    board = np.indices((6, 6)).sum(axis=0) % 2
    P = glcm(board, [1], [0.0], 2, symmetric=True)
    assert glcm_props(P, "contrast")[0, 0] == pytest.approx(1.0)
    assert glcm_props(P, "homogeneity")[0, 0] == pytest.approx(0.5)
    assert glcm_props(P, "correlation")[0, 0] == pytest.approx(-1.0)
    assert glcm_props(P, "ASM")[0, 0] == pytest.approx(0.5)


def test_quantize_fixed_bin_number():
    img = np.linspace(0.0, 1.0, 20).reshape(4, 5)
    mask = np.ones_like(img, dtype=bool)
    q = quantize(img, mask, 4)
    np.testing.assert_array_equal(np.bincount(q.ravel()), [5, 5, 5, 5])
    mask[0, 0] = False
    assert quantize(img, mask, 4)[0, 0] == 0 and quantize(img, mask, 4).max() == 3


def test_first_order_matches_scipy():
    rng = np.random.default_rng(3)
    img = rng.gamma(2.0, size=(20, 20))
    mask = rng.random((20, 20)) < 0.6
    f = first_order_features(img, mask)
    v = img[mask]
    assert f["mean"] == pytest.approx(v.mean()) and f["std"] == pytest.approx(v.std())
    assert f["skewness"] == pytest.approx(stats.skew(v))
    assert f["kurtosis"] == pytest.approx(stats.kurtosis(v))
    assert f["p90"] == pytest.approx(np.percentile(v, 90))
    counts, _ = np.histogram(v, bins=16, range=(v.min(), v.max()))
    assert f["entropy"] == pytest.approx(stats.entropy(counts, base=2))


def test_shape_features_match_regionprops():
    rng = np.random.default_rng(4)
    c = simulate_cohort(6, seed=4)
    for m in c.masks:
        f, ref = shape_features(m), regionprops(m.astype(np.uint8))[0]
        assert f["area"] == ref.area
        assert f["eccentricity"] == pytest.approx(ref.eccentricity, rel=1e-9, abs=1e-12)
    square = np.zeros((10, 10), bool)
    square[2:7, 3:8] = True
    f = shape_features(square)
    assert (f["area"], f["perimeter"], f["eccentricity"]) == (25.0, 20.0, 0.0)
    assert f["compactness"] == pytest.approx(math.pi / 4)
    del rng


@pytest.mark.parametrize("kwargs", [dict(), dict(per_angle=True), dict(distances=(1, 2, 4), sigmas=(1.0, 2.5))])
def test_radiomics_features_length_and_names(kwargs):
    c = simulate_cohort(2, seed=5)
    x = radiomics_features(c.images[0], c.masks[0], **kwargs)
    names = feature_names(**kwargs)
    assert x.shape == (len(names),) and len(set(names)) == len(names) and np.all(np.isfinite(x))
    # the GLCM entries are the scikit-image properties of the masked, quantised tumour
    q = quantize(c.images[0], c.masks[0], 16)
    ref = graycomatrix(np.where(c.masks[0], q, 16).astype(np.uint8), list(kwargs.get("distances", (1, 3))),
                       ANGLES, levels=17, symmetric=True)[:16, :16]
    contrast = graycoprops(ref, "contrast")
    got = x[[i for i, n in enumerate(names) if n.startswith("glcm_contrast")]]
    want = contrast.ravel() if kwargs.get("per_angle") else contrast.mean(axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("d", [0.0, 0.3, 0.47, 1.0, 2.5])
def test_bayes_auc_equals_quadrature(d):
    # P(s1 > s0) with s0 ~ N(0, 1), s1 ~ N(d, 1): integrate phi(s0) * P(s1 > s0) over s0
    ref, _ = integrate.quad(lambda s: stats.norm.pdf(s) * stats.norm.sf(s - d), -np.inf, np.inf)
    assert bayes_auc(d) == pytest.approx(ref, abs=1e-9)
    assert bayes_auc(latent_shift(bayes_auc(d))) == pytest.approx(bayes_auc(d), abs=1e-12)


@pytest.mark.parametrize("auc", [0.5, 0.63, 0.8])
def test_cohort_bayes_auc_matches_monte_carlo(auc):
    n = 4000
    c = simulate_cohort(n, auc=auc, seed=6, size=24)
    assert c.bayes_auc == pytest.approx(auc)
    mc = roc_auc(c.genotype, c.oracle_score)
    se = math.sqrt(auc * (1 - auc) / (0.25 * n) + 1e-4 / n)  # generous binomial-style bound
    assert abs(mc - auc) < 4 * se, (mc, auc)
    # the latent is what the genotype shifts: equal means along u when auc = 0.5
    diff = c.latent[c.genotype == 1].mean(0) - c.latent[c.genotype == 0].mean(0)
    np.testing.assert_allclose(diff, np.full(3, latent_shift(auc) / math.sqrt(3)), atol=4 * math.sqrt(4 / n))


def test_cohort_is_reproducible_and_shaped():
    a, b = simulate_cohort(5, seed=7), simulate_cohort(5, seed=7)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.images.shape == (5, 32, 32) and a.masks.dtype == bool and a.genotype.dtype == np.int64
    assert not np.array_equal(a.images, simulate_cohort(5, seed=8).images)
    assert np.all(a.masks.sum(axis=(1, 2)) > 50)
    big = simulate_cohort(2000, prevalence=0.2, seed=9, size=24)
    assert abs(big.genotype.mean() - 0.2) < 0.04


BAD_CALLS = [
    (lambda: glcm(np.zeros((4, 4)), [1], [0.0], 2), TypeError, r"^image: expected an integer array"),
    (lambda: glcm(np.zeros((4, 4, 2), int), [1], [0.0], 2), ValueError, r"^image: expected 2 dims"),
    (lambda: glcm(np.full((4, 4), 3), [1], [0.0], 2), ValueError, r"^image: expected grey levels in 0..1"),
    (lambda: glcm(np.zeros((4, 4), int), [-1], [0.0], 2), ValueError, r"^distances: expected an int >= 0"),
    (lambda: glcm(np.zeros((4, 4), int), [1], [0.0], 2, mask=np.ones((3, 3))), ValueError, r"^mask: expected shape"),
    (lambda: glcm_props(np.zeros((2, 2, 1, 1)), "entropy"), ValueError, r"^prop: expected one of"),
    (lambda: glcm_props(np.zeros((2, 3, 1, 1)), "ASM"), ValueError, r"^P: expected shape \(L, L, D, A\)"),
    (lambda: glcm_props(np.zeros((2, 2)), "ASM"), ValueError, r"^P: expected 4 dims"),
    (lambda: quantize(np.zeros((4, 4)), np.ones((4, 5)), 4), ValueError, r"^mask: expected shape"),
    (lambda: quantize(np.zeros((4, 4)), np.zeros((4, 4)), 4), ValueError, r"^mask: expected a region of at least 2"),
    (lambda: shape_features(np.ones(5)), ValueError, r"^mask: expected 2 dims"),
    (lambda: latent_shift(0.4), ValueError, r"^auc: expected a number in \[0.5, 1\)"),
    (lambda: bayes_auc(float("nan")), ValueError, r"^shift: expected a finite number"),
    (lambda: simulate_cohort(1), ValueError, r"^n: expected an int >= 2"),
    (lambda: simulate_cohort(10, prevalence=1.0), ValueError, r"^prevalence: expected a number in \(0, 1\)"),
    (lambda: simulate_cohort(10, size=16), ValueError, r"^size: expected an int >= 24"),
]


@pytest.mark.parametrize("call, exc, match", BAD_CALLS)
def test_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
