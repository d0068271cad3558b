"""companion.geometry against torch (strides), nibabel (affines of its bundled files), pydicom
(tags of its bundled CT), scipy (resampling) and hand-checkable closed forms."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.geometry import (
    affine, affine_to_geometry, channels_last_strides, contiguous_strides, geometry_from_dicom,
    index_to_world, kernel_extent, lps_ras_flip, resample, tensor_nbytes, world_to_index,
)

torch = pytest.importorskip("torch")
nib = pytest.importorskip("nibabel")
NIB_DATA = os.path.join(os.path.dirname(nib.__file__), "tests", "data")


def rotation(ax, ay, az):
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


# ---- index <-> world: closed forms ------------------------------------------------------------

WORLD_CASES = [  # index (d, h, w), spacing (s_d, s_h, s_w), origin, direction, expected (x, y, z)
    pytest.param([0, 0, 0], (5, 0.7, 0.7), (1, 2, 3), None, [1, 2, 3], id="origin"),
    # catches spacing applied in array order to world order: w goes with s_w and x
    pytest.param([2, 1, 3], (5, 0.7, 0.8), (0, 0, 0), None, [2.4, 0.7, 10.0], id="aniso-axis-order"),
    # a direction swapping x and y: the w axis points along +y, the h axis along +x
    pytest.param([0, 1, 2], (1, 2, 3), (10, 20, 30), [[0, 1, 0], [1, 0, 0], [0, 0, -1]],
                 [12, 26, 30], id="permuted-direction"),
    # d axis pointing to -z (a feet-first stack): z decreases with the slice index
    pytest.param([4, 0, 0], (2.5, 1, 1), (0, 0, 100), np.diag([1, 1, -1]), [0, 0, 90], id="flipped-d"),
    pytest.param([0.5, 0.5, 0.5], (2, 2, 2), (0, 0, 0), None, [1, 1, 1], id="fractional"),
]


@pytest.mark.parametrize("index, spacing, origin, direction, expected", WORLD_CASES)
def test_index_to_world_closed_form(index, spacing, origin, direction, expected):
    p = index_to_world(index, spacing, origin, direction)
    np.testing.assert_allclose(p, expected, atol=1e-12)
    np.testing.assert_allclose(world_to_index(p, spacing, origin, direction), index, atol=1e-12)


def test_index_to_world_batch_and_dtype():
    idx = np.array([[0, 0, 0], [1, 2, 3]], dtype=np.float32)
    p = index_to_world(idx, (2, 3, 4), (0, 0, 0))
    assert p.dtype == np.float32 and p.shape == (2, 3)
    np.testing.assert_allclose(p[1], [12, 6, 2])
    assert index_to_world([1, 2, 3], (2, 3, 4), (0, 0, 0)).dtype == np.float64


def test_affine_agrees_with_index_to_world():
    rng = np.random.default_rng(1)
    d = rotation(0.3, -0.2, 1.1)
    a = affine((3.0, 0.8, 0.6), (-5, 7, 11), d)
    idx = rng.uniform(0, 50, size=(10, 3))
    whd1 = np.c_[idx[:, ::-1], np.ones(10)]
    np.testing.assert_allclose((whd1 @ a.T)[:, :3], index_to_world(idx, (3.0, 0.8, 0.6), (-5, 7, 11), d))
    s, o, dd = affine_to_geometry(a)
    np.testing.assert_allclose(s, [3.0, 0.8, 0.6])
    np.testing.assert_allclose(o, [-5, 7, 11])
    np.testing.assert_allclose(dd, d, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    idx=st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3),
    spacing=st.lists(st.floats(0.05, 20.0), min_size=3, max_size=3),
    origin=st.lists(st.floats(-500, 500), min_size=3, max_size=3),
    angles=st.lists(st.floats(-np.pi, np.pi), min_size=3, max_size=3),
)
def test_world_to_index_inverts_index_to_world(idx, spacing, origin, angles):
    d = rotation(*angles)
    p = index_to_world(idx, spacing, origin, d)
    np.testing.assert_allclose(world_to_index(p, spacing, origin, d), idx, rtol=1e-9, atol=1e-8)


# ---- real files: nibabel affines, pydicom tags ------------------------------------------------

@pytest.mark.parametrize("name", ["anatomical.nii", "example4d.nii.gz", "standard.nii.gz",
                                  "reoriented_anat_moved.nii"])
def test_affine_equals_nibabel_affine(name):
    """Our (d, h, w) array is nibabel's (i, j, k) array transposed; then the affines agree."""
    img = nib.load(os.path.join(NIB_DATA, name))
    spacing, origin, direction = affine_to_geometry(img.affine)
    np.testing.assert_allclose(affine(spacing, origin, direction), img.affine, atol=1e-5)
    np.testing.assert_allclose(spacing, np.asarray(img.header.get_zooms()[:3])[::-1], rtol=1e-5)
    shape_ijk = img.shape[:3]
    rng = np.random.default_rng(0)
    ijk = rng.integers(0, shape_ijk, size=(20, 3))
    expected = nib.affines.apply_affine(img.affine, ijk)
    dhw = ijk[:, ::-1]  # i -> w, j -> h, k -> d
    np.testing.assert_allclose(index_to_world(dhw, spacing, origin, direction), expected, atol=1e-4)
    # the voxel value is the same one: data[i, j, k] == data.T[k, j, i]
    data = np.asarray(img.dataobj)
    vol = data.T if data.ndim == 3 else data[..., 0].T
    i, j, k = ijk[3]
    assert vol[k, j, i] == (data[i, j, k] if data.ndim == 3 else data[i, j, k, 0])


def test_oblique_nifti_is_oblique():
    img = nib.load(os.path.join(NIB_DATA, "example4d.nii.gz"))
    _, _, direction = affine_to_geometry(img.affine)
    assert not np.allclose(np.abs(direction), np.round(np.abs(direction)), atol=1e-3)


def test_lps_ras_flip_matches_nibabel_orientation_codes():
    img = nib.load(os.path.join(NIB_DATA, "anatomical.nii"))
    assert nib.aff2axcodes(img.affine) == ("L", "A", "S")
    # the same grid described in LPS+: codes of the flipped affine read as RAS labels flip L<->R, A<->P
    assert nib.aff2axcodes(lps_ras_flip(img.affine)) == ("R", "P", "S")
    np.testing.assert_allclose(lps_ras_flip(lps_ras_flip(img.affine)), img.affine)
    np.testing.assert_allclose(lps_ras_flip(np.array([[1.0, 2, 3]])), [[-1, -2, 3]])


def test_geometry_from_dicom_ct_small():
    pydicom = pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    spacing, origin, direction = geometry_from_dicom(ds.PixelSpacing, ds.ImagePositionPatient,
                                                     ds.ImageOrientationPatient, float(ds.SliceThickness))
    np.testing.assert_allclose(spacing, [5.0, 0.661468, 0.661468])
    np.testing.assert_allclose(origin, [-158.135803, -179.035797, -75.699997])
    np.testing.assert_allclose(direction, np.eye(3))
    # the last pixel (row 127, column 127) of an axial slice, by hand
    p = index_to_world([0, 127, 127], spacing, origin, direction)
    np.testing.assert_allclose(p, [-158.135803 + 127 * 0.661468, -179.035797 + 127 * 0.661468, -75.699997])


def test_geometry_from_dicom_row_column_order():
    """PixelSpacing is [row spacing, column spacing]: the first entry goes with h, not x."""
    spacing, origin, direction = geometry_from_dicom([0.5, 0.8], [0, 0, 0], [1, 0, 0, 0, 1, 0], 3.0)
    np.testing.assert_allclose(spacing, [3.0, 0.5, 0.8])
    # one step along a row (next column, w) moves x by the COLUMN spacing 0.8
    np.testing.assert_allclose(index_to_world([0, 0, 1], spacing, origin, direction), [0.8, 0, 0])
    np.testing.assert_allclose(index_to_world([0, 1, 0], spacing, origin, direction), [0, 0.5, 0])
    # a sagittal orientation: rows run along -z... normal is the cross product
    _, _, d = geometry_from_dicom([1, 1], [0, 0, 0], [0, 1, 0, 0, 0, -1])
    np.testing.assert_allclose(d[:, 2], [-1, 0, 0])


# ---- strides against torch ---------------------------------------------------------------------

SHAPES = [
    pytest.param((2, 3, 4, 5), id="nchw"),
    pytest.param((2, 3, 4, 5, 6), id="ncdhw"),
    pytest.param((1, 3, 1, 5), id="size-one-axes"),
    pytest.param((2, 1, 4, 5), id="one-channel"),
    pytest.param((2, 3, 0, 5), id="empty-axis"),
    pytest.param((2, 3, 1, 1, 6), id="3d-size-one"),
]


@pytest.mark.parametrize("shape", SHAPES)
def test_strides_match_torch(shape):
    assert contiguous_strides(shape) == torch.empty(shape).stride()
    fmt = torch.channels_last if len(shape) == 4 else torch.channels_last_3d
    assert channels_last_strides(shape) == torch.empty(shape, memory_format=fmt).stride()


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 0), (4, 1, 3), ()])
def test_contiguous_strides_any_rank(shape):
    assert contiguous_strides(shape) == torch.empty(shape).stride()


def test_byte_strides_match_numpy():
    a = np.empty((2, 3, 4, 5, 6), dtype=np.float32)
    assert contiguous_strides(a.shape, itemsize=4) == a.strides
    cl = np.ascontiguousarray(np.moveaxis(a, 1, -1))      # (N, D, H, W, C) in memory
    assert channels_last_strides(a.shape, np.float32) == np.moveaxis(cl, -1, 1).strides


def test_tensor_nbytes():
    assert tensor_nbytes((300, 512, 512)) == 314_572_800
    assert tensor_nbytes((1, 32, 300, 512, 512), np.float16) == 32 * 314_572_800 // 2
    assert tensor_nbytes((2, 3), 8) == torch.empty(2, 3, dtype=torch.float64).nbytes


def test_kernel_extent():
    np.testing.assert_allclose(kernel_extent(3, (5.0, 0.7, 0.7)), [15.0, 2.1, 2.1])
    np.testing.assert_allclose(kernel_extent((1, 3, 3), (5.0, 0.7, 0.7), dilation=2), [5.0, 3.5, 3.5])


# ---- resampling against scipy ------------------------------------------------------------------

RESAMPLE_CASES = [  # shape, spacing, new spacing, order
    pytest.param((7, 9, 8), (3.0, 1.0, 1.2), (1.0, 0.7, 1.0), 1, id="3d-linear-up"),
    pytest.param((9, 10, 11), (1.0, 1.0, 1.0), (2.5, 1.5, 1.0), 1, id="3d-linear-down"),
    pytest.param((12, 13), (0.9, 0.6), (0.5, 1.3), 1, id="2d-linear"),
    pytest.param((7, 9, 8), (3.0, 1.0, 1.2), (1.1, 0.7, 1.0), 3, id="3d-cubic"),
]


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
@pytest.mark.parametrize("shape, spacing, new_spacing, order", RESAMPLE_CASES)
def test_resample_matches_map_coordinates(shape, spacing, new_spacing, order, dtype, tol):
    from scipy import ndimage
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    out = resample(x, spacing, new_spacing, order=order)
    assert out.dtype == dtype
    expected_shape = tuple(int(np.floor((n - 1) * s / t)) + 1 for n, s, t in zip(shape, spacing, new_spacing))
    assert out.shape == expected_shape
    grid = np.meshgrid(*[np.arange(m) * t / s for m, s, t in zip(out.shape, spacing, new_spacing)],
                       indexing="ij")
    ref = ndimage.map_coordinates(x.astype(np.float64), grid, order=order, mode="nearest")
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)


def test_resample_matches_zoom_when_ratio_is_exact():
    """With (n - 1) s / s' an integer, scipy's zoom samples the same points."""
    from scipy import ndimage
    x = np.random.default_rng(2).standard_normal((5, 7, 9))
    out = resample(x, (3.0, 1.0, 1.0), (1.0, 0.5, 2.0))  # 5 -> 13, 7 -> 13, 9 -> 5
    assert out.shape == (13, 13, 5)
    ref = ndimage.zoom(x, np.array(out.shape) / x.shape, order=1, grid_mode=False, mode="nearest")
    assert ref.shape == out.shape
    np.testing.assert_allclose(out, ref, atol=1e-10)


def test_resample_nearest_keeps_labels():
    mask = (np.random.default_rng(3).random((6, 7, 8)) > 0.5).astype(np.int64)
    out = resample(mask, (3.0, 1.0, 1.0), (1.0, 1.0, 1.0), order=0)
    assert out.dtype == np.int64 and set(np.unique(out)) <= {0, 1}
    np.testing.assert_array_equal(out[::3], mask)  # every third slice lands on an original one


def test_resample_makes_an_ellipsoid_round():
    """A ball of radius 9 mm sampled at (4, 1, 1) mm is an ellipsoid in voxels, round after resampling."""
    spacing = (4.0, 1.0, 1.0)
    d, h, w = np.meshgrid(np.arange(9) * 4.0, np.arange(33) * 1.0, np.arange(33) * 1.0, indexing="ij")
    vol = (np.sqrt((d - 16) ** 2 + (h - 16) ** 2 + (w - 16) ** 2) <= 9).astype(np.float64)
    extent_vox = [np.ptp(np.nonzero(vol > 0.5)[a]) for a in range(3)]
    assert extent_vox[0] * 4 < extent_vox[1] + 1        # in voxels it is flat along d
    iso = resample(vol, spacing, (1.0, 1.0, 1.0))
    nz = np.nonzero(iso > 0.5)
    ext = np.array([np.ptp(a) for a in nz])
    assert np.max(ext) - np.min(ext) <= 2, ext
    cov = np.cov(np.stack(nz).astype(float))
    eig = np.linalg.eigvalsh(cov)
    assert eig.max() / eig.min() < 1.15, eig


# ---- bad calls ----------------------------------------------------------------------------------

BAD = [
    (lambda: index_to_world([1, 2], (1, 1, 1), (0, 0, 0)), ValueError, r"^index: expected shape \(3,\) or \(M, 3\)"),
    (lambda: index_to_world("abc", (1, 1, 1), (0, 0, 0)), TypeError, r"^index: expected a float array"),
    (lambda: index_to_world([1, 2, 3], (1, 0, 1), (0, 0, 0)), ValueError, r"^spacing: expected every entry > 0"),
    (lambda: index_to_world([1, 2, 3], (1, 1), (0, 0, 0)), ValueError, r"^spacing: expected 3 numbers"),
    (lambda: index_to_world([1, 2, 3], (1, 1, 1), (0, 0)), ValueError, r"^origin: expected 3 numbers"),
    (lambda: index_to_world([1, 2, 3], (1, 1, 1), (0, 0, 0), np.ones((3, 3))), ValueError,
     r"^direction: expected an orthonormal matrix"),
    (lambda: index_to_world([1, 2, 3], (1, 1, 1), (0, 0, 0), np.eye(2)), ValueError, r"^direction: expected a 3x3"),
    (lambda: world_to_index(np.zeros((2, 4)), (1, 1, 1), (0, 0, 0)), ValueError, r"^point: expected shape"),
    (lambda: index_to_world([np.nan, 0, 0], (1, 1, 1), (0, 0, 0)), ValueError, r"^index: expected finite numbers"),
    (lambda: world_to_index([[0, 0, 0], [0, np.inf, 0]], (1, 1, 1), (0, 0, 0)), ValueError,
     r"^point: expected finite numbers"),
    (lambda: world_to_index([0, 0, 0], (1, -1, 1), (0, 0, 0)), ValueError, r"^spacing: expected every entry > 0"),
    (lambda: affine((1, 1, 1), (0, 0, np.nan)), ValueError, r"^origin: expected finite"),
    (lambda: affine_to_geometry(np.eye(3)), ValueError, r"^matrix: expected shape \(4, 4\)"),
    (lambda: affine_to_geometry(np.array([[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])),
     ValueError, r"^matrix: expected orthogonal columns"),
    (lambda: geometry_from_dicom([0.5], [0, 0, 0], [1, 0, 0, 0, 1, 0]), ValueError, r"^pixel_spacing: expected 2"),
    (lambda: geometry_from_dicom([0.5, 0], [0, 0, 0], [1, 0, 0, 0, 1, 0]), ValueError, r"^pixel_spacing: expected both"),
    (lambda: geometry_from_dicom([1, 1], [0, 0, 0], [1, 0, 0, 1, 0, 0]), ValueError, r"^image_orientation: expected two orthonormal"),
    (lambda: geometry_from_dicom([1, 1], [0, 0, 0], [1, 0, 0, 0, 1, 0], 0.0), ValueError, r"^slice_spacing: expected a number > 0"),
    (lambda: contiguous_strides((2, -1)), ValueError, r"^shape: expected an int >= 0"),
    (lambda: contiguous_strides((2, 1.5)), TypeError, r"^shape: expected an int"),
    (lambda: contiguous_strides((2, 3), itemsize=0), ValueError, r"^itemsize: expected an int >= 1"),
    (lambda: channels_last_strides((2, 3, 4)), ValueError, r"^shape: expected 4 dims"),
    (lambda: tensor_nbytes("abc"), TypeError, r"^shape: expected"),
    (lambda: kernel_extent(3, (1.0, 0.0, 1.0)), ValueError, r"^spacing: expected every entry > 0"),
    (lambda: kernel_extent((3, 3), (1.0, 1.0, 1.0)), ValueError, r"^kernel: expected an int or 3 ints"),
    (lambda: resample(np.zeros((4, 4, 4)), (1, 1), (1, 1, 1)), ValueError, r"^spacing: expected 3 entries"),
    (lambda: resample(np.zeros((4, 4, 4)), (1, 1, 1), (1, 0, 1)), ValueError, r"^new_spacing: expected every entry > 0"),
    (lambda: resample(np.zeros(4), (1,), (1,)), ValueError, r"^volume: expected 2 dims"),
    (lambda: resample(np.zeros((4, 4)), (1, 1), (1, 1), order=2), ValueError, r"^order: expected 0"),
    (lambda: resample(np.zeros((4, 4), dtype=bool), (1, 1), (1, 1), order=1), TypeError, r"^volume: expected a float32"),
    (lambda: lps_ras_flip(np.zeros((2, 2))), ValueError, r"^matrix_or_points: expected shape"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD)
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_inputs_not_mutated():
    idx = np.array([[1.0, 2.0, 3.0]])
    before = idx.copy()
    index_to_world(idx, (1, 2, 3), (4, 5, 6))
    vol = np.random.default_rng(0).random((4, 5, 6))
    vcopy = vol.copy()
    resample(vol, (2, 1, 1), (1, 1, 1))
    np.testing.assert_array_equal(idx, before)
    np.testing.assert_array_equal(vol, vcopy)


# ------------------------------------------------------------------------------------------
# Series of slices: order along the normal, spacing from positions (not SliceThickness)
# ------------------------------------------------------------------------------------------

def _series_datasets(name):
    import os

    import pydicom
    import pydicom.data

    from companion.data import CT_SERIES

    folder = os.path.join(os.path.dirname(pydicom.data.__file__), "test_files", CT_SERIES[name])
    return [pydicom.dcmread(os.path.join(folder, f)) for f in sorted(os.listdir(folder))]


@pytest.mark.filterwarnings("ignore:The DICOM readers are highly experimental:UserWarning")
def test_sort_slices_matches_nibabel_slice_indicator():
    """nibabel's DICOM wrapper uses the normal col x row = -(row x col): the same order reversed."""
    from nibabel.nicom import dicomwrappers

    from companion.geometry import sort_slices

    datasets = _series_datasets("CT5N")
    wrappers = [dicomwrappers.wrapper_from_data(ds) for ds in datasets]
    so = sort_slices([ds.ImagePositionPatient for ds in datasets], datasets[0].ImageOrientationPatient)
    np.testing.assert_allclose(wrappers[0].slice_normal, -so.normal, atol=1e-12)
    indicator = np.array([w.slice_indicator for w in wrappers])
    np.testing.assert_allclose(so.offsets, np.sort(-indicator), atol=1e-9)
    np.testing.assert_array_equal(so.order, np.argsort(-indicator))
    np.testing.assert_allclose(so.gaps, 2.5, atol=1e-4)


def test_geometry_from_series_real_ct():
    from companion.data import load_ct_series
    from companion.geometry import geometry_from_series

    series = load_ct_series("CT5N")  # instance order runs head -> feet (z decreasing)
    s, o, d, order = geometry_from_series(series[0].spacing, [c.origin for c in series], series[0].orientation)
    np.testing.assert_allclose(s, [2.5, 0.488281, 0.488281], atol=1e-4)
    np.testing.assert_allclose(o, series[-1].origin)  # the lowest slice comes first along +z
    assert order.tolist() == [4, 3, 2, 1, 0]
    np.testing.assert_allclose(d, np.eye(3))
    # each stacked slice sits where index_to_world puts it
    for k, i in enumerate(order):
        np.testing.assert_allclose(index_to_world([k, 0, 0], s, o, d), series[i].origin, atol=1e-4)
    # a gap (CT2: instances 18, 180, 181, 182) is detected, not papered over with SliceThickness
    gap = load_ct_series("CT2")
    with pytest.raises(ValueError, match=r"^image_positions: expected evenly spaced"):
        geometry_from_series(gap[0].spacing, [c.origin for c in gap], gap[0].orientation)


def test_sort_slices_oblique_by_hand():
    """An oblique stack listed in scrambled order: offsets are the distances along the normal."""
    from companion.geometry import geometry_from_series, sort_slices

    c, s_ = np.cos(0.3), np.sin(0.3)
    row, col = np.array([c, 0, -s_]), np.array([0, 1.0, 0])
    normal = np.cross(row, col)  # (s, 0, c)
    origin = np.array([10.0, -5.0, 3.0])
    positions = [origin + k * 1.5 * normal for k in (2, 0, 3, 1)]
    so = sort_slices(positions, [*row, *col])
    assert so.order.tolist() == [1, 3, 0, 2]
    np.testing.assert_allclose(so.gaps, 1.5, atol=1e-12)
    sp, o, d, _ = geometry_from_series([0.7, 0.7], positions, [*row, *col])
    np.testing.assert_allclose(o, origin, atol=1e-12)
    np.testing.assert_allclose(d[:, 2], normal, atol=1e-12)
    assert np.isclose(np.linalg.det(d), 1.0) and sp[0] == pytest.approx(1.5)


SERIES_BAD_CALLS = [
    (lambda g: g.sort_slices([[0, 0]], [1, 0, 0, 0, 1, 0]), ValueError, r"^image_positions: expected shape"),
    (lambda g: g.sort_slices([[0, 0, 0]], [1, 0, 0, 1, 0, 0]), ValueError, r"^image_orientation: expected two orthonormal"),
    (lambda g: g.geometry_from_series([1, 1], [[0, 0, 0]], [1, 0, 0, 0, 1, 0]), ValueError, r"^image_positions: expected at least 2"),
    (lambda g: g.geometry_from_series([1, 1], [[0, 0, 0], [0, 0, 0]], [1, 0, 0, 0, 1, 0]), ValueError, r"^image_positions: expected distinct"),
    (lambda g: g.geometry_from_series([1, 1], [[0, 0, 0], [3, 0, 1], [6, 0, 2]], [1, 0, 0, 0, 1, 0]), ValueError, r"^image_positions: expected slices stacked"),
]


@pytest.mark.parametrize("call, exc, match", SERIES_BAD_CALLS)
def test_series_bad_calls(call, exc, match):
    import companion.geometry as g

    with pytest.raises(exc, match=match):
        call(g)
