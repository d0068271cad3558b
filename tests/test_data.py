"""Tests of companion.data: seeded phantoms and the real samples bundled with pydicom and nibabel.

Oracles: pydicom's own reading of the DICOM files (spacing, rescale), nibabel's ``img.affine``,
``scipy.ndimage.label`` for lesion extents, and hand-checkable geometry (a ball of radius r mm
spans about 2r mm along every axis, whatever the voxel spacing).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy import ndimage

from companion.data import (
    ImageSlice,
    load_ct_slice,
    load_mr_slice,
    load_nifti_example,
    phantom_2d,
    phantom_3d,
    segmentation_dataset,
)


# ------------------------------------------------------------------------------------------
# phantom_2d
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, n_lesions", [
    pytest.param(64, 3, id="64-three"),
    pytest.param(128, 1, id="128-one"),
    pytest.param(16, 1, id="smallest"),
])
def test_phantom_2d_shapes_dtypes_and_lesion_count(size, n_lesions):
    image, mask = phantom_2d(size, n_lesions=n_lesions, seed=3)
    assert image.shape == mask.shape == (size, size)
    assert image.dtype == np.float32 and mask.dtype == np.int64
    assert set(np.unique(mask)) == {0, 1}
    _, count = ndimage.label(mask)  # lesions never touch: one component per lesion
    assert count == n_lesions


def test_phantom_2d_no_lesions_gives_empty_mask():
    image, mask = phantom_2d(32, n_lesions=0, seed=0)
    assert mask.sum() == 0 and image.max() > 0


def test_phantom_2d_deterministic_per_seed_and_differs_across_seeds():
    a = phantom_2d(64, seed=5)
    b = phantom_2d(64, seed=5)
    c = phantom_2d(64, seed=6)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[1], c[1])


def test_phantom_2d_lesions_clearly_brighter_than_everything_else():
    # Without noise the lesion levels (>= 0.85) sit above every other structure (<= 0.63):
    # the contrast a small U-Net needs to reach a high Dice quickly.
    image, mask = phantom_2d(64, noise=0.0, seed=2)
    assert image[mask == 1].min() >= 0.85 - 1e-6
    assert image[mask == 0].max() <= 0.60 + 0.03 + 1e-6
    assert image[0, 0] == 0.0  # background outside the body


def test_phantom_2d_noise_level():
    clean, _ = phantom_2d(128, noise=0.0, seed=4)
    noisy, _ = phantom_2d(128, noise=0.1, seed=4)
    assert abs(float(np.std(noisy - clean)) - 0.1) < 0.005


def test_phantom_2d_lesions_are_round():
    _, mask = phantom_2d(128, n_lesions=3, noise=0.0, seed=1)
    lab, count = ndimage.label(mask)
    for sl in ndimage.find_objects(lab):
        h, w = (s.stop - s.start for s in sl)
        assert abs(h - w) <= 1


# ------------------------------------------------------------------------------------------
# phantom_3d
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, spacing", [
    pytest.param((32, 64, 64), (3.0, 1.0, 1.0), id="default-thick-slices"),
    pytest.param((24, 40, 60), (2.0, 1.5, 1.0), id="three-spacings"),
    pytest.param((40, 40, 40), (1.0, 1.0, 1.0), id="isotropic"),
])
def test_phantom_3d_lesions_round_in_mm_not_in_voxels(shape, spacing):
    vol, mask, sp = phantom_3d(shape, spacing, seed=0)
    assert vol.shape == mask.shape == shape
    assert vol.dtype == np.float32 and mask.dtype == np.int64
    assert sp == tuple(float(s) for s in spacing)
    lab, count = ndimage.label(mask)
    assert count == 3
    for k, sl in enumerate(ndimage.find_objects(lab), start=1):
        voxels = np.array([s.stop - s.start for s in sl])
        mm = voxels * np.array(spacing)
        # A ball of diameter 2r spans between 2r - s and 2r + s mm along an axis of spacing s.
        r = (3 * (lab == k).sum() * np.prod(spacing) / (4 * np.pi)) ** (1 / 3)  # from its volume
        np.testing.assert_allclose(mm, 2 * r, atol=max(spacing) + 0.2 * r)
        assert mm.max() - mm.min() <= max(spacing) + 1e-9
        if spacing[0] != spacing[1]:  # an ellipsoid in voxels: shorter along the coarse axis
            assert voxels[0] < voxels[1]


def test_phantom_3d_voxel_extent_ratio_follows_spacing():
    _, mask, _ = phantom_3d((32, 64, 64), (3.0, 1.0, 1.0), noise=0.0, seed=7)
    lab, _ = ndimage.label(mask)
    for sl in ndimage.find_objects(lab):
        d, h, w = (s.stop - s.start for s in sl)
        assert 2.0 <= h / d <= 4.5  # about s_d / s_h = 3


def test_phantom_3d_deterministic_per_seed_and_differs_across_seeds():
    a = phantom_3d(seed=1)
    b = phantom_3d(seed=1)
    c = phantom_3d(seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


# ------------------------------------------------------------------------------------------
# segmentation_dataset
# ------------------------------------------------------------------------------------------

def test_segmentation_dataset_items_shapes_dtypes():
    torch = pytest.importorskip("torch")
    ds = segmentation_dataset(5, size=32, seed=0)
    assert isinstance(ds, torch.utils.data.Dataset)
    assert len(ds) == 5
    image, mask = ds[4]
    assert image.shape == (1, 32, 32) and image.dtype == torch.float32
    assert mask.shape == (32, 32) and mask.dtype == torch.int64
    assert 1 <= mask.sum() and set(mask.unique().tolist()) == {0, 1}
    assert torch.equal(ds[-1][0], image)


def test_segmentation_dataset_deterministic_and_prefix_stable():
    torch = pytest.importorskip("torch")
    small, large, again = (segmentation_dataset(n, size=32, seed=3) for n in (4, 10, 4))
    for i in range(4):
        assert torch.equal(small[i][0], large[i][0])
        assert torch.equal(small[i][1], again[i][1])


def test_segmentation_dataset_seeds_give_disjoint_samples():
    pytest.importorskip("torch")
    n = 12
    train = segmentation_dataset(n, size=32, seed=0)
    val = segmentation_dataset(n, size=32, seed=1)
    train_images = [train[i][0].numpy().tobytes() for i in range(n)]
    val_images = [val[i][0].numpy().tobytes() for i in range(n)]
    assert len(set(train_images)) == n  # items within a set differ
    assert not set(train_images) & set(val_images)  # no item shared between seeds
    # also the clean scenes (not only the noise) differ: compare the masks
    train_masks = {train[i][1].numpy().tobytes() for i in range(n)}
    val_masks = {val[i][1].numpy().tobytes() for i in range(n)}
    assert not train_masks & val_masks


def test_segmentation_dataset_items_are_copies():
    pytest.importorskip("torch")
    ds = segmentation_dataset(2, size=32)
    image, _ = ds[0]
    image.zero_()
    assert ds[0][0].abs().sum() > 0


# ------------------------------------------------------------------------------------------
# Real samples
# ------------------------------------------------------------------------------------------

def _pydicom_dataset(name):
    import pydicom
    from pydicom.data import get_testdata_file

    return pydicom.dcmread(get_testdata_file(name, download=False))


def test_load_ct_slice_in_hounsfield_units_with_pydicom_geometry():
    ct = load_ct_slice()
    ds = _pydicom_dataset("CT_small.dcm")
    assert isinstance(ct, ImageSlice)
    assert ct.pixels.shape == (128, 128) and ct.pixels.dtype == np.float32
    assert ct.modality == "CT" and ct.units == "HU"
    assert ct.spacing == tuple(float(s) for s in ds.PixelSpacing) == (0.661468, 0.661468)
    assert ct.origin == tuple(float(v) for v in ds.ImagePositionPatient)
    assert ct.orientation == tuple(float(v) for v in ds.ImageOrientationPatient)
    expected = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    np.testing.assert_array_equal(ct.pixels, expected.astype(np.float32))
    # Plausible HU: air around the patient (below -800 HU), soft tissue near 0, bone above 300.
    assert -1100 <= ct.pixels.min() <= -800
    assert (ct.pixels < -800).mean() > 0.05
    assert 200 < ct.pixels.max() < 3000
    assert abs(float(np.median(ct.pixels))) < 100


def test_load_ct_slice_693_a_second_scanner_spacing():
    ct = load_ct_slice("693_J2KI")
    ds = _pydicom_dataset("693_J2KI.dcm")
    assert ct.pixels.shape == (512, 512) and ct.spacing == (0.478516, 0.478516) and ct.units == "HU"
    expected = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    np.testing.assert_array_equal(ct.pixels, expected.astype(np.float32))
    assert (ct.pixels < -800).mean() > 0.05 and abs(float(np.median(ct.pixels[ct.pixels > -500]))) < 150
    with pytest.raises(ValueError, match=r"^name: expected one of"):
        load_ct_slice("CT_large")


def test_load_mr_slice_geometry():
    mr = load_mr_slice()
    ds = _pydicom_dataset("MR_small.dcm")
    assert mr.pixels.shape == (64, 64) and mr.pixels.dtype == np.float32
    assert mr.modality == "MR" and mr.units == "arbitrary"
    assert mr.spacing == tuple(float(s) for s in ds.PixelSpacing) == (0.3125, 0.3125)
    np.testing.assert_array_equal(mr.pixels, ds.pixel_array.astype(np.float32))


def test_load_nifti_example_affine_equals_nibabel():
    import nibabel

    data, affine = load_nifti_example()
    img = nibabel.load(os.path.join(os.path.dirname(nibabel.__file__), "tests", "data", "anatomical.nii"))
    assert data.dtype == np.float32 and affine.dtype == np.float64
    assert data.shape == img.shape == (33, 41, 25)
    np.testing.assert_array_equal(affine, img.affine)
    np.testing.assert_array_equal(data, img.get_fdata())


def test_real_samples_do_not_share_memory_between_calls():
    a = load_ct_slice()
    a.pixels[:] = 0
    assert load_ct_slice().pixels.max() > 0


# ------------------------------------------------------------------------------------------
# Bad calls
# ------------------------------------------------------------------------------------------

BAD_CALLS = [
    pytest.param(lambda: phantom_2d(8), ValueError, r"^size: expected an int >= 16, got 8", id="size-small"),
    pytest.param(lambda: phantom_2d(64.5), TypeError, r"^size: expected an int", id="size-float"),
    pytest.param(lambda: phantom_2d(64, n_lesions=-1), ValueError, r"^n_lesions: expected an int >= 0", id="lesions-neg"),
    pytest.param(lambda: phantom_2d(16, n_lesions=40), ValueError, r"^n_lesions: expected a number of lesions that fits", id="lesions-many"),
    pytest.param(lambda: phantom_2d(64, noise=-0.1), ValueError, r"^noise: expected a finite number >= 0", id="noise-neg"),
    pytest.param(lambda: phantom_2d(64, noise="high"), TypeError, r"^noise: expected a number", id="noise-str"),
    pytest.param(lambda: phantom_2d(64, seed=-1), ValueError, r"^seed: expected an int >= 0", id="seed-neg"),
    pytest.param(lambda: phantom_2d(64, seed=None), TypeError, r"^seed: expected an int", id="seed-none"),
    pytest.param(lambda: phantom_3d((32, 64)), ValueError, r"^shape: expected an int or 3 ints", id="shape-2"),
    pytest.param(lambda: phantom_3d((4, 64, 64)), ValueError, r"^shape: expected an int >= 8", id="shape-small"),
    pytest.param(lambda: phantom_3d(spacing=(1.0, 1.0)), ValueError, r"^spacing: expected 3 entries", id="spacing-2"),
    pytest.param(lambda: phantom_3d(spacing=(0.0, 1.0, 1.0)), ValueError, r"^spacing: expected a finite number > 0", id="spacing-0"),
    pytest.param(lambda: phantom_3d(spacing=3.0), TypeError, r"^spacing: expected a tuple of 3", id="spacing-scalar"),
    pytest.param(lambda: segmentation_dataset(0), ValueError, r"^n: expected an int >= 1", id="n-zero"),
    pytest.param(lambda: segmentation_dataset(4, size=10), ValueError, r"^size: expected an int >= 16", id="ds-size"),
    pytest.param(lambda: segmentation_dataset(4)[4], IndexError, r"^i: expected an index in \[0, 4\)", id="ds-index"),
    pytest.param(lambda: segmentation_dataset(4)["a"], TypeError, r"^i: expected an int index", id="ds-index-type"),
    pytest.param(lambda: segmentation_dataset(4, realistic=1), TypeError, r"^realistic: expected True or False", id="ds-realistic"),
    pytest.param(lambda: phantom_2d(32, realistic="yes"), TypeError, r"^realistic: expected True or False", id="realistic-str"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_calls_raise_named_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_load_ct_series_matches_pydicom():
    """The bundled CT series: InstanceNumber order, HU through rescale, geometry tags as stored."""
    import pydicom

    from companion.data import CT_SERIES, load_ct_series

    for name, n in [("CT5N", 5), ("CT2", 4)]:
        series = load_ct_series(name)
        assert len(series) == n
        folder = os.path.join(os.path.dirname(pydicom.data.__file__), "test_files", CT_SERIES[name])
        datasets = sorted((pydicom.dcmread(os.path.join(folder, f)) for f in os.listdir(folder)),
                          key=lambda ds: int(ds.InstanceNumber))
        for s, ds in zip(series, datasets):
            np.testing.assert_array_equal(s.pixels, ds.pixel_array * float(ds.RescaleSlope)
                                          + float(ds.RescaleIntercept))
            assert s.origin == tuple(float(v) for v in ds.ImagePositionPatient)
            assert s.modality == "CT" and s.pixels.shape == (16, 16)
    z = [s.origin[2] for s in load_ct_series("CT5N")]
    assert z == sorted(z, reverse=True)  # numbered head to feet: instance order is not +z order
    with pytest.raises(ValueError, match=r"^name: expected one of"):
        load_ct_series("CT3")


# ------------------------------------------------------------------------------------------
# Realistic phantoms (issue 13: a task a global threshold cannot solve)
# ------------------------------------------------------------------------------------------

def _stack(ds):
    xs, ms = zip(*(ds[i] for i in range(len(ds))))
    return np.stack([x[0].numpy() for x in xs]), np.stack([m.numpy() for m in ms])


def test_realistic_default_unchanged_and_item_format():
    torch = pytest.importorskip("torch")
    plain, explicit = segmentation_dataset(3, size=32, seed=5), segmentation_dataset(3, size=32, seed=5, realistic=False)
    real = segmentation_dataset(3, size=32, seed=5, realistic=True)
    for i in range(3):
        assert torch.equal(plain[i][0], explicit[i][0])
        image, mask = real[i]
        assert image.shape == (1, 32, 32) and image.dtype == torch.float32
        assert mask.shape == (32, 32) and mask.dtype == torch.int64 and 1 <= mask.sum()
        assert not torch.equal(image, plain[i][0])
    assert torch.equal(real[2][0], segmentation_dataset(3, size=32, seed=5, realistic=True)[2][0])
    assert "realistic=True" in repr(real)


def test_realistic_lesions_overlap_normal_tissue_in_intensity():
    """No intensity separates lesion from non-lesion pixels: the distributions overlap broadly."""
    x, m = _stack(segmentation_dataset(24, size=48, seed=1, realistic=True))
    les, body = x[m == 1], x[(m == 0) & (x > 0.2)]
    lo, hi = np.percentile(les, [10, 90])
    assert np.mean((body > lo) & (body < hi)) > 0.5      # most body pixels lie inside the lesion range
    assert abs(np.median(les) - np.median(body)) < 0.1   # medians within two noise levels


def test_realistic_best_threshold_fails_where_default_succeeds():
    from companion.baselines import best_global_threshold, threshold_segment
    from companion.metrics import mean_foreground_dice

    for realistic, lo, hi in ((False, 0.95, 1.0), (True, 0.0, 0.5)):
        x, m = _stack(segmentation_dataset(24, size=48, seed=1, realistic=realistic))
        xv, mv = _stack(segmentation_dataset(24, size=48, seed=2, realistic=realistic))
        t = best_global_threshold(x, m)
        d = mean_foreground_dice(np.stack([threshold_segment(a, t) for a in xv]), mv, per_image=True)
        assert lo <= d <= hi, (realistic, d)


def test_realistic_phantom_fast_and_fits_at_small_sizes():
    import time

    t0 = time.process_time()
    for seed in range(40):
        image, mask = phantom_2d(48, n_lesions=3, seed=seed, realistic=True)
        assert mask.sum() > 0 and np.isfinite(image).all() and image.min() >= 0
    assert (time.process_time() - t0) / 40 < 0.05
    for size in (16, 24, 32):
        assert phantom_2d(size, n_lesions=3, seed=0, realistic=True)[1].sum() > 0
