"""companion.segmentation: splits, the 1-D Gaussian mixture (oracle: scikit-learn), boundaries (scikit-image)."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.segmentation import find_boundaries
from sklearn.mixture import GaussianMixture

from companion.segmentation import (GMMFit, boundary_mask, fit_gmm_1d, gmm_posteriors, gmm_tissue_segment,
                                    nearest_slice_labels, random_slice_split, slab_split, threshold_tissues,
                                    tissue_scores)

GMM_CASES = [  # component (mean, sd, n) triples; what a mistake would break
    pytest.param([(0.3, 0.05, 400), (0.8, 0.05, 600)], id="two-separated"),
    pytest.param([(0.4, 0.08, 300), (0.65, 0.05, 900), (0.85, 0.03, 500)], id="three-overlapping-like-csf-gm-wm"),
    pytest.param([(0.0, 1.0, 500), (0.5, 0.2, 200)], id="unequal-variances"),  # variance update with r_ik
]


def _sample(spec, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(m, s, n) for m, s, n in spec])


@pytest.mark.parametrize("spec", GMM_CASES)
@pytest.mark.parametrize("tol", [1e-3, 1e-8])
def test_gmm_equals_sklearn_from_the_same_start(spec, tol):
    x = _sample(spec)
    k = len(spec)
    w0, m0 = np.full(k, 1 / k), np.quantile(x, (np.arange(k) + 0.5) / k)
    v0 = np.full(k, x.var() / k**2 + 1e-6)
    ours = fit_gmm_1d(x, k, init=(w0, m0, v0), tol=tol, max_iter=500)
    ref = GaussianMixture(k, covariance_type="full", weights_init=w0, means_init=m0[:, None],
                          precisions_init=(1 / v0)[:, None, None], tol=tol, max_iter=500).fit(x[:, None])
    order = np.argsort(ref.means_.ravel())
    assert ours.n_iter == ref.n_iter_ and ours.converged == ref.converged_
    np.testing.assert_allclose(ours.means, ref.means_.ravel()[order], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.variances, ref.covariances_.ravel()[order], rtol=1e-8)
    np.testing.assert_allclose(ours.weights, ref.weights_[order], rtol=1e-8)
    assert ours.log_likelihood == pytest.approx(ref.lower_bound_, rel=1e-9)
    post = gmm_posteriors(ours, x)
    np.testing.assert_allclose(post, ref.predict_proba(x[:, None])[:, order], atol=1e-8)
    # the default start is the one above
    default = fit_gmm_1d(x, k, tol=tol, max_iter=500)
    assert default.n_iter == ours.n_iter
    np.testing.assert_array_equal(default.means, ours.means)


def test_gmm_recovers_separated_components_and_segments_by_ascending_mean():
    x = _sample(GMM_CASES[1].values[0], seed=1)
    fit = fit_gmm_1d(x, 3, tol=1e-8, max_iter=500)
    np.testing.assert_allclose(fit.means, [0.4, 0.65, 0.85], atol=0.02)
    assert fit.weights.sum() == pytest.approx(1.0)
    image = np.array([[0.0, 0.35, 0.66], [0.9, 0.66, 0.2]])
    mask = np.array([[0, 1, 1], [1, 1, 0]])
    np.testing.assert_array_equal(gmm_tissue_segment(image, mask, fit), [[0, 1, 2], [3, 2, 0]])


def test_threshold_tissues_by_hand():
    np.testing.assert_array_equal(threshold_tissues(np.array([0.1, 0.3, 0.31, 0.7, 0.9]), np.ones(5, int), [0.3, 0.7]),
                                  [1, 1, 2, 2, 3])   # strict ">": a value equal to a threshold stays below


def test_slab_split_leaves_the_gap_out():
    train, test = slab_split(np.arange(3, 20), 8, 11, gap=2)
    assert test.tolist() == [8, 9, 10]
    assert train.tolist() == [3, 4, 5, 13, 14, 15, 16, 17, 18, 19]
    assert np.min(np.abs(train[:, None] - test[None])) == 3     # gap + 1
    train0, _ = slab_split(np.arange(3, 20), 8, 11, gap=0)
    assert 7 in train0 and 11 in train0


def test_random_split_is_seeded_and_partitions():
    a = random_slice_split(np.arange(40), 8, seed=3)
    b = random_slice_split(np.arange(40), 8, seed=3)
    np.testing.assert_array_equal(a[1], b[1])
    assert len(a[1]) == 8 and sorted(np.concatenate(a).tolist()) == list(range(40))
    assert not np.array_equal(a[1], random_slice_split(np.arange(40), 8, seed=4)[1])


def test_nearest_slice_labels_copies_the_nearest_training_slice():
    vol = np.arange(6)[:, None, None] * np.ones((6, 2, 3), int)
    pred, dist = nearest_slice_labels(vol, [0, 1, 5], [2, 3, 4])
    assert pred[:, 0, 0].tolist() == [1, 1, 5]        # 3 is equidistant from 1 and 5: the lower
    assert dist.tolist() == [1, 2, 1]


@pytest.mark.parametrize("shape", [(12, 13), (6, 7, 8)])
def test_boundary_mask_equals_skimage_thick_boundaries(shape):
    rng = np.random.default_rng(0)
    lab = rng.integers(0, 4, size=shape)
    lab = np.where(rng.random(shape) < 0.7, np.sort(lab, axis=0), lab)   # some regions, some noise
    expected = find_boundaries(lab, connectivity=lab.ndim, mode="thick")
    np.testing.assert_array_equal(boundary_mask(lab), expected)


def test_boundary_mask_width_and_axes():
    lab = np.zeros((3, 9), int)
    lab[:, 5:] = 1
    assert boundary_mask(lab, width=2)[1].astype(int).tolist() == [0, 0, 0, 1, 1, 1, 1, 0, 0]
    vol = np.zeros((3, 4, 4), int)
    vol[1] = 1                                             # label changes only along axis 0
    assert boundary_mask(vol).all() and not boundary_mask(vol, axes=(1, 2)).any()


def test_tissue_scores_are_the_metrics_per_class():
    from companion.metrics import dice_score, hausdorff_distance
    rng = np.random.default_rng(2)
    g = rng.integers(0, 4, (2, 10, 10))
    p = np.where(rng.random(g.shape) < 0.8, g, rng.integers(0, 4, g.shape))
    s = tissue_scores(p, g, 4, spacing=(2.0, 2.0, 2.0))
    np.testing.assert_array_equal(s.dice, dice_score(p, g, 4))
    assert s.hd95.tolist() == [hausdorff_distance(p == k, g == k, spacing=(2.0, 2.0, 2.0)) for k in (1, 2, 3)]


BAD_CALLS = [
    (lambda: slab_split([3, 2, 1], 1, 2, gap=0), ValueError, r"^slices: expected strictly increasing"),
    (lambda: slab_split(np.arange(5.0), 1, 2, gap=0), TypeError, r"^slices: expected integer"),
    (lambda: slab_split(np.arange(5), 7, 9, gap=0), ValueError, r"^test_start: expected a slab"),
    (lambda: slab_split(np.arange(5), 0, 5, gap=0), ValueError, r"^gap: expected training slices"),
    (lambda: slab_split(np.arange(5), 0, 2, gap=-1), ValueError, r"^gap: expected an int >= 0"),
    (lambda: random_slice_split(np.arange(5), 5), ValueError, r"^n_test: expected fewer"),
    (lambda: nearest_slice_labels(np.zeros((3, 2, 2)), [0], [1]), TypeError, r"^labels: expected an integer"),
    (lambda: nearest_slice_labels(np.zeros((3, 2, 2), int), [0], [5]), ValueError, r"^test: expected indices"),
    (lambda: fit_gmm_1d([0.1], 2), ValueError, r"^values: expected at least n_components"),
    (lambda: fit_gmm_1d([0.1, np.nan, 0.3], 2), ValueError, r"^values: expected finite"),
    (lambda: fit_gmm_1d(["a"], 1), TypeError, r"^values: expected a float"),
    (lambda: fit_gmm_1d([0.1, 0.2], 2, init=([1.0], [0.0], [1.0])), ValueError, r"^init: expected three arrays"),
    (lambda: gmm_posteriors("fit", [0.1]), TypeError, r"^fit: expected a GMMFit"),
    (lambda: threshold_tissues(np.ones(3), np.ones(3, int), [0.5, 0.2]), ValueError, r"^thresholds: expected increasing"),
    (lambda: threshold_tissues(np.ones(3), np.ones(4, int), [0.5]), ValueError, r"^mask: expected the image's shape"),
    (lambda: boundary_mask(np.ones(3)), TypeError, r"^labels: expected an integer"),
    (lambda: boundary_mask(np.ones(3, int), width=0), ValueError, r"^width: expected an int >= 1"),
    (lambda: boundary_mask(np.ones((3, 3), int), axes=(2,)), ValueError, r"^axes: expected axes"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_calls_name_the_argument(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_gmmfit_is_printable():
    fit = GMMFit(np.ones(1), np.zeros(1), np.ones(1), 1, True, 0.0)
    assert "means" in repr(fit)
