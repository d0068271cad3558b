"""Tests of companion.metrics: surfaces, Hausdorff distance vs MONAI and hand cases, boundary F1."""

import numpy as np
import pytest
from scipy import ndimage

from companion.metrics import boundary_f1, hausdorff_distance, surface, surface_distances

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # MONAI deprecation notes in get_mask_edges


def disc(shape, centre, radius):
    grid = np.indices(shape)
    return (sum((g - c) ** 2 for g, c in zip(grid, centre)) <= radius**2).astype(np.int64)


def monai_hd(pred, target, percentile, spacing):
    import torch
    from monai.metrics import compute_hausdorff_distance

    two = lambda a: torch.from_numpy(np.stack([1 - a, a])[None].astype(np.float64))  # (1, 2, *S)
    return compute_hausdorff_distance(two(pred), two(target), percentile=percentile, spacing=spacing).item()


g2 = disc((40, 40), (20, 18), 9)
p2 = ndimage.binary_dilation(g2, iterations=2).astype(np.int64)
p2[3:6, 30:33] = 1  # a false-positive speck far away: HD100 sees it, HD95 mostly not
g3 = disc((12, 20, 20), (6, 10, 9), 5)
p3 = disc((12, 20, 20), (6, 11, 10), 4)
HD_CASES = [  # pred, target, spacing
    pytest.param(p2, g2, None, id="2d-dilated-plus-speck"),
    pytest.param(p2, g2, (2.0, 0.5), id="2d-anisotropic-spacing"),
    pytest.param(p3, g3, (3.0, 1.0, 1.0), id="3d-shifted-smaller-ball"),
    pytest.param(g2, g2, None, id="identical-zero"),
]


@pytest.mark.parametrize("percentile", [95, 100, 50])
@pytest.mark.parametrize("pred, target, spacing", HD_CASES)
def test_hausdorff_matches_monai(pred, target, spacing, percentile):
    ours = hausdorff_distance(pred, target, percentile=percentile, spacing=spacing)
    np.testing.assert_allclose(ours, monai_hd(pred, target, percentile, spacing), rtol=1e-5, atol=1e-6)


def test_hausdorff_by_hand():
    a = np.zeros((9, 9), int)
    a[2:5, 2:5] = 1
    assert hausdorff_distance(a, np.roll(a, 2, axis=1), percentile=100) == 2.0
    assert hausdorff_distance(a, np.roll(a, 2, axis=1), percentile=100, spacing=(1.0, 1.5)) == 3.0
    b = a.copy()
    b[7, 7] = 1  # one stray pixel: directed distance from it to the square's surface is sqrt(3^2 + 3^2)
    assert hausdorff_distance(b, a, percentile=100) == pytest.approx(np.hypot(3, 3))
    assert hausdorff_distance(b, a, percentile=95) < np.hypot(3, 3)  # the robust version discounts it


def test_hausdorff_empty_masks():
    z, a = np.zeros((5, 5), int), np.eye(5, dtype=int)
    assert np.isnan(hausdorff_distance(z, z))
    assert hausdorff_distance(a, z) == np.inf and hausdorff_distance(z, a) == np.inf


def test_surface_is_mask_minus_erosion():
    m = disc((15, 15), (7, 7), 5)
    s = surface(m)
    assert s.dtype == bool and not s[7, 7] and s[2, 7] and s[7, 12]
    np.testing.assert_array_equal(s, (m == 1) & ~ndimage.binary_erosion(m))
    # a mask touching the array border: the border row is surface
    full = np.ones((4, 4), int)
    assert surface(full).sum() == 12


def test_surface_distances_directions():
    a = np.zeros((7, 7), int)
    a[1:6, 1:6] = 1
    b = np.zeros((7, 7), int)
    b[2:5, 2:5] = 1
    d_ab, d_ba = surface_distances(a, b)
    assert d_ab.shape == (16,) and d_ba.shape == (8,)
    np.testing.assert_allclose(d_ba, 1.0)  # each inner-surface pixel is one step from the outer ring
    assert d_ab.max() == pytest.approx(np.hypot(1, 1))  # outer corners are diagonal to inner corners


def test_boundary_f1():
    a = np.zeros((20, 20), int)
    a[5:15, 5:15] = 1
    assert boundary_f1(a, a) == 1.0
    shifted = np.roll(a, 1, axis=0)
    assert boundary_f1(shifted, a, tolerance=1.0) == 1.0  # within 1 pixel everywhere
    # tolerance 0: only coinciding surface pixels count; by hand the side columns of rows 6..14 (18 of 36)
    assert boundary_f1(shifted, a, tolerance=0.0) == pytest.approx(18 / 36)
    z = np.zeros_like(a)
    assert np.isnan(boundary_f1(z, z)) and boundary_f1(a, z) == 0.0


BAD = [
    (lambda: hausdorff_distance(np.zeros((3, 3)), np.zeros((3, 3), int)), TypeError, r"^pred: expected a boolean or integer mask"),
    (lambda: hausdorff_distance(np.zeros((3, 3), int), np.zeros((3, 4), int)), ValueError, r"^target: expected the shape of pred"),
    (lambda: hausdorff_distance(np.eye(3, dtype=int), np.eye(3, dtype=int), percentile=101), ValueError, r"^percentile: expected a number in \(0, 100\]"),
    (lambda: hausdorff_distance(np.eye(3, dtype=int), np.eye(3, dtype=int), spacing=(1, 2, 3)), ValueError, r"^spacing: expected 1 or 2 values"),
    (lambda: hausdorff_distance(np.eye(3, dtype=int), np.eye(3, dtype=int), spacing=(1, -2)), ValueError, r"^spacing: expected a finite number > 0"),
    (lambda: boundary_f1(np.eye(3, dtype=int), np.eye(3, dtype=int), tolerance=-1), ValueError, r"^tolerance: expected a finite number >= 0"),
    (lambda: surface(np.int64(3)), ValueError, r"^mask: expected at least 1 dim"),
]


@pytest.mark.parametrize("call, exc, match", BAD)
def test_metrics_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --------------------------------------------------------------------------- Dice (one home)
def test_dice_score_is_train_dice_score():
    import companion.train
    from companion.metrics import dice_score

    assert companion.train.dice_score is dice_score


def test_mean_foreground_dice_by_hand_and_nan():
    from companion.metrics import dice_score, mean_foreground_dice

    t = np.array([[0, 1, 1, 2], [0, 0, 0, 0], [0, 2, 0, 0]])
    p = np.array([[0, 1, 0, 2], [0, 0, 0, 0], [0, 0, 0, 2]])
    # pooled over the batch: class 1: 2*1/(1+2); class 2: 2*1/(2+2)
    assert mean_foreground_dice(p, t, 3) == pytest.approx((2 / 3 + 1 / 2) / 2)
    # per image: (image 0: 2/3, 1), image 1: both nan (left out), image 2: class 1 nan, class 2 = 0
    assert mean_foreground_dice(p, t, 3, per_image=True) == pytest.approx((2 / 3 + 1 + 0) / 3)
    manual = np.concatenate([dice_score(a, b, 3) for a, b in zip(p, t)])
    assert mean_foreground_dice(p, t, 3, per_image=True) == pytest.approx(np.nanmean(manual))
    assert np.isnan(mean_foreground_dice(np.zeros((2, 5), int), np.zeros((2, 5), int), per_image=True))
    assert mean_foreground_dice(np.ones(4, int), np.zeros(4, int)) == 0.0  # predicted, absent: 0, kept


def test_mean_foreground_dice_matches_monai_per_image():
    import torch
    from monai.metrics import DiceMetric

    from companion.metrics import mean_foreground_dice

    rng = np.random.default_rng(3)
    t = (rng.random((4, 12, 12)) < 0.3).astype(np.int64)
    p = (rng.random((4, 12, 12)) < 0.3).astype(np.int64)
    onehot = lambda a: torch.from_numpy(np.stack([1 - a, a], 1).astype(np.float32))
    ref = DiceMetric(include_background=False, reduction="mean")(onehot(p), onehot(t)).mean().item()
    assert mean_foreground_dice(p, t, per_image=True) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: __import__("companion.metrics").metrics.mean_foreground_dice(np.zeros(3), np.zeros(3, int)),
     TypeError, r"^pred: expected an integer"),
    (lambda: __import__("companion.metrics").metrics.mean_foreground_dice(np.zeros(3, int), np.zeros(3, int), 1),
     ValueError, r"^num_classes"),
    (lambda: __import__("companion.metrics").metrics.mean_foreground_dice(np.zeros((2, 3), int), np.zeros((2, 4), int),
                                                                          per_image=True),
     ValueError, r"^target: expected the shape"),
])
def test_mean_foreground_dice_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
