"""companion.data.load_brain_tissue: the MNI152 template and tissue maps from nilearn's wheel."""

from __future__ import annotations

import numpy as np
import pytest

nilearn = pytest.importorskip("nilearn")

from companion.data import BRAIN_LABELS, load_brain_tissue  # noqa: E402


@pytest.fixture(scope="module")
def brain():
    return load_brain_tissue(2)


def test_shapes_dtypes_and_order_against_nilearn(brain):
    from nilearn.datasets import load_mni152_template
    t1, labels, affine = brain
    img = load_mni152_template(resolution=2)
    assert t1.shape == labels.shape == img.shape[::-1] == (95, 117, 99)
    assert t1.dtype == np.float32 and labels.dtype == np.int64
    np.testing.assert_array_equal(affine, img.affine)
    raw = img.get_fdata()
    # (d, h, w) = (k, j, i): one voxel by its nibabel index
    i, j, k = 40, 60, 50
    assert t1[k, j, i] == pytest.approx(max(raw[i, j, k], 0) / raw.max(), rel=1e-6)


def test_labels_are_the_largest_tissue_probability(brain):
    from nilearn.datasets import load_mni152_gm_template, load_mni152_wm_template
    _, labels, _ = brain
    gm = load_mni152_gm_template(resolution=2).get_fdata().T
    wm = load_mni152_wm_template(resolution=2).get_fdata().T
    inside = labels > 0
    csf = np.clip(1 - gm - wm, 0, None)
    expected = 1 + np.argmax(np.stack([csf, gm, wm]), axis=0)
    np.testing.assert_array_equal(labels[inside], expected[inside])
    assert set(np.unique(labels)) == {0, 1, 2, 3} and len(BRAIN_LABELS) == 4
    # grey matter is the most common tissue, and there is more white matter than CSF
    counts = np.bincount(labels.ravel(), minlength=4)
    assert counts[2] > counts[3] > counts[1] > 0


def test_tissue_intensities_are_ordered_as_in_a_t1(brain):
    t1, labels, _ = brain
    medians = [np.median(t1[labels == c]) for c in (1, 2, 3)]
    assert medians[0] < medians[1] < medians[2]       # CSF dark, grey matter, white matter bright


def test_the_origin_of_mni_space_is_inside_the_brain(brain):
    """MNI (0, 0, 0) lies at the anterior commissure, on the midline by the third ventricle: inside."""
    _, labels, affine = brain
    w, h, d, _ = np.linalg.solve(affine, [0.0, 0.0, 0.0, 1.0])
    assert labels[int(round(d)), int(round(h)), int(round(w))] > 0
    # and a corner of the volume is outside the head
    assert labels[0, 0, 0] == 0


def test_copies_are_returned(brain):
    t1, labels, _ = load_brain_tissue()
    t1[:] = -1
    labels[:] = 9
    again, labels2, _ = load_brain_tissue()
    assert again.min() >= 0 and labels2.max() == 3


@pytest.mark.parametrize("resolution", [3, 0, "2", True, 1.5])
def test_bad_resolution(resolution):
    with pytest.raises(ValueError, match=r"^resolution: expected 1 or 2"):
        load_brain_tissue(resolution)


def test_probabilities_are_nilearns_maps_and_give_the_labels(brain):
    """load_brain_probabilities: nilearn's GM/WM maps (oracle), CSF = 1 - GM - WM, argmax = labels."""
    from nilearn.datasets import load_mni152_gm_template, load_mni152_wm_template

    from companion.data import load_brain_probabilities
    _, labels, _ = brain
    p = load_brain_probabilities(2)
    assert p.shape == (3,) + labels.shape and p.dtype == np.float32
    inside = labels > 0
    gm = load_mni152_gm_template(resolution=2).get_fdata().T
    wm = load_mni152_wm_template(resolution=2).get_fdata().T
    np.testing.assert_allclose(p[1][inside], gm[inside], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(p[2][inside], wm[inside], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(p[0][inside], np.clip(1 - gm - wm, 0, None)[inside], atol=1e-6)
    assert np.all(p[:, ~inside] == 0)
    top2 = np.sort(p[:, inside], axis=0)[-2:]
    clear = top2[1] - top2[0] > 1e-6        # float32 rounding may flip exact float64 near-ties
    assert clear.mean() > 0.99
    np.testing.assert_array_equal((1 + np.argmax(p[:, inside], axis=0))[clear], labels[inside][clear])
    with pytest.raises(ValueError, match=r"^resolution: expected 1 or 2"):
        load_brain_probabilities(3)
