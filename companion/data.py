"""Seeded synthetic phantoms, and the real medical images that installed packages ship.

Nothing here touches the network: the synthetic data are drawn from a seeded generator in well
under a second, and the real samples are the files bundled inside pydicom
(``CT_small.dcm``, ``MR_small.dcm``) and nibabel (``tests/data/anatomical.nii``).

=========================  ================================================================
``phantom_2d``             a body-like 2-D slice with organs, texture and round lesions
``phantom_3d``             the same in 3-D on an anisotropic grid; lesions round in mm
``segmentation_dataset``   a torch ``Dataset`` of 2-D phantoms (disjoint samples per seed)
``load_ct_slice``          pydicom's CT sample in Hounsfield units, with its geometry
``load_mr_slice``          pydicom's MR sample, with its geometry
``load_ct_series``         small real CT series bundled with pydicom (several slices each)
``load_nifti_example``     nibabel's anatomical volume and its affine
=========================  ================================================================

Intensities of the phantoms are normalised (background 0, soft tissue 0.3-0.6, lesions 0.85-1),
not Hounsfield units; the masks are binary: 1 = lesion, 0 = everything else (background, body,
organs). The lesions are brighter than every other structure by at least 0.2, i.e. four times
the default noise level, so a small U-Net separates them within a few epochs -- and so does a
global threshold (Dice ~1). ``realistic=True`` (:func:`phantom_2d`, :func:`segmentation_dataset`)
draws phantoms a threshold cannot segment: lesions at the intensity of normal tissue, told apart
only by a bright rim or a fine texture, a bright organ at the level of the rims, lesions touching
organs, a smooth multiplicative bias field and Rician noise.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np

from companion._validation import as_bool, as_choice, as_int, as_positive_float

__all__ = [
    "BRAIN_LABELS",
    "ImageSlice",
    "load_brain_probabilities",
    "load_brain_tissue",
    "load_ct_series",
    "load_ct_slice",
    "load_mr_slice",
    "load_nifti_example",
    "phantom_2d",
    "phantom_3d",
    "segmentation_dataset",
]

# Intensity levels of the phantoms (normalised units).
_BODY = 0.45
_ORGANS = (0.30, 0.60)
_TEXTURE = 0.03
_LESION_RANGE = (0.85, 1.0)


# --------------------------------------------------------------------------------------------
# Private helpers
# --------------------------------------------------------------------------------------------

def _check_seed(seed: Any) -> int:
    return as_int(seed, "seed", minimum=0)


def _check_flag(v: Any, name: str) -> bool:
    return as_bool(v, name, expected="True or False")


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: tuple[float, ...]) -> np.ndarray:
    """Zero-mean, unit-peak low-frequency noise (white noise blurred by a Gaussian)."""
    from scipy.ndimage import gaussian_filter

    field = gaussian_filter(rng.standard_normal(shape), sigma=sigma, mode="wrap")
    return field / max(np.abs(field).max(), 1e-12)


def _place_balls(
    rng: np.random.Generator,
    n: int,
    radius_range: tuple[float, float],
    inside: np.ndarray,
    coords: tuple[np.ndarray, ...],
    gap: float,
    arg: str,
) -> list[tuple[np.ndarray, float]]:
    """Draw `n` non-touching balls (centre in physical units, radius) lying inside the mask `inside`.

    `coords` are the physical coordinates of every grid point (one array per axis), so balls are
    round in physical units whatever the grid spacing. Rejection sampling with a bounded number of
    tries; raises ValueError naming `arg` when the balls do not fit.
    """
    candidates = np.argwhere(inside)
    best: list[tuple[np.ndarray, float]] = []
    for _restart in range(40):  # greedy placement, restarted when it paints itself into a corner
        balls: list[tuple[np.ndarray, float]] = []
        for _ in range(60 * max(n, 1)):
            if len(balls) == n:
                break
            r = rng.uniform(*radius_range)
            idx = tuple(candidates[rng.integers(len(candidates))])
            centre = np.array([c[idx] for c in coords])
            if any(np.linalg.norm(centre - c) < r + rc + gap for c, rc in balls):
                continue
            dist2 = sum((c - x0) ** 2 for c, x0 in zip(coords, centre))
            if not np.all(inside[dist2 <= r**2]):  # the whole lesion lies inside the shrunken body
                continue
            balls.append((centre, r))
        if len(balls) > len(best):
            best = balls
        if len(best) == n:
            break
    balls = best
    if len(balls) < n:
        raise ValueError(f"{arg}: expected a number of lesions that fits in the body, got {n} "
                         f"(only {len(balls)} fit; use fewer lesions or a larger size)")
    return balls


def _ellipsoid(coords: tuple[np.ndarray, ...], centre, semi_axes) -> np.ndarray:
    return sum(((c - x0) / a) ** 2 for c, x0, a in zip(coords, centre, semi_axes)) <= 1.0


def _render(rng, coords, extent, n_lesions, noise, radius_range, texture_sigma, gap, arg):
    """Body, two organs, texture, lesions and noise on the grid `coords` (physical units)."""
    shape = coords[0].shape
    centre = [e / 2 for e in extent]
    body_axes = [0.45 * e * rng.uniform(0.9, 1.0) for e in extent]
    body = _ellipsoid(coords, centre, body_axes)
    image = np.where(body, _BODY, 0.0)
    # Two organs: ellipsoids in the left and right halves of the body (last axis).
    for side, level in zip((-1, 1), _ORGANS):
        organ_c = list(centre)
        organ_c[-1] = centre[-1] + side * 0.2 * extent[-1]
        organ_axes = [0.18 * e * rng.uniform(0.8, 1.1) for e in extent]
        organ_axes[-1] *= 0.8
        image = np.where(_ellipsoid(coords, organ_c, organ_axes) & body, level, image)
    image = image + np.where(body, _TEXTURE * _smooth_noise(rng, shape, texture_sigma), 0.0)
    # Lesions inside a shrunken body, so that they never touch the skin.
    inner = _ellipsoid(coords, centre, [0.85 * a for a in body_axes])
    mask = np.zeros(shape, dtype=np.int64)
    for c, r in _place_balls(rng, n_lesions, radius_range, inner, coords, gap=gap, arg=arg):
        ball = sum((x - x0) ** 2 for x, x0 in zip(coords, c)) <= r**2
        image = np.where(ball, rng.uniform(*_LESION_RANGE), image)
        mask[ball] = 1
    if noise > 0:
        image = image + noise * rng.standard_normal(shape)
    return image.astype(np.float32), mask


# Levels of the realistic phantoms (before the bias field).
_R_BODY = 0.50
_R_ORGANS = (0.35, 0.72)         # a dark organ and a bright one, at the level of the lesion rims
_R_RIM = (0.68, 0.80)            # rim-enhancing lesions: bright rim ...
_R_CORE = (0.40, 0.55)           # ... around a core at the level of normal tissue
_R_TEXTURE_MEAN = (0.45, 0.60)   # textured lesions: tissue-level mean ...
_R_TEXTURE_STD = 0.14            # ... with white texture of this standard deviation
_R_BIAS = 0.25                   # bias field exp(0.25 * smooth), i.e. x0.78 to x1.28


def _realistic_2d(rng: np.random.Generator, size: int, n_lesions: int, noise: float):
    """A phantom a global threshold cannot segment (see :func:`phantom_2d`, ``realistic=True``)."""
    grid = np.arange(size, dtype=np.float64) + 0.5
    y, x = np.meshgrid(grid, grid, indexing="ij")
    c = size / 2
    ay, ax = (0.46 * size * rng.uniform(0.85, 1.0) for _ in range(2))
    body = ((y - c) / ay) ** 2 + ((x - c) / ax) ** 2 <= 1
    image = np.where(body, _R_BODY, 0.0)
    image = image + np.where(body, 0.06 * _smooth_noise(rng, (size, size), (size / 10,) * 2), 0.0)
    for level in _R_ORGANS:  # rotated ellipses anywhere in the central half: lesions may touch them
        oc = c + rng.uniform(-0.25, 0.25, 2) * size
        oa = rng.uniform(0.10, 0.20, 2) * size
        th = rng.uniform(0, np.pi)
        u = (y - oc[0]) * np.cos(th) + (x - oc[1]) * np.sin(th)
        v = -(y - oc[0]) * np.sin(th) + (x - oc[1]) * np.cos(th)
        organ = ((u / oa[0]) ** 2 + (v / oa[1]) ** 2 <= 1) & body
        image = np.where(organ, level + 0.03 * rng.standard_normal(), image)
    inner = ((y - c) / (0.8 * ay)) ** 2 + ((x - c) / (0.8 * ax)) ** 2 <= 1
    mask = np.zeros((size, size), dtype=np.int64)
    for centre, r in _place_balls(rng, n_lesions, (0.09 * size, 0.15 * size), inner, (y, x),
                                  gap=0.0, arg="n_lesions"):
        d = np.hypot(y - centre[0], x - centre[1])
        disc = d <= r
        if rng.integers(2) == 0:  # rim-enhancing: bright rim, core at tissue level
            width = rng.uniform(1.0, 1.6) * size / 40
            value = np.where(d >= r - width, rng.uniform(*_R_RIM), rng.uniform(*_R_CORE))
        else:                     # textured: tissue-level mean, fine white texture
            value = rng.uniform(*_R_TEXTURE_MEAN) + _R_TEXTURE_STD * rng.standard_normal((size, size))
        image = np.where(disc, value, image)
        mask[disc] = 1
    image = image * np.exp(_R_BIAS * _smooth_noise(rng, (size, size), (size / 3,) * 2))
    if noise > 0:  # Rician: the magnitude of a complex signal with Gaussian noise on both parts
        image = np.hypot(image + noise * rng.standard_normal(image.shape), noise * rng.standard_normal(image.shape))
    return image.astype(np.float32), mask


def _phantom_2d(rng: np.random.Generator, size: int, n_lesions: int, noise: float, realistic: bool = False):
    if realistic:
        return _realistic_2d(rng, size, n_lesions, noise)
    grid = np.arange(size, dtype=np.float64) + 0.5
    coords = tuple(np.meshgrid(grid, grid, indexing="ij"))
    return _render(rng, coords, (float(size), float(size)), n_lesions, noise,
                   radius_range=(0.06 * size, 0.11 * size), texture_sigma=(size / 16,) * 2,
                   gap=2.0, arg="n_lesions")


# --------------------------------------------------------------------------------------------
# Synthetic phantoms
# --------------------------------------------------------------------------------------------

def phantom_2d(size: int = 128, *, n_lesions: int = 3, noise: float = 0.05,
               seed: int = 0, realistic: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A body-like 2-D slice with two organs, smooth texture and round, bright lesions.

    ``image = body + organs + texture + lesions + noise * N(0, 1)``; the body is an ellipse at
    level 0.45, the organs ellipses at 0.30 and 0.60, the texture low-frequency noise of peak
    amplitude 0.03, each lesion a disc at a level drawn from [0.85, 1.0] with radius in
    [0.06, 0.11] x `size` pixels, and the noise white Gaussian with standard deviation `noise`.
    A global threshold segments these lesions almost perfectly.

    ``realistic=True`` draws a phantom a global threshold cannot segment. Body 0.50 with smooth
    texture (peak 0.06); a dark organ (0.35) and a bright one (0.72) as rotated ellipses anywhere
    in the central half, so lesions may touch or overlap them; lesions are discs of radius
    [0.09, 0.15] x `size` (they may touch each other), each of one of two kinds with equal
    probability: *rim-enhancing* (a rim of width about ``size / 40`` at 0.68-0.80, as bright as
    the bright organ, around a core at 0.40-0.55, the level of normal tissue) or *textured* (mean
    0.45-0.60, tissue level, plus white texture of standard deviation 0.14). The whole image is
    multiplied by a smooth bias field ``exp(0.25 f)``, ``|f| <= 1`` (x0.78 to x1.28), and the noise
    is Rician, ``|image + noise * (N1 + i N2)|``, as in magnitude MR images. The best global
    threshold scores a Dice near 0.3 on these; a small U-Net learns them in a few epochs.

    Parameters
    ----------
    size : int, default 128
        Height and width in pixels (at least 16).
    n_lesions : int, default 3
        Number of lesions (0 allowed); they never touch each other or the skin.
    noise : float, default 0.05
        Standard deviation of the additive white Gaussian noise (0 allowed).
    seed : int, default 0
        Seed of the generator: the same seed gives the same phantom.
    realistic : bool, default False
        Draw the phantom a global threshold cannot segment (see above).

    Returns
    -------
    image : ndarray of float32
        The slice, in normalised intensity units (background 0).
    mask : ndarray of int64
        Binary lesion mask: 1 = lesion, 0 = background, body and organs.

    Shapes
    ------
    image, mask : (size, size)

    Raises
    ------
    TypeError
        If an argument is not an int (a number for `noise`).
    ValueError
        If `size` < 16, `n_lesions` < 0 or too many to fit, `noise` < 0, or `seed` < 0.

    See Also
    --------
    phantom_3d, segmentation_dataset

    Examples
    --------
    >>> image, mask = phantom_2d(64, seed=1)
    >>> image.shape, image.dtype, mask.dtype
    ((64, 64), dtype('float32'), dtype('int64'))
    >>> sorted(np.unique(mask).tolist())
    [0, 1]
    >>> image, mask = phantom_2d(48, seed=1, realistic=True)
    >>> image.shape, int(mask.max())
    ((48, 48), 1)
    """
    size = as_int(size, "size", minimum=16)
    n_lesions = as_int(n_lesions, "n_lesions", minimum=0)
    noise = as_positive_float(noise, "noise", allow_zero=True)
    seed = _check_seed(seed)
    realistic = _check_flag(realistic, "realistic")
    return _phantom_2d(np.random.default_rng(seed), size, n_lesions, noise, realistic)


def phantom_3d(shape: tuple[int, int, int] = (32, 64, 64),
               spacing: tuple[float, float, float] = (3.0, 1.0, 1.0), *,
               n_lesions: int = 3, noise: float = 0.05,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """A body-like 3-D volume on an anisotropic grid, with lesions that are round in millimetres.

    The scene is built in physical coordinates ``(z, y, x) = ((d + 1/2) s_d, (h + 1/2) s_h,
    (w + 1/2) s_w)`` mm and then sampled on the grid: the body and organs are ellipsoids, each
    lesion a ball of radius ``r`` mm (``r`` in [0.1, 0.15] x the smallest physical extent).
    A ball of radius ``r`` spans about ``2r / s`` voxels along an axis of spacing ``s``, so with
    the default spacing (3, 1, 1) a lesion is three times shorter in voxels along ``d`` than
    along ``h`` and ``w``: an ellipsoid in voxels, a sphere in millimetres.

    Parameters
    ----------
    shape : tuple of 3 ints, default (32, 64, 64)
        ``(D, H, W)`` voxels, each at least 8.
    spacing : tuple of 3 floats, default (3.0, 1.0, 1.0)
        Voxel spacing in mm, in array order ``(s_d, s_h, s_w)``.
    n_lesions : int, default 3
        Number of lesions (0 allowed).
    noise : float, default 0.05
        Standard deviation of the additive white Gaussian noise.
    seed : int, default 0
        Seed of the generator.

    Returns
    -------
    volume : ndarray of float32
        Normalised intensities (background 0, lesions 0.85-1).
    mask : ndarray of int64
        Binary lesion mask (1 = lesion).
    spacing : tuple of 3 floats
        The spacing, as floats, in array order.

    Shapes
    ------
    volume, mask : (D, H, W)

    Raises
    ------
    TypeError
        If `shape` or `spacing` has entries of the wrong kind.
    ValueError
        If `shape` has an axis < 8, `spacing` an entry <= 0, either has not 3 entries, or the
        lesions do not fit.

    See Also
    --------
    phantom_2d, companion.geometry.index_to_world

    Examples
    --------
    >>> vol, mask, spacing = phantom_3d((16, 32, 32), (2.0, 1.0, 1.0), seed=0)
    >>> vol.shape, mask.dtype, spacing
    ((16, 32, 32), dtype('int64'), (2.0, 1.0, 1.0))
    """
    from companion._validation import as_tuple

    shape = as_tuple(shape, 3, "shape", minimum=8)
    if isinstance(spacing, (str, bytes)) or not hasattr(spacing, "__len__"):
        raise TypeError(f"spacing: expected a tuple of 3 positive numbers, got {type(spacing).__name__} {spacing!r}")
    if len(spacing) != 3:
        raise ValueError(f"spacing: expected 3 entries (s_d, s_h, s_w), got {len(spacing)}: {tuple(spacing)}")
    spacing = tuple(as_positive_float(s, "spacing") for s in spacing)
    n_lesions = as_int(n_lesions, "n_lesions", minimum=0)
    noise = as_positive_float(noise, "noise", allow_zero=True)
    seed = _check_seed(seed)
    rng = np.random.default_rng(seed)
    axes = [(np.arange(n, dtype=np.float64) + 0.5) * s for n, s in zip(shape, spacing)]
    coords = tuple(np.meshgrid(*axes, indexing="ij"))
    extent = [n * s for n, s in zip(shape, spacing)]
    r_min = min(extent)
    volume, mask = _render(rng, coords, extent, n_lesions, noise,
                           radius_range=(0.10 * r_min, 0.15 * r_min),
                           texture_sigma=tuple(max(n / 12, 1.0) for n in shape),
                           gap=1.5 * max(spacing), arg="n_lesions")
    return volume, mask, spacing


class _PhantomDataset:
    """Items are 2-D phantoms; item i is drawn from ``SeedSequence(seed, spawn_key=(i,))``."""

    def __init__(self, n: int, size: int, seed: int, noise: float, max_lesions: int, realistic: bool = False) -> None:
        self.n, self.size, self.seed, self.noise, self.max_lesions = n, size, seed, noise, max_lesions
        self.realistic = realistic
        self._cache: dict[int, tuple[Any, Any]] = {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        import torch

        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"i: expected an int index, got {type(i).__name__} {i!r}")
        i = int(i)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(f"i: expected an index in [0, {self.n}), got {i}")
        if i not in self._cache:
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(i,)))
            n_lesions = int(rng.integers(1, self.max_lesions + 1))
            image, mask = _phantom_2d(rng, self.size, n_lesions, self.noise, self.realistic)
            self._cache[i] = (torch.from_numpy(image[None]), torch.from_numpy(mask))
        image, mask = self._cache[i]
        return image.clone(), mask.clone()

    def __repr__(self) -> str:
        extra = ", realistic=True" if self.realistic else ""
        return f"segmentation_dataset(n={self.n}, size={self.size}, seed={self.seed}{extra})"


def segmentation_dataset(n: int, size: int = 64, seed: int = 0, *, realistic: bool = False,
                         noise: float = 0.05, max_lesions: int = 3):
    """A torch ``Dataset`` of `n` seeded 2-D phantoms for lesion segmentation.

    Item ``i`` is drawn from its own generator ``default_rng(SeedSequence(seed, spawn_key=(i,)))``,
    with between 1 and `max_lesions` lesions, so items do not depend on `n` (the first 10 items of
    ``segmentation_dataset(100)`` are those of ``segmentation_dataset(10)``) and two different
    seeds give independent streams: use one seed for training and another for validation.
    Items are generated on first access and cached.

    Parameters
    ----------
    n : int
        Number of items (at least 1).
    size : int, default 64
        Height and width of each image (at least 16).
    seed : int, default 0
        Seed of the whole dataset.
    realistic : bool, default False
        Phantoms a global threshold cannot segment (rim-enhancing and textured lesions at tissue
        intensity, a bright organ, bias field, Rician noise; see :func:`phantom_2d`). The default
        phantoms are unchanged. Recommended: ``size=48``; a ``UNet(1, 2, base_channels=8,
        depth=3)`` trained with :func:`companion.train.fit` on 128 of them for 10-15 epochs
        (lr 1e-3) reaches a validation Dice above 0.8 in about 10 s of one CPU thread, while the
        best global threshold scores about 0.3 (:mod:`companion.baselines`).
    noise : float, default 0.05
        Noise level, as in :func:`phantom_2d`.
    max_lesions : int, default 3
        Largest number of lesions per image (at least 1).

    Returns
    -------
    torch.utils.data.Dataset
        ``len(ds) == n``; ``ds[i]`` is ``(image, mask)``.

    Shapes
    ------
    image : (1, size, size) float32 tensor;  mask : (size, size) int64 tensor (1 = lesion)

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong kind or is out of range.

    Examples
    --------
    >>> ds = segmentation_dataset(4, size=32, seed=0)   # doctest: +SKIP
    >>> image, mask = ds[0]                             # doctest: +SKIP
    >>> tuple(image.shape), tuple(mask.shape)           # doctest: +SKIP
    ((1, 32, 32), (32, 32))
    """
    n = as_int(n, "n", minimum=1)
    size = as_int(size, "size", minimum=16)
    seed = _check_seed(seed)
    noise = as_positive_float(noise, "noise", allow_zero=True)
    max_lesions = as_int(max_lesions, "max_lesions", minimum=1)
    realistic = _check_flag(realistic, "realistic")
    from torch.utils.data import Dataset

    cls = type("PhantomDataset", (_PhantomDataset, Dataset), {"__module__": __name__})
    return cls(n, size, seed, noise, max_lesions, realistic)


# --------------------------------------------------------------------------------------------
# Real samples shipped with installed packages
# --------------------------------------------------------------------------------------------

class ImageSlice(NamedTuple):
    """One real 2-D slice with its geometry.

    Attributes
    ----------
    pixels : ndarray of float32, shape (rows, cols)
        Pixel values: Hounsfield units for CT (after rescale slope and intercept), scanner units
        for MR.
    spacing : tuple of 2 floats
        ``(row, col)`` pixel spacing in mm (DICOM PixelSpacing: row spacing first).
    origin : tuple of 3 floats
        World position in mm (patient LPS) of the centre of the first pixel (ImagePositionPatient).
    orientation : tuple of 6 floats
        Direction cosines of the first row and the first column (ImageOrientationPatient).
    modality : str
        ``"CT"`` or ``"MR"``.
    slice_thickness : float
        Nominal slice thickness in mm.
    units : str
        ``"HU"`` for CT, ``"arbitrary"`` for MR.
    """

    pixels: np.ndarray
    spacing: tuple[float, float]
    origin: tuple[float, float, float]
    orientation: tuple[float, ...]
    modality: str
    slice_thickness: float
    units: str


def _load_dicom(name: str) -> ImageSlice:
    import pydicom
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    if path is None:
        raise FileNotFoundError(f"{name}: expected pydicom's bundled test file, not found "
                                f"(pydicom {pydicom.__version__} installed without its data?)")
    return _slice_from_dataset(pydicom.dcmread(path))


def _slice_from_dataset(ds: Any) -> ImageSlice:
    raw = ds.pixel_array.astype(np.float64)
    slope = float(getattr(ds, "RescaleSlope", 1.0) or 1.0)
    intercept = float(getattr(ds, "RescaleIntercept", 0.0) or 0.0)
    pixels = (raw * slope + intercept).astype(np.float32)
    return ImageSlice(
        pixels=pixels,
        spacing=tuple(float(s) for s in ds.PixelSpacing),
        origin=tuple(float(v) for v in ds.ImagePositionPatient),
        orientation=tuple(float(v) for v in ds.ImageOrientationPatient),
        modality=str(ds.Modality),
        slice_thickness=float(getattr(ds, "SliceThickness", 0.0) or 0.0),
        units="HU" if ds.Modality == "CT" else "arbitrary",
    )


#: The single CT slices bundled with pydicom: name -> file. "CT_small": 128 x 128 pixels of
#: 0.661468 mm (GE); "693_J2KI": 512 x 512 pixels of 0.478516 mm, JPEG 2000 (lossy) compressed,
#: decoded by Pillow. Two scanners' pixel spacings: a real spacing shift.
CT_SLICES = {"CT_small": "CT_small.dcm", "693_J2KI": "693_J2KI.dcm"}


def load_ct_slice(name: str = "CT_small") -> ImageSlice:
    """pydicom's bundled CT sample (``CT_small.dcm`` by default) in Hounsfield units, read offline.

    ``HU = RescaleSlope * stored + RescaleIntercept`` (slope 1, intercept -1024 in both files);
    ``"CT_small"``: 128 x 128 pixels of 0.661468 mm, slice thickness 5 mm; ``"693_J2KI"``:
    512 x 512 pixels of 0.478516 mm, slice thickness 5 mm (JPEG 2000, lossy; Pillow decodes it).

    Parameters
    ----------
    name : {"CT_small", "693_J2KI"}, default "CT_small"

    Returns
    -------
    ImageSlice
        ``pixels`` float32 (128, 128) in HU, ``spacing`` ``(row, col)`` in mm, ``origin``,
        ``orientation``, ``modality == "CT"``.

    Raises
    ------
    FileNotFoundError
        If pydicom was installed without its test files.

    Examples
    --------
    >>> ct = load_ct_slice()
    >>> ct.pixels.shape, ct.spacing, ct.units
    ((128, 128), (0.661468, 0.661468), 'HU')
    >>> load_ct_slice("693_J2KI").spacing
    (0.478516, 0.478516)
    """
    as_choice(name, "name", sorted(CT_SLICES))
    return _load_dicom(CT_SLICES[name])


#: The CT series bundled with pydicom (its ``dicomdirtests`` folder): name -> folder.
CT_SERIES = {
    "CT5N": "dicomdirtests/98892001/CT5N",  # 5 consecutive slices, 2.5 mm thick, 2.5 mm apart
    "CT2": "dicomdirtests/77654033/CT2",  # 4 slices of a head CT: instances 18, 180, 181, 182
}


def load_ct_series(name: str = "CT5N") -> list[ImageSlice]:
    """A small real CT series bundled with pydicom, slice by slice, in ``InstanceNumber`` order.

    The slices are thumbnails (16 x 16 pixels of 0.488281 mm) of clinical series, with their
    original geometry tags. The list is in ``InstanceNumber`` order (the order the scanner
    numbered them), which is *not* necessarily the order along the slice normal: sort the
    slices by their position along the normal (`companion.geometry.sort_slices`) before
    stacking them into a volume.

    * ``"CT5N"``: 5 consecutive slices, ``SliceThickness`` 2.5 mm; numbered from head to feet,
      so ``z`` *decreases* with the instance number.
    * ``"CT2"``: instances 18, 180, 181 and 182 of a head CT, ``SliceThickness`` 1.25 mm: three
      adjacent slices and one 162 slices away (a series with a gap).

    Parameters
    ----------
    name : {"CT5N", "CT2"}, default "CT5N"

    Returns
    -------
    list of ImageSlice
        One per file, ``pixels`` float32 (16, 16) in HU, in ``InstanceNumber`` order.

    Raises
    ------
    ValueError
        If `name` is not a key of `CT_SERIES`.
    FileNotFoundError
        If pydicom was installed without its test files.

    Examples
    --------
    >>> series = load_ct_series("CT5N")
    >>> len(series), series[0].pixels.shape, series[0].slice_thickness
    (5, (16, 16), 2.5)
    >>> [s.origin[2] for s in series]
    [8.7625, 6.2625, 3.7625, 1.2625, -1.2375]
    """
    import pydicom
    import pydicom.data

    as_choice(name, "name", sorted(CT_SERIES))
    folder = os.path.join(os.path.dirname(pydicom.data.__file__), "test_files", CT_SERIES[name])
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{name}: expected pydicom's bundled series at {folder}, not found "
                                f"(pydicom {pydicom.__version__} installed without its data?)")
    datasets = [pydicom.dcmread(os.path.join(folder, f)) for f in sorted(os.listdir(folder))]
    datasets.sort(key=lambda ds: int(ds.InstanceNumber))
    return [_slice_from_dataset(ds) for ds in datasets]


def load_mr_slice() -> ImageSlice:
    """pydicom's bundled MR sample (``MR_small.dcm``), read offline.

    64 x 64 pixels of 0.3125 mm; MR intensities have no physical unit (``units == "arbitrary"``).

    Returns
    -------
    ImageSlice
        ``pixels`` float32 (64, 64), ``spacing`` ``(row, col)`` in mm, ``modality == "MR"``.

    Raises
    ------
    FileNotFoundError
        If pydicom was installed without its test files.

    Examples
    --------
    >>> mr = load_mr_slice()
    >>> mr.pixels.shape, mr.spacing, mr.modality
    ((64, 64), (0.3125, 0.3125), 'MR')
    """
    return _load_dicom("MR_small.dcm")


def load_nifti_example() -> tuple[np.ndarray, np.ndarray]:
    """nibabel's bundled anatomical volume (``nibabel/tests/data/anatomical.nii``) and its affine.

    The array is in nibabel's voxel order ``(i, j, k)``, the order the affine expects:
    ``world = affine @ (i, j, k, 1)`` in mm (RAS+). Here 33 x 41 x 25 voxels of 2 mm.

    Returns
    -------
    data : ndarray of float32
        The voxel values (scaled by the header's slope and intercept).
    affine : ndarray of float64
        The 4 x 4 voxel-to-world matrix, equal to nibabel's ``img.affine``.

    Shapes
    ------
    data : (I, J, K);  affine : (4, 4)

    Raises
    ------
    FileNotFoundError
        If nibabel was installed without its test data.

    Examples
    --------
    >>> data, affine = load_nifti_example()
    >>> data.shape, data.dtype, affine.shape
    ((33, 41, 25), dtype('float32'), (4, 4))
    """
    import nibabel

    path = os.path.join(os.path.dirname(nibabel.__file__), "tests", "data", "anatomical.nii")
    if not os.path.exists(path):
        raise FileNotFoundError(f"anatomical.nii: expected nibabel's bundled test volume at {path}, not found")
    img = nibabel.load(path)
    data = np.asarray(img.get_fdata(dtype=np.float32), dtype=np.float32)
    return data, np.array(img.affine, dtype=np.float64)


BRAIN_LABELS = ("background", "CSF", "grey matter", "white matter")
_BRAIN_CACHE: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
_BRAIN_PROBS: dict[int, np.ndarray] = {}


def load_brain_tissue(resolution: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A real T1 brain with tissue labels: the MNI152 2009 template that ships inside nilearn.

    nilearn's wheel holds the ICBM 2009 symmetric T1 template and its grey- and white-matter
    probability maps (Fonov et al. 2011); they are read with nilearn's own loaders
    (``load_mni152_template``, ``load_mni152_gm_template``, ``load_mni152_wm_template``,
    ``load_mni152_brain_mask``), nothing is downloaded. The labels are derived from the maps:
    inside the brain mask (nilearn's: template T1 > 0.2, with its holes, the ventricles, filled;
    not an intracranial mask: CSF around the brain darker than 0.2 lies outside it),
    the "CSF" probability is ``1 - p_GM - p_WM`` (clipped at 0) and each voxel takes the tissue of
    highest probability; outside it is background. A voxel at a tissue boundary holds a mixture
    (partial volume), and its hard label is only its largest share.

    Parameters
    ----------
    resolution : int, default 2
        Voxel size in mm passed to nilearn's loaders: 1 (197 × 233 × 189) or 2 (99 × 117 × 95).

    Returns
    -------
    t1 : ndarray of float32
        T1 intensities in [0, 1], in the book's ``(d, h, w)`` order (nibabel's ``(i, j, k)``
        reversed).
    labels : ndarray of int64
        0 background, 1 CSF, 2 grey matter, 3 white matter (:data:`BRAIN_LABELS`), same order.
    affine : ndarray of float64
        nilearn's 4 × 4 image affine: it maps ``(w, h, d, 1)`` = nibabel's ``(i, j, k, 1)`` to
        MNI world coordinates in mm.

    Shapes
    ------
    t1, labels : (D, H, W) = (K, J, I) of the NIfTI image;  affine : (4, 4)

    Raises
    ------
    ValueError
        If `resolution` is not 1 or 2.

    References
    ----------
    fonov2011mni

    Examples
    --------
    >>> t1, labels, affine = load_brain_tissue()
    >>> t1.shape, labels.dtype, float(affine[0, 0])
    ((95, 117, 99), dtype('int64'), 2.0)
    """
    if isinstance(resolution, bool) or resolution not in (1, 2):
        raise ValueError(f"resolution: expected 1 or 2 (mm), got {resolution!r}")
    resolution = int(resolution)
    if resolution not in _BRAIN_CACHE:
        from nilearn.datasets import (load_mni152_brain_mask, load_mni152_gm_template,
                                      load_mni152_template, load_mni152_wm_template)
        from scipy import ndimage

        t1_img = load_mni152_template(resolution=resolution)
        gm = load_mni152_gm_template(resolution=resolution).get_fdata()
        wm = load_mni152_wm_template(resolution=resolution).get_fdata()
        brain = load_mni152_brain_mask(resolution=resolution).get_fdata() > 0
        inside = ndimage.binary_fill_holes(brain)
        csf = np.clip(1.0 - gm - wm, 0.0, None)
        probs = np.stack([csf, gm, wm]) * inside
        labels = np.where(inside, 1 + np.argmax(probs, axis=0), 0)
        t1 = np.clip(t1_img.get_fdata(), 0.0, None)
        t1 = t1 / t1.max()
        # nibabel's (i, j, k) -> the book's (d, h, w): reverse the axes
        _BRAIN_CACHE[resolution] = (np.ascontiguousarray(t1.T, dtype=np.float32),
                                    np.ascontiguousarray(labels.T, dtype=np.int64),
                                    np.array(t1_img.affine, dtype=np.float64))
        _BRAIN_PROBS[resolution] = np.ascontiguousarray(probs.transpose(0, 3, 2, 1), dtype=np.float32)
    t1, labels, affine = _BRAIN_CACHE[resolution]
    return t1.copy(), labels.copy(), affine.copy()


def load_brain_probabilities(resolution: int = 2) -> np.ndarray:
    """The tissue probability maps behind :func:`load_brain_tissue`'s labels: CSF, grey, white matter.

    Inside the brain mask (nilearn's: template T1 > 0.2, holes filled; not intracranial, see
    :func:`load_brain_tissue`): nilearn's grey- and white-matter maps and the CSF probability
    ``1 - p_GM - p_WM`` (clipped at 0); 0 outside. ``labels == 1 + argmax(probs, axis=0)``
    inside the mask (the labels are taken in float64; stored as float32, a few exact near-ties
    may round either way). A voxel whose largest probability is well below 1 holds a mixture of
    tissues (partial volume).

    Parameters
    ----------
    resolution : int, default 2
        1 or 2 (mm), as in :func:`load_brain_tissue`.

    Returns
    -------
    ndarray of float32
        Channel 0 CSF, 1 grey matter, 2 white matter, in the book's ``(d, h, w)`` order.

    Shapes
    ------
    result : (3, D, H, W), the spatial shape of :func:`load_brain_tissue`'s arrays

    Raises
    ------
    ValueError
        If `resolution` is not 1 or 2.

    References
    ----------
    fonov2011mni

    Examples
    --------
    >>> p = load_brain_probabilities()
    >>> p.shape, p.dtype
    ((3, 95, 117, 99), dtype('float32'))
    """
    if isinstance(resolution, bool) or resolution not in (1, 2):
        raise ValueError(f"resolution: expected 1 or 2 (mm), got {resolution!r}")
    resolution = int(resolution)
    if resolution not in _BRAIN_PROBS:
        _BRAIN_CACHE.pop(resolution, None)
        load_brain_tissue(resolution)
    return _BRAIN_PROBS[resolution].copy()
