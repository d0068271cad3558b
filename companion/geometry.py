"""Voxel indices and physical space; tensor layouts in memory.

A medical volume is a grid of samples of a patient, not an abstract array. Three numbers per axis
place it in the scanner's world frame (millimetres): the *spacing* between samples, the *origin*
(the world position of voxel ``(0, 0, 0)``) and the *direction* of each axis. This module maps
indices to world points and back, builds the 4×4 affine, reads that geometry from DICOM tags and
NIfTI affines, resamples a volume to a new spacing, and computes the memory strides of the
channels-first and channels-last layouts that PyTorch uses.

Conventions (the contract of ``companion.geometry``)
----------------------------------------------------
* index order is the array's ``(d, h, w)``; world order is ``(x, y, z)``;
* spacing is given in array order ``(s_d, s_h, s_w)``, in mm;
* direction is a 3×3 matrix whose **columns** are the unit world directions of the w, h and d
  axes (the ITK convention), the identity by default;
* ``p = origin + direction @ (w * s_w, h * s_h, d * s_d)``.

The world frame itself is whatever the source uses: LPS+ for DICOM and ITK, RAS+ for NIfTI
(nibabel); :func:`lps_ras_flip` converts between them.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_float_array, as_int, as_real, as_tuple

__all__ = [
    "LPS_RAS", "index_to_world", "world_to_index", "affine", "affine_to_geometry",
    "geometry_from_dicom", "SliceOrder", "sort_slices", "geometry_from_series", "lps_ras_flip", "contiguous_strides", "channels_last_strides",
    "tensor_nbytes", "kernel_extent", "resample",
]

#: Homogeneous matrix that turns LPS+ world coordinates into RAS+ ones (and back: it is its own
#: inverse): x and y change sign, z stays.
LPS_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])

_ORTHO_TOL = 1e-6


# --------------------------------------------------------------------------------------------
# Private checkers
# --------------------------------------------------------------------------------------------

def _vector3(v: Any, name: str, *, positive: bool = False) -> np.ndarray:
    arr = as_float_array(v, name).astype(np.float64)
    if arr.shape != (3,):
        raise ValueError(f"{name}: expected 3 numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite numbers, got {arr.tolist()}")
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name}: expected every entry > 0 (mm), got {arr.tolist()}")
    return arr


def _direction(direction: Any) -> np.ndarray:
    if direction is None:
        return np.eye(3)
    d = as_float_array(direction, "direction").astype(np.float64)
    if d.shape != (3, 3):
        raise ValueError(f"direction: expected a 3x3 matrix, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError("direction: expected finite entries, got nan or inf")
    err = float(np.max(np.abs(d.T @ d - np.eye(3))))
    if err > _ORTHO_TOL:
        raise ValueError(f"direction: expected an orthonormal matrix (D.T @ D = I to 1e-6), "
                         f"got a deviation of {err:.2e}")
    return d


def _points(p: Any, name: str) -> tuple[np.ndarray, bool]:
    arr = as_float_array(p, name)
    if arr.shape != (3,) and not (arr.ndim == 2 and arr.shape[1] == 3):
        raise ValueError(f"{name}: expected shape (3,) or (M, 3), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite numbers, got nan or inf")
    return arr, arr.shape == (3,)


def _shape(shape: Any, name: str) -> tuple[int, ...]:
    if isinstance(shape, (numbers.Integral, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) and not (hasattr(shape, "__iter__") and not isinstance(shape, (str, bytes))):
        raise TypeError(f"{name}: expected a tuple of ints, got {type(shape).__name__}")
    return tuple(as_int(s, name, minimum=0) for s in shape)


def _itemsize(itemsize: Any) -> int:
    if isinstance(itemsize, (np.dtype, type)) or isinstance(itemsize, str):
        try:
            return np.dtype(itemsize).itemsize
        except TypeError:
            raise TypeError(f"itemsize: expected an int or a NumPy dtype, got {itemsize!r}") from None
    return as_int(itemsize, "itemsize", minimum=1)


# --------------------------------------------------------------------------------------------
# Index <-> world
# --------------------------------------------------------------------------------------------

def affine(spacing: Sequence[float], origin: Sequence[float],
           direction: Any = None) -> np.ndarray:
    """The 4×4 matrix that maps homogeneous ``(w, h, d, 1)`` to world ``(x, y, z, 1)``.

    ``A = [[D @ diag(s_w, s_h, s_d), o], [0, 0, 0, 1]]``.

    Parameters
    ----------
    spacing : sequence of 3 floats
        ``(s_d, s_h, s_w)`` in mm, array order; every entry > 0.
    origin : sequence of 3 floats
        World position ``(x, y, z)`` of voxel ``(0, 0, 0)``.
    direction : (3, 3) array_like, optional
        Columns are the world directions of the w, h and d axes; orthonormal; identity if None.

    Returns
    -------
    ndarray of float64, shape (4, 4)

    Shapes
    ------
    spacing, origin : (3,);  direction : (3, 3);  result : (4, 4)

    Raises
    ------
    ValueError
        If `spacing` has an entry <= 0, a vector is not of length 3, or `direction` is not
        orthonormal.

    See Also
    --------
    index_to_world, affine_to_geometry

    Notes
    -----
    The columns are ordered (w, h, d) so that, for an array read from a NIfTI file with nibabel
    and transposed to ``(d, h, w)`` (``data.T``), this matrix *is* nibabel's ``img.affine``:
    nibabel's first index ``i`` is our ``w``.

    Examples
    --------
    >>> affine((5.0, 0.7, 0.7), (0.0, 0.0, 0.0))[:3, :3].diagonal().tolist()
    [0.7, 0.7, 5.0]
    """
    s = _vector3(spacing, "spacing", positive=True)
    o = _vector3(origin, "origin")
    d = _direction(direction)
    out = np.eye(4)
    out[:3, :3] = d * s[::-1][None, :]
    out[:3, 3] = o
    return out


def index_to_world(index: Any, spacing: Sequence[float], origin: Sequence[float],
                   direction: Any = None) -> np.ndarray:
    """World coordinates of voxel indices: ``p = o + D @ (w s_w, h s_h, d s_d)``.

    Parameters
    ----------
    index : array_like, shape (3,) or (M, 3)
        Voxel indices ``(d, h, w)`` in array order; fractional values are allowed (sub-voxel
        positions, e.g. the centre of a box).
    spacing, origin, direction
        As in :func:`affine`.

    Returns
    -------
    ndarray
        World points ``(x, y, z)``, same shape as `index`; float32 stays float32, anything else
        becomes float64.

    Shapes
    ------
    index : (3,) or (M, 3);  result : same

    Raises
    ------
    TypeError
        If `index` is not numeric.
    ValueError
        If `index` is not (3,) or (M, 3) or holds nan/inf, or the geometry is invalid (see
        :func:`affine`).

    See Also
    --------
    world_to_index

    Examples
    --------
    >>> index_to_world([2, 1, 3], (5.0, 0.7, 0.7), (-100.0, -100.0, 0.0)).round(6).tolist()
    [-97.9, -99.3, 10.0]
    """
    idx, single = _points(index, "index")
    a = affine(spacing, origin, direction)
    whd = idx.astype(np.float64)[..., ::-1]
    out = whd @ a[:3, :3].T + a[:3, 3]
    return out.astype(idx.dtype)


def world_to_index(point: Any, spacing: Sequence[float], origin: Sequence[float],
                   direction: Any = None) -> np.ndarray:
    """Fractional voxel index ``(d, h, w)`` of world points: the inverse of :func:`index_to_world`.

    ``(w, h, d) = diag(1/s_w, 1/s_h, 1/s_d) @ D^{-1} @ (p - o)``, solved as a 3×3 linear system,
    so ``world_to_index(index_to_world(i)) == i`` to rounding error. Round the result to get the
    nearest voxel.

    Parameters
    ----------
    point : array_like, shape (3,) or (M, 3)
        World points ``(x, y, z)``.
    spacing, origin, direction
        As in :func:`affine`.

    Returns
    -------
    ndarray
        Fractional indices ``(d, h, w)``, same shape and float dtype rule as
        :func:`index_to_world`.

    Shapes
    ------
    point : (3,) or (M, 3);  result : same

    Raises
    ------
    TypeError, ValueError
        As in :func:`index_to_world`, naming `point`.

    Examples
    --------
    >>> world_to_index([-97.9, -99.3, 10.0], (5.0, 0.7, 0.7), (-100.0, -100.0, 0.0)).round(6).tolist()
    [2.0, 1.0, 3.0]
    """
    pts, single = _points(point, "point")
    a = affine(spacing, origin, direction)
    rel = (pts.astype(np.float64) - a[:3, 3]).reshape(-1, 3)
    whd = np.linalg.solve(a[:3, :3], rel.T).T
    out = whd[:, ::-1].reshape(pts.shape)
    return out.astype(pts.dtype)


def affine_to_geometry(matrix: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split a 4×4 voxel-to-world affine into ``(spacing, origin, direction)``.

    The inverse of :func:`affine`: ``spacing`` (array order ``(s_d, s_h, s_w)``) holds the column
    norms of the 3×3 block (read right to left), ``direction`` the normalised columns, ``origin``
    the translation. Use it on nibabel's ``img.affine`` with the data transposed to ``(d, h, w)``.

    Parameters
    ----------
    matrix : (4, 4) array_like
        Maps homogeneous ``(w, h, d, 1)`` (nibabel: ``(i, j, k, 1)``) to world.

    Returns
    -------
    spacing, origin : ndarray of float64, shape (3,)
    direction : ndarray of float64, shape (3, 3)

    Shapes
    ------
    matrix : (4, 4)

    Raises
    ------
    ValueError
        If `matrix` is not 4×4 with last row ``(0, 0, 0, 1)``, has a zero column, or its columns
        are not orthogonal (a sheared grid has no spacing/direction split).

    Examples
    --------
    >>> s, o, d = affine_to_geometry(affine((5.0, 0.7, 0.7), (1.0, 2.0, 3.0)))
    >>> s.round(6).tolist(), o.tolist()
    ([5.0, 0.7, 0.7], [1.0, 2.0, 3.0])
    """
    m = as_float_array(matrix, "matrix").astype(np.float64)
    if m.shape != (4, 4):
        raise ValueError(f"matrix: expected shape (4, 4), got {m.shape}")
    if not np.allclose(m[3], [0, 0, 0, 1]):
        raise ValueError(f"matrix: expected last row (0, 0, 0, 1), got {m[3].tolist()}")
    block = m[:3, :3]
    norms = np.linalg.norm(block, axis=0)
    if np.any(norms == 0):
        raise ValueError("matrix: expected non-zero columns (a voxel axis of zero length)")
    direction = block / norms
    err = float(np.max(np.abs(direction.T @ direction - np.eye(3))))
    if err > 1e-5:
        raise ValueError(f"matrix: expected orthogonal columns (no shear), got a deviation of {err:.2e}")
    return norms[::-1].copy(), m[:3, 3].copy(), direction


def geometry_from_dicom(pixel_spacing: Sequence[float], image_position: Sequence[float],
                        image_orientation: Sequence[float],
                        slice_spacing: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spacing, origin and direction (LPS+) of a DICOM slice from its tags.

    * ``PixelSpacing`` (0028,0030) is ``[row spacing, column spacing]``: the distance between
      adjacent **rows** (a step along h) first, then between adjacent **columns** (a step along
      w). So ``s_h = PixelSpacing[0]`` and ``s_w = PixelSpacing[1]`` — not (x, y).
    * ``ImageOrientationPatient`` (0020,0037) holds two unit vectors: the world direction in which
      the column index grows along a row (our w axis), then the direction in which the row index
      grows down a column (our h axis). The slice normal, their cross product, is the d axis.
    * ``ImagePositionPatient`` (0020,0032) is the world position of the centre of the first
      transmitted voxel: the origin.

    Parameters
    ----------
    pixel_spacing : sequence of 2 floats
        The ``PixelSpacing`` tag, ``[row spacing, column spacing]`` in mm, both > 0.
    image_position : sequence of 3 floats
        The ``ImagePositionPatient`` tag, LPS+ mm.
    image_orientation : sequence of 6 floats
        The ``ImageOrientationPatient`` tag: two orthonormal direction cosines.
    slice_spacing : float, default 1.0
        Distance between slices (from the positions of adjacent slices; ``SliceThickness`` is
        not always the same thing), > 0.

    Returns
    -------
    spacing : ndarray, shape (3,)
        ``(slice_spacing, PixelSpacing[0], PixelSpacing[1])``.
    origin : ndarray, shape (3,)
    direction : ndarray, shape (3, 3)
        Columns: row direction (w), column direction (h), normal (d); LPS+.

    Shapes
    ------
    pixel_spacing : (2,);  image_position : (3,);  image_orientation : (6,)

    Raises
    ------
    ValueError
        If a tag has the wrong length, a spacing is <= 0, or the two cosines are not
        orthonormal.

    References
    ----------
    DICOM PS3.3, section C.7.6.2.1.1 (Image Position and Image Orientation).

    Examples
    --------
    >>> s, o, d = geometry_from_dicom([0.5, 0.8], [-100, -120, 30], [1, 0, 0, 0, 1, 0], 5.0)
    >>> s.tolist()
    [5.0, 0.5, 0.8]
    """
    ps = as_float_array(pixel_spacing, "pixel_spacing").astype(np.float64)
    if ps.shape != (2,):
        raise ValueError(f"pixel_spacing: expected 2 numbers [row, column], got shape {ps.shape}")
    if not np.all(np.isfinite(ps)) or np.any(ps <= 0):
        raise ValueError(f"pixel_spacing: expected both entries > 0 (mm), got {ps.tolist()}")
    origin = _vector3(image_position, "image_position")
    row, col = _orientation(image_orientation)
    slice_spacing = as_real(slice_spacing, "slice_spacing", positive=True, expected="a number (mm)")
    direction = np.stack([row, col, np.cross(row, col)], axis=1)
    spacing = np.array([float(slice_spacing), ps[0], ps[1]])
    return spacing, origin, direction


class SliceOrder(NamedTuple):
    """How the slices of a DICOM series lie along their normal (see :func:`sort_slices`).

    Attributes
    ----------
    order : ndarray of int, shape (M,)
        Indices that put the slices in increasing position along `normal`.
    normal : ndarray, shape (3,)
        ``row x col`` of ``ImageOrientationPatient``: the d axis of :func:`geometry_from_dicom`.
    offsets : ndarray, shape (M,)
        ``position . normal`` of each slice, in sorted order (mm, increasing).
    gaps : ndarray, shape (M - 1,)
        Distances between adjacent sorted slices (mm): the slice spacing, slice by slice.
    """

    order: np.ndarray
    normal: np.ndarray
    offsets: np.ndarray
    gaps: np.ndarray


def _orientation(image_orientation: Any) -> tuple[np.ndarray, np.ndarray]:
    iop = as_float_array(image_orientation, "image_orientation").astype(np.float64)
    if iop.shape != (6,):
        raise ValueError(f"image_orientation: expected 6 numbers, got shape {iop.shape}")
    row, col = iop[:3], iop[3:]
    dev = max(abs(row @ row - 1), abs(col @ col - 1), abs(row @ col))
    if not np.isfinite(dev) or dev > _ORTHO_TOL:
        raise ValueError(f"image_orientation: expected two orthonormal cosines, got a deviation of {dev:.2e}")
    return row, col


def sort_slices(image_positions: Any, image_orientation: Sequence[float]) -> SliceOrder:
    """Order the slices of a series along their normal, and measure the gaps between them.

    The slice normal ``n = row x col`` (cross product of the two ``ImageOrientationPatient``
    cosines) is defined only up to the order of the product: ``col x row = -n`` is as good a
    normal (nibabel's DICOM wrapper uses it). Neither the file names nor ``InstanceNumber`` give
    the order in space; the position of each slice along the normal, ``ImagePositionPatient . n``,
    does. Sorting by it makes the d axis point along ``+n``, so that ``(row, col, n)`` is the
    direction matrix and the slice spacing is the difference of adjacent sorted positions —
    which is not ``SliceThickness`` (slices may overlap or leave gaps).

    Parameters
    ----------
    image_positions : array_like, shape (M, 3)
        ``ImagePositionPatient`` of each slice (any order), mm.
    image_orientation : sequence of 6 floats
        ``ImageOrientationPatient``, shared by all slices.

    Returns
    -------
    SliceOrder
        ``(order, normal, offsets, gaps)``.

    Shapes
    ------
    image_positions : (M, 3);  order, offsets : (M,);  gaps : (M - 1,)

    Raises
    ------
    ValueError
        If `image_positions` is not (M, 3) with M >= 1, or the cosines are not orthonormal.

    References
    ----------
    DICOM PS3.3, C.7.6.2.1.1; the position along the normal is nibabel's ``slice_indicator``.

    Examples
    --------
    >>> so = sort_slices([[0, 0, 5.0], [0, 0, -2.5], [0, 0, 0.0]], [1, 0, 0, 0, 1, 0])
    >>> so.order.tolist(), so.offsets.tolist(), so.gaps.tolist()
    ([1, 2, 0], [-2.5, 0.0, 5.0], [2.5, 5.0])
    """
    pos = as_float_array(image_positions, "image_positions").astype(np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3 or pos.shape[0] < 1:
        raise ValueError(f"image_positions: expected shape (M, 3) with M >= 1, got {pos.shape}")
    if not np.all(np.isfinite(pos)):
        raise ValueError("image_positions: expected finite numbers, got nan or inf")
    row, col = _orientation(image_orientation)
    normal = np.cross(row, col)
    along = pos @ normal
    order = np.argsort(along, kind="stable")
    offsets = along[order]
    return SliceOrder(order=order, normal=normal, offsets=offsets, gaps=np.diff(offsets))


def geometry_from_series(pixel_spacing: Sequence[float], image_positions: Any,
                         image_orientation: Sequence[float], *,
                         rtol: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Spacing, origin, direction (LPS+) and slice order of a DICOM series of parallel slices.

    The slices are sorted along the normal (:func:`sort_slices`); the slice spacing is the gap
    between adjacent sorted slices (never ``SliceThickness``); the origin is the position of the
    first sorted slice; the direction is ``(row, col, row x col)`` as in
    :func:`geometry_from_dicom`. Stacking ``[slices[i] for i in order]`` gives a ``(d, h, w)``
    volume that this geometry describes.

    Parameters
    ----------
    pixel_spacing : sequence of 2 floats
        ``PixelSpacing``, ``[row spacing, column spacing]`` in mm.
    image_positions : array_like, shape (M, 3), M >= 2
        ``ImagePositionPatient`` of each slice, in any order.
    image_orientation : sequence of 6 floats
        ``ImageOrientationPatient`` (shared by all slices).
    rtol : float, default 0.01
        Largest accepted relative deviation of a gap from the median gap.

    Returns
    -------
    spacing : ndarray, shape (3,)
        ``(median gap, PixelSpacing[0], PixelSpacing[1])``.
    origin : ndarray, shape (3,)
        Position of the first slice along the normal.
    direction : ndarray, shape (3, 3)
        Columns w, h, d; a rotation (determinant +1).
    order : ndarray of int, shape (M,)
        The slice indices in stacking order.

    Shapes
    ------
    image_positions : (M, 3)

    Raises
    ------
    ValueError
        If fewer than 2 slices are given, two slices share a position, the gaps differ by more
        than `rtol` (missing slices), or the positions do not lie on one line along the normal
        (a sheared stack, e.g. gantry tilt).

    Examples
    --------
    >>> s, o, d, order = geometry_from_series([0.5, 0.5], [[0, 0, 5.0], [0, 0, 0.0], [0, 0, 2.5]],
    ...                                       [1, 0, 0, 0, 1, 0])
    >>> s.tolist(), o.tolist(), order.tolist()
    ([2.5, 0.5, 0.5], [0.0, 0.0, 0.0], [1, 2, 0])
    """
    so = sort_slices(image_positions, image_orientation)
    rtol = float(rtol)
    if not np.isfinite(rtol) or rtol <= 0:
        raise ValueError(f"rtol: expected a number > 0, got {rtol}")
    if len(so.order) < 2:
        raise ValueError(f"image_positions: expected at least 2 slices, got {len(so.order)}")
    if np.any(so.gaps <= 1e-6):
        raise ValueError("image_positions: expected distinct slice positions along the normal, "
                         f"got gaps {np.round(so.gaps, 4).tolist()} mm")
    median = float(np.median(so.gaps))
    if np.max(np.abs(so.gaps - median)) > rtol * median:
        raise ValueError(f"image_positions: expected evenly spaced slices, got gaps "
                         f"{np.round(so.gaps, 4).tolist()} mm (missing slices?)")
    pos = np.asarray(image_positions, dtype=np.float64)[so.order]
    off_line = pos - pos[0] - np.outer(so.offsets - so.offsets[0], so.normal)
    if np.max(np.abs(off_line)) > rtol * median:
        raise ValueError("image_positions: expected slices stacked along the normal, got an in-plane "
                         f"shift of up to {np.max(np.abs(off_line)):.3g} mm (sheared stack)")
    spacing, origin, direction = geometry_from_dicom(pixel_spacing, pos[0], image_orientation, median)
    return spacing, origin, direction, so.order


def lps_ras_flip(matrix_or_points: Any) -> np.ndarray:
    """Convert between LPS+ (DICOM, ITK) and RAS+ (NIfTI, nibabel) world coordinates.

    Both frames share the z axis (superior); x and y change sign. The map is its own inverse.
    A 4×4 affine is multiplied on the left by ``diag(-1, -1, 1, 1)``; points have x and y negated.

    Parameters
    ----------
    matrix_or_points : array_like, shape (4, 4), (3,) or (M, 3)

    Returns
    -------
    ndarray of the same shape (float64, or float32 for float32 points)

    Shapes
    ------
    matrix_or_points : (4, 4), (3,) or (M, 3);  result : same

    Raises
    ------
    ValueError
        If the shape is none of the above.

    Examples
    --------
    >>> lps_ras_flip([10.0, -20.0, 30.0]).tolist()
    [-10.0, 20.0, 30.0]
    """
    arr = as_float_array(matrix_or_points, "matrix_or_points")
    if arr.shape == (4, 4):
        return LPS_RAS @ arr
    if arr.shape == (3,) or (arr.ndim == 2 and arr.shape[1] == 3):
        return arr * np.array([-1, -1, 1], dtype=arr.dtype)
    raise ValueError(f"matrix_or_points: expected shape (4, 4), (3,) or (M, 3), got {arr.shape}")


# --------------------------------------------------------------------------------------------
# Memory layout
# --------------------------------------------------------------------------------------------

def contiguous_strides(shape: Sequence[int], itemsize: int = 1) -> tuple[int, ...]:
    """Strides of a C-contiguous (row-major) array: ``stride[i] = prod(shape[i+1:])``.

    Equal to ``torch.empty(shape).stride()`` (element strides; times `itemsize` for bytes, as
    NumPy's ``.strides``). Like torch, a size-0 axis counts as size 1 in the products.

    Parameters
    ----------
    shape : sequence of int >= 0
    itemsize : int or dtype, default 1
        Bytes per element (4 for float32), or 1 for element strides.

    Returns
    -------
    tuple of int

    Shapes
    ------
    shape : any length;  result : same length

    Raises
    ------
    TypeError, ValueError
        If `shape` is not a sequence of ints >= 0 or `itemsize` is not an int >= 1.

    Examples
    --------
    >>> contiguous_strides((2, 3, 4, 5, 6))          # (N, C, D, H, W)
    (360, 120, 30, 6, 1)
    """
    dims = _shape(shape, "shape")
    size = _itemsize(itemsize)
    out, acc = [], 1
    for n in reversed(dims):
        out.append(acc * size)
        acc *= max(n, 1)
    return tuple(reversed(out))


def channels_last_strides(shape: Sequence[int], itemsize: int = 1) -> tuple[int, ...]:
    """Strides of a channels-last tensor, indexed in the logical ``(N, C, H, W)`` / ``(N, C, D, H, W)`` order.

    The memory holds ``(N, H, W, C)`` (or ``(N, D, H, W, C)``) contiguously, so C has stride 1 and
    W has stride C. Equal to ``torch.empty(shape, memory_format=torch.channels_last).stride()``
    (``channels_last_3d`` for 5 dims), size-0 and size-1 axes included.

    Parameters
    ----------
    shape : sequence of 4 or 5 ints >= 0
    itemsize : int or dtype, default 1

    Returns
    -------
    tuple of int

    Shapes
    ------
    shape : (N, C, H, W) or (N, C, D, H, W);  result : same length

    Raises
    ------
    ValueError
        If `shape` does not have 4 or 5 entries.

    Examples
    --------
    >>> channels_last_strides((2, 3, 4, 5, 6))
    (360, 1, 90, 18, 3)
    """
    dims = _shape(shape, "shape")
    if len(dims) not in (4, 5):
        raise ValueError(f"shape: expected 4 dims (N, C, H, W) or 5 dims (N, C, D, H, W), got {len(dims)}")
    size = _itemsize(itemsize)
    strides = [0] * len(dims)
    strides[1] = 1
    acc = dims[1]
    for axis in range(len(dims) - 1, 1, -1):  # W, H, (D)
        strides[axis] = acc
        acc *= dims[axis]
    strides[0] = acc
    return tuple(s * size for s in strides)


def tensor_nbytes(shape: Sequence[int], itemsize: Any = 4) -> int:
    """Bytes needed to store a dense tensor: ``prod(shape) * itemsize``.

    Parameters
    ----------
    shape : sequence of int >= 0
    itemsize : int or dtype, default 4
        Bytes per element (float32: 4, float16: 2, float64: 8) or a NumPy dtype.

    Returns
    -------
    int

    Shapes
    ------
    shape : any length;  result : scalar

    Raises
    ------
    TypeError, ValueError
        As in :func:`contiguous_strides`.

    Examples
    --------
    >>> tensor_nbytes((300, 512, 512)) / 2**20   # one CT volume in float32, MiB
    300.0
    """
    dims = _shape(shape, "shape")
    return int(math.prod(dims)) * _itemsize(itemsize)


def kernel_extent(kernel: Any, spacing: Sequence[float], dilation: Any = 1) -> np.ndarray:
    """Physical size (mm) of the block of voxels a kernel covers, per axis.

    ``extent = (dilation * (k - 1) + 1) * s``: the voxel count spanned by the (dilated) kernel,
    each voxel ``s`` mm wide. (The distance between the centres of its outermost taps is ``s``
    smaller: ``dilation * (k - 1) * s``.)

    Parameters
    ----------
    kernel : int or sequence of int
        Kernel size per axis, array order; an int applies to every axis of `spacing`.
    spacing : sequence of float
        ``(s_d, s_h, s_w)`` (or 2 entries for a 2-D kernel), all > 0.
    dilation : int or sequence of int, default 1

    Returns
    -------
    ndarray of float64, shape (len(spacing),)

    Shapes
    ------
    spacing : (n,) (n = 3 for (s_d, s_h, s_w));  kernel, dilation : int or (n,);  result : (n,)

    Raises
    ------
    TypeError
        If `kernel` or `dilation` is not an int or a tuple of ints, or `spacing` is not numeric.
    ValueError
        If a spacing is <= 0 or not finite, or the lengths disagree.

    Examples
    --------
    >>> kernel_extent(3, (5.0, 0.7, 0.7)).round(6).tolist()   # a 3×3×3 kernel on thick slices
    [15.0, 2.1, 2.1]
    """
    s = as_float_array(spacing, "spacing", ndim=1).astype(np.float64)
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"spacing: expected every entry > 0 (mm), got {s.tolist()}")
    k = np.array(as_tuple(kernel, s.size, "kernel", minimum=1))
    dil = np.array(as_tuple(dilation, s.size, "dilation", minimum=1))
    return (dil * (k - 1) + 1) * s


# --------------------------------------------------------------------------------------------
# Resampling
# --------------------------------------------------------------------------------------------

def _linear_along(a: np.ndarray, coords: np.ndarray, axis: int) -> np.ndarray:
    n = a.shape[axis]
    lo = np.clip(np.floor(coords).astype(np.int64), 0, max(n - 2, 0))
    hi = np.minimum(lo + 1, n - 1)
    t = (coords - lo).astype(a.dtype)
    shape = [1] * a.ndim
    shape[axis] = -1
    t = t.reshape(shape)
    return np.take(a, lo, axis=axis) * (1 - t) + np.take(a, hi, axis=axis) * t


def resample(volume: Any, spacing: Sequence[float], new_spacing: Sequence[float],
             order: int = 1) -> np.ndarray:
    """Resample a volume (or image) to a new voxel spacing, keeping its physical extent and origin.

    Output voxel ``j`` along an axis sits at ``j * s_new`` mm, i.e. at input index
    ``j * s_new / s``; the output has ``floor((n - 1) * s / s_new) + 1`` samples along that axis,
    so every sample lies inside the input (no extrapolation). Voxel 0 keeps its world position,
    so the origin and direction are unchanged.

    * ``order=1``: separable linear interpolation (trilinear in 3-D), written in NumPy here;
      equal to ``scipy.ndimage.map_coordinates(..., order=1)``.
    * ``order=0``: nearest neighbour (the right choice for label maps; integer and bool
      arrays are allowed and keep their dtype).
    * ``order=3``: cubic B-spline via ``scipy.ndimage.affine_transform``.

    Parameters
    ----------
    volume : ndarray, shape (D, H, W) or (H, W)
        float32 or float64 (any dtype for ``order=0``).
    spacing, new_spacing : sequence of float
        Old and new spacing, array order, one entry per axis of `volume`, all > 0 (mm).
    order : {0, 1, 3}, default 1

    Returns
    -------
    ndarray
        The resampled volume, in the dtype of `volume`.

    Shapes
    ------
    volume : (*S);  result : (*S') with ``S'_i = floor((S_i - 1) s_i / s'_i) + 1``

    Raises
    ------
    TypeError
        If `volume` is not real numeric data (bool, complex, strings and objects are refused;
        integers become float64 for ``order`` 1 or 3).
    ValueError
        If `volume` is not 2-D or 3-D, a spacing is <= 0 or has the wrong length, or `order`
        is not 0, 1 or 3.

    See Also
    --------
    scipy.ndimage.zoom, scipy.ndimage.map_coordinates

    References
    ----------
    nnU-Net resamples every case to a common target spacing (Isensee et al. 2021, ``isensee2021nnunet``).

    Examples
    --------
    >>> v = np.arange(3.0)[:, None, None] * np.ones((3, 2, 2))
    >>> resample(v, (2.0, 1.0, 1.0), (1.0, 1.0, 1.0))[:, 0, 0].tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0]
    """
    order = as_int(order, "order")
    if order not in (0, 1, 3):
        raise ValueError(f"order: expected 0 (nearest), 1 (linear) or 3 (cubic), got {order}")
    if order == 0:
        vol = np.asarray(volume)
        if vol.dtype.kind not in "biuf":
            raise TypeError(f"volume: expected a numeric array, got dtype {vol.dtype}")
    else:
        vol = as_float_array(volume, "volume")
    if vol.ndim not in (2, 3):
        raise ValueError(f"volume: expected 2 dims (H, W) or 3 dims (D, H, W), got {vol.ndim} (shape {vol.shape})")
    if min(vol.shape) < 1:
        raise ValueError(f"volume: expected a non-empty array, got shape {vol.shape}")
    spacings = []
    for name, sp in (("spacing", spacing), ("new_spacing", new_spacing)):
        s = as_float_array(sp, name, ndim=1).astype(np.float64)
        if s.size != vol.ndim:
            raise ValueError(f"{name}: expected {vol.ndim} entries (one per axis of volume), got {s.size}")
        if not np.all(np.isfinite(s)) or np.any(s <= 0):
            raise ValueError(f"{name}: expected every entry > 0 (mm), got {s.tolist()}")
        spacings.append(s)
    s_old, s_new = spacings
    ratio = s_new / s_old
    new_shape = [int(np.floor((n - 1) / r + 1e-9)) + 1 for n, r in zip(vol.shape, ratio)]
    coords = [np.arange(m) * r for m, r in zip(new_shape, ratio)]
    if order == 3:
        from scipy import ndimage
        return ndimage.affine_transform(vol, ratio, output_shape=tuple(new_shape), order=3,
                                        mode="nearest").astype(vol.dtype)
    out = vol
    for axis, c in enumerate(coords):
        c = np.minimum(c, vol.shape[axis] - 1)  # rounding guard at the last sample
        if order == 0:
            idx = np.floor(c + 0.5).astype(np.int64)
            out = np.take(out, np.minimum(idx, vol.shape[axis] - 1), axis=axis)
        else:
            out = _linear_along(out, c, axis)
    return out.astype(vol.dtype, copy=False)
