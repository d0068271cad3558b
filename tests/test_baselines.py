"""Tests of companion.baselines: global and smoothed thresholds against brute force and scipy."""

import numpy as np
import pytest
from scipy import ndimage

from companion.baselines import best_global_threshold, threshold_dice_curve, threshold_segment
from companion.metrics import dice_score


def brute_force(images, masks, sigma=0.0):
    """Score every midpoint between sorted distinct intensities with dice_score; return the best."""
    ims = [ndimage.gaussian_filter(np.asarray(i, float), sigma) if sigma else np.asarray(i, float) for i in images]
    v = np.unique(np.concatenate([i.ravel() for i in ims]))
    cands = np.concatenate([[v[0] - 0.5], (v[:-1] + v[1:]) / 2, [v[-1] + 0.5]])
    best, best_t = -1.0, None
    for t in cands:
        d = np.nanmean([dice_score((i > t).astype(int), m, 2)[0] for i, m in zip(ims, masks)])
        if d > best + 1e-12:
            best, best_t = d, t
    return best_t, best


def test_recovers_planted_threshold_on_separable_data():
    rng = np.random.default_rng(0)
    masks = [(rng.random((12, 12)) < 0.3).astype(np.int64) for _ in range(4)]
    images = [np.where(m == 1, rng.uniform(0.61, 1.0, m.shape), rng.uniform(0.0, 0.59, m.shape)) for m in masks]
    t = best_global_threshold(images, masks)
    lo = max(i[m == 0].max() for i, m in zip(images, masks))
    hi = min(i[m == 1].min() for i, m in zip(images, masks))
    assert lo < t < hi and t == pytest.approx(0.5 * (lo + hi))   # halfway across the planted gap
    for i, m in zip(images, masks):
        np.testing.assert_array_equal(threshold_segment(i, t), m)


@pytest.mark.parametrize("sigma", [0.0, 1.0])
def test_matches_brute_force_search(sigma):
    rng = np.random.default_rng(1)
    masks = [(ndimage.gaussian_filter(rng.random((10, 10)), 1.5) > 0.5).astype(np.int64) for _ in range(3)]
    images = [m * 0.3 + rng.normal(0.4, 0.2, m.shape) for m in masks]
    t = best_global_threshold(images, masks, sigma=sigma)
    t_ref, d_ref = brute_force(images, masks, sigma)
    ours = np.nanmean([dice_score(threshold_segment(i, t, sigma=sigma), m, 2)[0] for i, m in zip(images, masks)])
    assert ours == pytest.approx(d_ref, abs=1e-12)
    assert t == pytest.approx(t_ref, abs=1e-12)
    cand, curve = threshold_dice_curve(images, masks, sigma=sigma)
    assert np.nanmax(curve) == pytest.approx(d_ref, abs=1e-12)


def test_threshold_segment_smoothing_is_scipy_gaussian():
    rng = np.random.default_rng(2)
    im = rng.random((9, 11)).astype(np.float32)
    out = threshold_segment(im, 0.5, sigma=1.2)
    np.testing.assert_array_equal(out, (ndimage.gaussian_filter(im.astype(float), 1.2) > 0.5).astype(np.int64))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(threshold_segment(im, 0.5), (im > 0.5).astype(np.int64))


def test_accepts_channel_axis_and_torch():
    torch = pytest.importorskip("torch")
    im = torch.tensor([[[0.1, 0.8], [0.9, 0.2]]])   # (1, H, W) as segmentation_dataset items
    m = torch.tensor([[0, 1], [1, 0]])
    assert 0.2 < best_global_threshold([im], [m]) < 0.8


def test_empty_masks_scored_as_nan_and_left_out():
    im1, m1 = np.array([0.1, 0.9]), np.array([0, 1])
    im2, m2 = np.array([0.1, 0.2]), np.array([0, 0])   # no foreground: 0/0 when nothing predicted
    assert best_global_threshold([im1, im2], [m1, m2]) == pytest.approx(0.55)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: best_global_threshold([], []), ValueError, r"^images: expected at least one"),
    (lambda: best_global_threshold([np.zeros(3)], []), ValueError, r"^masks: expected one mask per image"),
    (lambda: best_global_threshold([np.zeros(3)], [np.zeros(4, int)]), ValueError, r"^masks\[0\]: expected the shape"),
    (lambda: best_global_threshold([np.zeros(3)], [np.zeros(3)]), TypeError, r"^masks\[0\]: expected an integer"),
    (lambda: best_global_threshold([np.zeros(3)], [np.zeros(3, int)]), ValueError, r"^masks: expected some foreground"),
    (lambda: best_global_threshold([np.zeros(3)], [np.ones(3, int)], sigma=-1), ValueError, r"^sigma"),
    (lambda: threshold_segment(np.zeros(3), "a"), TypeError, r"^threshold: expected a number"),
    (lambda: threshold_segment(np.zeros(3), 0.5, sigma=-1.0), ValueError, r"^sigma: expected >= 0"),
    (lambda: threshold_segment(np.array(["a"]), 0.5), TypeError, r"^image: expected a real-valued"),
])
def test_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
