"""companion.lesions: inserted lesions are where and what they claim; per-lesion counts against
scikit-image's connected components and brute-force counting."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import measure

from companion.lesions import components, froc, insert_lesions, match_lesions


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Two label maps describe the same components (up to their numbering)."""
    if not np.array_equal(a > 0, b > 0):
        return False
    pairs = {(int(x), int(y)) for x, y in zip(a[a > 0], b[b > 0])}
    return len(pairs) == len({p[0] for p in pairs}) == len({p[1] for p in pairs})


@pytest.mark.parametrize("shape", [(40, 40), (12, 20, 16)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_components_match_skimage_label_with_full_connectivity(shape, seed):
    mask = np.random.default_rng(seed).random(shape) > 0.7
    ours = components(mask)
    oracle = measure.label(mask, connectivity=len(shape))
    assert ours.max() == oracle.max()
    assert _same_partition(ours, oracle)


def test_components_drop_small_ones_like_skimage_remove_small_objects():
    from skimage.morphology import remove_small_objects

    mask = np.random.default_rng(5).random((50, 50)) > 0.6
    kept = components(mask, min_size=4) > 0
    oracle = remove_small_objects(measure.label(mask, connectivity=2), max_size=3) > 0
    assert np.array_equal(kept, oracle)
    assert components(mask, min_size=4).max() == measure.label(oracle, connectivity=2).max()


@pytest.mark.parametrize("ndim", [2, 3])
def test_inserted_lesions_are_balls_of_their_radius_inside_the_region_and_apart(ndim):
    shape = (48, 48) if ndim == 2 else (24, 32, 32)
    region = np.zeros(shape, bool)
    region[tuple(slice(2, s - 2) for s in shape)] = True
    img = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    out = insert_lesions(img, region, 4, radius=(2.0, 3.5), contrast=2.0, edge=0.5, seed=3)
    assert out.image.dtype == np.float32 and out.labels.dtype == np.int64
    assert sorted(np.unique(out.labels)) == [0, 1, 2, 3, 4]
    grid = np.indices(shape)
    for k, (c, r) in enumerate(zip(out.centres, out.radii), start=1):
        dist = np.sqrt(sum((grid[i] - c[i]) ** 2 for i in range(ndim)))
        assert np.array_equal(out.labels == k, dist <= r)          # brute-force ball
        assert region[out.labels == k].all()                       # wholly inside the region
    for i in range(4):                                             # gaps of >= 2*edge + 1 between rims
        for j in range(i + 1, 4):
            gap = np.linalg.norm(out.centres[i] - out.centres[j]) - out.radii[i] - out.radii[j]
            assert gap >= 2 * 0.5 + 1 - 1e-9
    expected = img.astype(np.float64)                              # the profile, summed everywhere
    for c, r in zip(out.centres, out.radii):
        dist = np.sqrt(sum((grid[i] - c[i]) ** 2 for i in range(ndim)))
        expected += 2.0 / (1 + np.exp((dist - r) / 0.5))
    # the module adds each profile within r + 8 edge of its centre: the tails it leaves out are < 2 e^-8 each
    np.testing.assert_allclose(out.image, expected, rtol=0, atol=4 * 2.0 * np.exp(-8) + 1e-5)


def test_insertion_is_seeded_and_leaves_the_input_alone():
    img = np.zeros((40, 40))
    before = img.copy()
    region = np.ones((40, 40), bool)
    a = insert_lesions(img, region, 3, seed=7)
    b = insert_lesions(img, region, 3, seed=7)
    c = insert_lesions(img, region, 3, seed=8)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.centres, c.centres)
    np.testing.assert_array_equal(img, before)
    assert insert_lesions(img, region, 0).labels.max() == 0


def test_negative_contrast_darkens_and_a_full_region_raises_naming_region():
    img = np.ones((30, 30))
    out = insert_lesions(img, np.ones((30, 30), bool), 1, radius=3.0, contrast=-0.5, seed=0)
    assert out.image.min() < 0.6
    tiny = np.zeros((30, 30), bool)
    tiny[10:16, 10:16] = True
    with pytest.raises(ValueError, match="region"):
        insert_lesions(img, tiny, 3, radius=2.5)


def _brute_force_detection(pred: np.ndarray, truth: np.ndarray):
    comp = measure.label(pred, connectivity=pred.ndim)
    ids = [k for k in np.unique(truth) if k > 0]
    hit = [bool(pred[truth == k].any()) for k in ids]
    fp = sum(1 for c in range(1, comp.max() + 1) if not (truth[comp == c] > 0).any())
    return len(ids), sum(hit), fp, hit


@pytest.mark.parametrize("seed", range(6))
def test_match_lesions_counts_like_a_brute_force_loop(seed):
    rng = np.random.default_rng(seed)
    truth = insert_lesions(np.zeros((40, 40)), np.ones((40, 40), bool), 5, seed=seed).labels
    pred = (truth > 0) & (rng.random(truth.shape) > 0.6) | (rng.random(truth.shape) > 0.985)
    d = match_lesions(pred, truth)
    n, tp, fp, hit = _brute_force_detection(pred, truth)
    assert (d.n_lesions, d.true_positives, d.false_positives) == (n, tp, fp)
    assert d.false_negatives == n - tp and d.hit.tolist() == hit


def test_one_component_over_two_lesions_detects_both_and_perfect_prediction_has_no_false_alarm():
    truth = np.zeros((10, 10), int)
    truth[2:4, 2:4] = 1
    truth[2:4, 6:8] = 2
    bridge = truth > 0
    bridge[3, 2:8] = True
    d = match_lesions(bridge, truth)
    assert (d.true_positives, d.false_positives) == (2, 0)
    d = match_lesions(np.zeros_like(bridge), truth)
    assert (d.true_positives, d.false_negatives, d.false_positives) == (0, 2, 0)


def test_froc_pools_images_like_a_loop_and_falls_with_the_threshold():
    rng = np.random.default_rng(1)
    truths = [insert_lesions(np.zeros((32, 32)), np.ones((32, 32), bool), 3, seed=s).labels for s in range(4)]
    probs = [0.6 * (t > 0) * rng.random(t.shape) + 0.5 * rng.random(t.shape) ** 6 for t in truths]
    thresholds = np.linspace(0.05, 1.15, 12)
    f = froc(probs, truths, thresholds)
    for j, thr in enumerate(thresholds):
        counts = [_brute_force_detection(p >= thr, t) for p, t in zip(probs, truths)]
        assert f.sensitivity[j] == pytest.approx(sum(c[1] for c in counts) / 12)
        assert f.fp_per_image[j] == pytest.approx(sum(c[2] for c in counts) / 4)
    assert np.all(np.diff(f.sensitivity) <= 0)
    assert f.sensitivity[-1] == 0 and f.fp_per_image[-1] == 0


@pytest.mark.parametrize("call, exc, word", [
    (lambda: insert_lesions(np.zeros((8, 8)), np.ones((8, 8)), 1), TypeError, "region"),
    (lambda: insert_lesions(np.zeros((8, 8)), np.ones((8, 9), bool), 1), ValueError, "region"),
    (lambda: insert_lesions(np.zeros(8), np.ones(8, bool), 1), ValueError, "image"),
    (lambda: insert_lesions(np.zeros((8, 8)), np.ones((8, 8), bool), -1), ValueError, "n_lesions"),
    (lambda: insert_lesions(np.zeros((8, 8)), np.ones((8, 8), bool), 1, radius=(3, 2)), ValueError, "radius"),
    (lambda: insert_lesions(np.zeros((8, 8)), np.ones((8, 8), bool), 1, radius=0), ValueError, "radius"),
    (lambda: insert_lesions(np.zeros((8, 8)), np.ones((8, 8), bool), 1, contrast="1"), TypeError, "contrast"),
    (lambda: insert_lesions(np.zeros((8, 8)), np.ones((8, 8), bool), 1, edge=0), ValueError, "edge"),
    (lambda: components(np.zeros((4, 4), float)), TypeError, "mask"),
    (lambda: components(np.zeros((4, 4), bool), min_size=0), ValueError, "min_size"),
    (lambda: match_lesions(np.zeros((4, 4), bool), np.zeros((4, 5), int)), ValueError, "labels"),
    (lambda: match_lesions(np.zeros((4, 4), bool), np.zeros((4, 4), bool)), TypeError, "labels"),
    (lambda: froc([], [], [0.5]), ValueError, "probabilities"),
    (lambda: froc([np.zeros((4, 4))], [], [0.5]), ValueError, "labels"),
    (lambda: froc([np.zeros((4, 4))], [np.zeros((4, 4), int)], []), ValueError, "thresholds"),
])
def test_bad_calls_name_the_argument(call, exc, word):
    with pytest.raises(exc, match=word):
        call()
