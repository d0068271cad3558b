"""companion.attribution: the pointing game and the share of attribution inside a mask, against
brute force and SciPy's distance transform; map_similarity is tested in test_explain.py."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from companion.attribution import attribution_inside, map_similarity, pointing_game


def test_pointing_game_against_brute_force_and_distance_transform():
    rng = np.random.default_rng(0)
    maps = rng.random((40, 12, 10))
    masks = np.zeros((40, 12, 10), bool)
    for i in range(40):
        r, c = rng.integers(1, 9, 2)
        masks[i, r:r + 3, c:c + 2] = True
    masks[0] = False                                          # no lesion: a miss
    for tol in (0.0, 1.0, 2.5):
        hits = pointing_game(maps, masks, tolerance=tol)
        assert hits.dtype == bool and hits.shape == (40,)
        for i in range(40):
            peak = np.unravel_index(np.argmax(maps[i]), maps[i].shape)
            if not masks[i].any():
                expected = False
            else:  # distance from the peak to the nearest lesion pixel (SciPy's Euclidean transform)
                expected = ndimage.distance_transform_edt(~masks[i])[peak] <= tol
            assert hits[i] == expected
    assert not pointing_game(maps, masks, tolerance=0).all() and pointing_game(maps, masks, tolerance=30)[1:].all()
    assert pointing_game(maps[3], masks[3]) == pointing_game(maps, masks)[3]   # one map: a bool
    assert isinstance(pointing_game(maps[3], masks[3]), bool)


def test_attribution_inside_is_the_positive_share():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((5, 9, 9))
    m = rng.random((5, 9, 9)) < 0.3
    share = attribution_inside(a, m.astype(int))
    for i in range(5):
        pos = np.clip(a[i], 0, None)
        assert share[i] == pytest.approx(pos[m[i]].sum() / pos.sum(), rel=1e-12)
    uniform = attribution_inside(np.ones((9, 9)), m[0])      # a uniform map: the mask's area fraction
    assert uniform == pytest.approx(m[0].mean())
    assert attribution_inside(5 * np.abs(a), m) == pytest.approx(attribution_inside(np.abs(a), m))  # scale-free
    assert np.isnan(attribution_inside(-np.ones((4, 4)), np.eye(4, dtype=bool)))  # nothing positive


BAD = [
    pytest.param(lambda: pointing_game(np.ones((4, 4)), np.ones((4, 5), bool)), ValueError, r"^lesion_mask: expected the shape", id="shape"),
    pytest.param(lambda: pointing_game(np.ones((4, 4)), np.ones((4, 4))), TypeError, r"^lesion_mask: expected a boolean", id="mask-float"),
    pytest.param(lambda: pointing_game(np.ones(4), np.ones(4, bool)), ValueError, r"^attribution: expected 2 or 3 dims", id="ndim"),
    pytest.param(lambda: pointing_game(np.full((3, 3), np.nan), np.ones((3, 3), bool)), ValueError, r"^attribution: expected finite", id="nan"),
    pytest.param(lambda: pointing_game(np.ones((3, 3)), np.ones((3, 3), bool), tolerance=-1), ValueError, r"^tolerance: expected a distance", id="tol"),
    pytest.param(lambda: attribution_inside("map", np.ones((3, 3), bool)), TypeError, r"^attribution: expected a float", id="str"),
    pytest.param(lambda: map_similarity(np.ones((1, 8, 8)), np.ones((1, 8, 9))), ValueError, r"^b: expected the shape of a", id="sim"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD)
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_lesion_patches_hold_what_they_say():
    from companion.attribution import lesion_patches

    d = lesion_patches(12, size=24, contrast=0.4, marker="positives", seed=3)
    assert d.images.shape == (12, 1, 24, 24) and d.images.dtype == np.float32
    assert d.labels.sum() == 6 and set(np.unique(d.labels)) == {0, 1}
    assert all(d.lesions[i].any() == bool(d.labels[i]) for i in range(12))        # a lesion exactly in the positives
    assert all(d.marker[i].any() == bool(d.labels[i]) for i in range(12))         # the tag too
    assert np.all(d.images[:, 0][d.marker] == 1.0)
    again = lesion_patches(12, size=24, contrast=0.4, marker="positives", seed=3)
    np.testing.assert_array_equal(again.images, d.images)                         # seeded
    clean = lesion_patches(12, size=24, contrast=0.4, noise=0.0, marker="negatives", seed=3)
    assert all(clean.marker[i].any() != bool(clean.labels[i]) for i in range(12))
    with pytest.raises(ValueError, match=r"^size: expected a multiple of 4"):
        lesion_patches(4, size=30)
    with pytest.raises(ValueError, match=r"^marker: expected one of"):
        lesion_patches(4, marker="ruler")
