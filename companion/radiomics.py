"""Radiomics features and a radiogenomic phantom cohort whose Bayes AUC is known exactly.

* :func:`glcm` / :func:`glcm_props` — the grey-level co-occurrence matrix of Haralick et al.
  (1973) and its texture properties, equal to scikit-image's ``graycomatrix`` / ``graycoprops``;
* :func:`quantize` — fixed-bin-number grey-level discretisation of a region (IBSI);
* :func:`first_order_features`, :func:`shape_features`, :func:`radiomics_features` — a small
  radiomics feature vector of a 2-D tumour region;
* :func:`simulate_cohort`, :func:`bayes_auc`, :func:`latent_shift` — tumour phantoms whose
  texture, enhancement and shape depend weakly on a binary genotype through a latent Gaussian
  vector, so that the best AUC any model can reach is ``Phi(d / sqrt(2))``, exactly.

NumPy only (the standard library's :class:`statistics.NormalDist` gives Phi and its inverse).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_choice, as_float_array, as_int, as_positive_float

__all__ = ["glcm", "glcm_props", "GLCM_PROPS", "quantize", "first_order_features", "shape_features",
           "radiomics_features", "feature_names", "Cohort", "simulate_cohort", "bayes_auc", "latent_shift"]

GLCM_PROPS = ("contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM")
_ANGLES4 = (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)


# ------------------------------------------------------------------------------------------------
# Grey-level co-occurrence matrix
# ------------------------------------------------------------------------------------------------

def _round_half_away(x: float) -> int:
    """C ``round``: halves go away from zero (what scikit-image's Cython loop uses)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def glcm(image: Any, distances: Sequence[int], angles: Sequence[float], levels: int, *,
         symmetric: bool = False, normed: bool = False, mask: Any = None) -> np.ndarray:
    """Grey-level co-occurrence matrix: how often grey level ``i`` has level ``j`` at an offset.

    ``P[i, j, d, a] = #{(r, c) : image[r, c] = i, image[r + dr, c + dc] = j}`` with the offset
    ``dr = round(sin(angles[a]) * distances[d])``, ``dc = round(cos(angles[a]) * distances[d])``
    (Haralick et al. 1973), counting only pairs inside the image (and, with `mask`, pairs whose
    two pixels are both inside the mask). ``symmetric=True`` adds the transpose (each pair
    counted in both orders); ``normed=True`` divides each ``(d, a)`` matrix by its sum.

    Parameters
    ----------
    image : array_like of int
        Grey levels in ``0 .. levels - 1`` (quantise first, e.g. with :func:`quantize`).
    distances : sequence of int
        Pixel pair distances (>= 0).
    angles : sequence of float
        Pair angles in radians; ``0`` is the right neighbour, ``pi / 2`` the one in the next row.
    levels : int
        Number of grey levels (the matrix is ``levels x levels``).
    symmetric, normed : bool, default False
        As in :func:`skimage.feature.graycomatrix`.
    mask : array_like of bool, optional
        Region of interest (a tumour); pairs leaving it are not counted. Not in scikit-image,
        which gets the same matrix when the pixels outside are set to an extra level that is
        then dropped.

    Returns
    -------
    ndarray
        uint32 counts, or float64 when ``normed=True``.

    Shapes
    ------
    image, mask : (H, W);  result : (levels, levels, len(distances), len(angles))

    Raises
    ------
    TypeError
        If `image` is not an integer array.
    ValueError
        If `image` is not 2-D, has values outside ``0 .. levels - 1``, a distance is negative,
        `mask` has another shape, or `levels` < 1.

    References
    ----------
    haralick1973textural

    Examples
    --------
    >>> img = np.array([[0, 0, 1], [1, 2, 2]])
    >>> glcm(img, [1], [0.0], 3)[..., 0, 0]
    array([[1, 1, 0],
           [0, 0, 1],
           [0, 0, 1]], dtype=uint32)
    """
    img = np.asarray(image)
    if img.dtype.kind not in "iub" or img.dtype.kind == "b":
        raise TypeError(f"image: expected an integer array of grey levels, got dtype {img.dtype}")
    if img.ndim != 2:
        raise ValueError(f"image: expected 2 dims (H, W), got {img.ndim} (shape {img.shape})")
    levels = as_int(levels, "levels", minimum=1)
    if img.size and (img.min() < 0 or img.max() >= levels):
        raise ValueError(f"image: expected grey levels in 0..{levels - 1}, got values in "
                         f"{img.min()}..{img.max()}")
    dists = [as_int(d, "distances", minimum=0) for d in np.atleast_1d(distances).tolist()]
    angs = [float(a) for a in np.atleast_1d(np.asarray(angles, dtype=float))]
    if not dists or not angs:
        raise ValueError(f"distances, angles: expected at least one each, got {len(dists)} and {len(angs)}")
    if mask is None:
        inside = None
    else:
        inside = np.asarray(mask, dtype=bool)
        if inside.shape != img.shape:
            raise ValueError(f"mask: expected shape {img.shape} (same as image), got {inside.shape}")
    rows, cols = img.shape
    flat = img.astype(np.int64)
    out = np.zeros((levels, levels, len(dists), len(angs)), dtype=np.uint32)
    for a_idx, angle in enumerate(angs):
        for d_idx, dist in enumerate(dists):
            dr, dc = _round_half_away(math.sin(angle) * dist), _round_half_away(math.cos(angle) * dist)
            r0, r1 = max(0, -dr), min(rows, rows - dr)
            c0, c1 = max(0, -dc), min(cols, cols - dc)
            if r1 <= r0 or c1 <= c0:
                continue
            src = flat[r0:r1, c0:c1]
            dst = flat[r0 + dr:r1 + dr, c0 + dc:c1 + dc]
            pairs = src * levels + dst
            if inside is not None:
                pairs = pairs[inside[r0:r1, c0:c1] & inside[r0 + dr:r1 + dr, c0 + dc:c1 + dc]]
            counts = np.bincount(pairs.ravel(), minlength=levels * levels)
            out[:, :, d_idx, a_idx] = counts.reshape(levels, levels)
    if symmetric:
        out = out + out.transpose(1, 0, 2, 3)
    if normed:
        p = out.astype(np.float64)
        sums = p.sum(axis=(0, 1), keepdims=True)
        sums[sums == 0] = 1
        return p / sums
    return out


def glcm_props(P: Any, prop: str = "contrast") -> np.ndarray:
    """A texture property of each co-occurrence matrix, as :func:`skimage.feature.graycoprops`.

    With ``p = P / sum(P)`` per ``(d, a)``:
    contrast ``sum p (i - j)^2``; dissimilarity ``sum p |i - j|``; homogeneity
    ``sum p / (1 + (i - j)^2)``; ASM ``sum p^2``; energy ``sqrt(ASM)``; correlation
    ``sum p (i - mu_i)(j - mu_j) / (sigma_i sigma_j)`` (1 where a sigma is below 1e-15).

    Parameters
    ----------
    P : array_like
        Co-occurrence matrices from :func:`glcm` (counts or normalised).
    prop : {"contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM"}

    Returns
    -------
    ndarray of float64
        One value per (distance, angle).

    Shapes
    ------
    P : (L, L, D, A);  result : (D, A)

    Raises
    ------
    TypeError
        If `prop` is not a str.
    ValueError
        If `P` is not 4-D with two equal leading axes, or `prop` is unknown.

    References
    ----------
    haralick1973textural

    Examples
    --------
    >>> P = glcm(np.array([[0, 1], [1, 0]]), [1], [0.0], 2)
    >>> float(glcm_props(P, "contrast")[0, 0])
    1.0
    """
    if not isinstance(prop, str):
        raise TypeError(f"prop: expected a str, got {type(prop).__name__}")
    as_choice(prop, "prop", GLCM_PROPS)
    p = as_float_array(P, "P", ndim=4).astype(np.float64)
    if p.shape[0] != p.shape[1]:
        raise ValueError(f"P: expected shape (L, L, D, A), got {p.shape}")
    sums = p.sum(axis=(0, 1), keepdims=True)
    sums[sums == 0] = 1
    p = p / sums
    n = p.shape[0]
    i = np.arange(n, dtype=np.float64).reshape(n, 1, 1, 1)
    j = np.arange(n, dtype=np.float64).reshape(1, n, 1, 1)
    if prop == "contrast":
        return np.sum(p * (i - j) ** 2, axis=(0, 1))
    if prop == "dissimilarity":
        return np.sum(p * np.abs(i - j), axis=(0, 1))
    if prop == "homogeneity":
        return np.sum(p / (1.0 + (i - j) ** 2), axis=(0, 1))
    asm = np.sum(p ** 2, axis=(0, 1))
    if prop == "ASM":
        return asm
    if prop == "energy":
        return np.sqrt(asm)
    di = i - np.sum(i * p, axis=(0, 1))
    dj = j - np.sum(j * p, axis=(0, 1))
    std_i = np.sqrt(np.sum(p * di ** 2, axis=(0, 1)))
    std_j = np.sqrt(np.sum(p * dj ** 2, axis=(0, 1)))
    cov = np.sum(p * di * dj, axis=(0, 1))
    flat = (std_i < 1e-15) | (std_j < 1e-15)
    return np.where(flat, 1.0, cov / np.where(flat, 1.0, std_i * std_j))


# ------------------------------------------------------------------------------------------------
# Feature vector of a region
# ------------------------------------------------------------------------------------------------

def _region(image: Any, mask: Any) -> tuple[np.ndarray, np.ndarray]:
    img = as_float_array(image, "image", ndim=2)
    m = np.asarray(mask)
    if m.shape != img.shape:
        raise ValueError(f"mask: expected shape {img.shape} (same as image), got {m.shape}")
    m = m.astype(bool)
    if m.sum() < 2:
        raise ValueError(f"mask: expected a region of at least 2 pixels, got {int(m.sum())}")
    return img, m


def quantize(image: Any, mask: Any, levels: int = 16) -> np.ndarray:
    """Fixed-bin-number discretisation of a region (IBSI): ``floor(levels (x - min) / (max - min))``.

    The region's maximum goes to ``levels - 1``; pixels outside the mask get 0 (mask them out
    of the GLCM with ``glcm(..., mask=mask)``). A flat region is all 0.

    Shapes
    ------
    image, mask : (H, W);  result : (H, W) int64 in ``0 .. levels - 1``

    Raises
    ------
    ValueError
        If `mask` has another shape than `image` or fewer than 2 pixels, or `levels` < 2.

    References
    ----------
    zwanenburg2020ibsi
    """
    img, m = _region(image, mask)
    levels = as_int(levels, "levels", minimum=2)
    vals = img[m]
    lo, hi = float(vals.min()), float(vals.max())
    q = np.zeros(img.shape, dtype=np.int64)
    if hi > lo:
        q[m] = np.minimum(np.floor(levels * (vals - lo) / (hi - lo)), levels - 1).astype(np.int64)
    return q


def first_order_features(image: Any, mask: Any, *, bins: int = 16) -> dict[str, float]:
    """Intensity statistics of the pixels inside the mask (no spatial information).

    mean, standard deviation (``ddof=0``), skewness, excess kurtosis (as
    :func:`scipy.stats.skew` / :func:`scipy.stats.kurtosis` with their defaults), the 10th and
    90th percentiles, and the entropy (bits) of a `bins`-bin histogram over the region's range.

    Shapes
    ------
    image, mask : (H, W)

    Raises
    ------
    ValueError
        As :func:`quantize`.
    """
    img, m = _region(image, mask)
    v = img[m].astype(np.float64)
    mean, std = float(v.mean()), float(v.std())
    z = (v - mean) / std if std > 0 else np.zeros_like(v)
    counts = np.bincount(quantize(img, m, bins)[m], minlength=bins)
    p = counts[counts > 0] / v.size
    p10, p90 = np.percentile(v, [10, 90])
    return {"mean": mean, "std": std, "skewness": float(np.mean(z ** 3)),
            "kurtosis": float(np.mean(z ** 4) - 3.0), "p10": float(p10), "p90": float(p90),
            "entropy": float(-np.sum(p * np.log2(p)))}


def shape_features(mask: Any) -> dict[str, float]:
    """Area, perimeter, compactness and eccentricity of a 2-D region.

    area = number of pixels; perimeter = number of pixel edges between the region and the rest
    (4-neighbour crossings, the image border counts as outside); compactness =
    ``4 pi area / perimeter^2`` (1 for a disc in the continuum, lower for a ragged outline;
    pixel staircases lower it to about pi / 4); eccentricity of the ellipse with the same second
    moments, ``sqrt(1 - l2 / l1)`` from the eigenvalues of the pixel coordinates' covariance
    (as :func:`skimage.measure.regionprops`).

    Shapes
    ------
    mask : (H, W)

    Raises
    ------
    ValueError
        If `mask` is not 2-D or has fewer than 2 pixels.
    """
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"mask: expected 2 dims (H, W), got {m.ndim} (shape {m.shape})")
    m = m.astype(bool)
    area = int(m.sum())
    if area < 2:
        raise ValueError(f"mask: expected a region of at least 2 pixels, got {area}")
    padded = np.pad(m, 1).astype(np.int8)
    perimeter = int(np.abs(np.diff(padded, axis=0)).sum() + np.abs(np.diff(padded, axis=1)).sum())
    rr, cc = np.nonzero(m)
    cov = np.cov(np.stack([rr, cc]).astype(np.float64), bias=True)
    l2, l1 = np.linalg.eigvalsh(cov)
    ecc = math.sqrt(max(0.0, 1.0 - l2 / l1)) if l1 > 0 else 0.0
    return {"area": float(area), "perimeter": float(perimeter),
            "compactness": 4 * math.pi * area / perimeter ** 2, "eccentricity": ecc}


def feature_names(*, levels: int = 16, distances: Sequence[int] = (1, 3), per_angle: bool = False,
                  sigmas: Sequence[float] = ()) -> list[str]:
    """Names of the entries of :func:`radiomics_features` with the same settings, in order.

    Examples
    --------
    >>> feature_names()[:3], len(feature_names()), len(feature_names(per_angle=True, sigmas=(1, 2)))
    (['mean', 'std', 'skewness'], 23, 169)
    """
    first = ["mean", "std", "skewness", "kurtosis", "p10", "p90", "entropy"]
    angles = ("0", "45", "90", "135") if per_angle else ("avg",)
    texture = [f"glcm_{prop}_d{d}_{a}" for prop in GLCM_PROPS for d in distances for a in angles]
    names = first + ["area", "perimeter", "compactness", "eccentricity"] + texture
    for s in sigmas:
        names += [f"log{s:g}_{name}" for name in first + texture]
    return names


def radiomics_features(image: Any, mask: Any, *, levels: int = 16, distances: Sequence[int] = (1, 3),
                       per_angle: bool = False, sigmas: Sequence[float] = ()) -> np.ndarray:
    """A radiomics feature vector of one region: first-order, shape and GLCM texture features.

    The region is quantised to `levels` grey levels (:func:`quantize`); a symmetric, normalised
    GLCM inside the mask is computed at each distance for the angles 0, 45, 90 and 135 degrees,
    and each of the six :data:`GLCM_PROPS` is averaged over the angles (rotation invariant), or
    kept per angle with ``per_angle=True``. Each ``sigma`` in `sigmas` adds the first-order and
    GLCM features of the Laplacian-of-Gaussian filtered image (:func:`scipy.ndimage.gaussian_laplace`),
    as radiomics toolkits do to multiply their features. :func:`feature_names` gives the names.

    Returns
    -------
    ndarray of float64
        ``4 + (1 + len(sigmas)) * (7 + 6 * len(distances) * (4 if per_angle else 1))`` features.

    Shapes
    ------
    image, mask : (H, W)

    Raises
    ------
    ValueError
        As :func:`quantize`, :func:`glcm`.

    References
    ----------
    gillies2016radiomics, zwanenburg2020ibsi

    Examples
    --------
    >>> c = simulate_cohort(2, seed=0)
    >>> radiomics_features(c.images[0], c.masks[0]).shape
    (23,)
    """
    img, m = _region(image, mask)
    views = [img]
    if len(sigmas):
        from scipy.ndimage import gaussian_laplace

        views += [gaussian_laplace(img.astype(np.float64), as_positive_float(s, "sigmas")) for s in sigmas]
    parts: list[Any] = []
    for i, view in enumerate(views):
        parts.append(list(first_order_features(view, m).values()))
        if i == 0:
            parts.append(list(shape_features(m).values()))
        P = glcm(quantize(view, m, levels), list(distances), _ANGLES4, levels, symmetric=True, normed=True, mask=m)
        for prop in GLCM_PROPS:
            vals = glcm_props(P, prop)  # (D, 4)
            parts.append(vals.reshape(-1) if per_angle else vals.mean(axis=1))
    return np.concatenate(parts).astype(np.float64)


# ------------------------------------------------------------------------------------------------
# A radiogenomic phantom cohort with a known Bayes AUC
# ------------------------------------------------------------------------------------------------

_STD_NORMAL = NormalDist()
LATENT_NAMES = ("texture", "enhancement", "shape")


def bayes_auc(shift: float) -> float:
    """The AUC of the Bayes-optimal score when a genotype shifts a latent Gaussian by `shift` SDs.

    If ``z | g ~ N(g * d * u, I)`` for a unit vector ``u``, the likelihood ratio is monotone in
    ``s = u . z``, and ``s | g ~ N(g d, 1)``: a randomly chosen carrier scores higher than a
    randomly chosen non-carrier with probability ``P(s1 - s0 > 0) = Phi(d / sqrt(2))``.

    Examples
    --------
    >>> round(bayes_auc(0.0), 3), round(bayes_auc(1.0), 4)
    (0.5, 0.7602)
    """
    d = float(shift)
    if not math.isfinite(d):
        raise ValueError(f"shift: expected a finite number, got {shift!r}")
    return _STD_NORMAL.cdf(abs(d) / math.sqrt(2.0))


def latent_shift(auc: float) -> float:
    """The inverse of :func:`bayes_auc`: ``d = sqrt(2) Phi^-1(auc)`` for ``0.5 <= auc < 1``.

    Examples
    --------
    >>> round(latent_shift(0.5), 6), round(bayes_auc(latent_shift(0.63)), 6)
    (0.0, 0.63)
    """
    a = float(auc)
    if not 0.5 <= a < 1.0:
        raise ValueError(f"auc: expected a number in [0.5, 1), got {auc!r}")
    return math.sqrt(2.0) * _STD_NORMAL.inv_cdf(a) if a > 0.5 else 0.0


class Cohort(NamedTuple):
    """A simulated radiogenomic cohort (see :func:`simulate_cohort`)."""

    images: np.ndarray    # (N, H, W) float64
    masks: np.ndarray     # (N, H, W) bool, the tumour
    genotype: np.ndarray  # (N,) int64, 1 = carrier (e.g. MGMT promoter methylated)
    latent: np.ndarray    # (N, 3) latent tumour parameters (texture, enhancement, shape)
    bayes_auc: float      # the AUC of the best possible score, Phi(shift / sqrt(2))
    shift: float          # the genotype's shift of the latent, in SDs

    @property
    def oracle_score(self) -> np.ndarray:
        """The Bayes-optimal score ``u . z`` (it needs the hidden latent: no image model sees it)."""
        return self.latent.sum(axis=1) / math.sqrt(self.latent.shape[1])


def _smooth_field(rng: np.random.Generator, n: int, size: int, width: np.ndarray) -> np.ndarray:
    """Unit-variance Gaussian random fields, white noise blurred by a Gaussian of `width` pixels."""
    noise = rng.standard_normal((n, size, size))
    k = np.fft.fftfreq(size)
    k2 = k[:, None] ** 2 + k[None, :] ** 2
    transfer = np.exp(-2 * np.pi ** 2 * width[:, None, None] ** 2 * k2[None])
    field = np.fft.ifft2(np.fft.fft2(noise) * transfer).real
    field -= field.mean(axis=(1, 2), keepdims=True)
    return field / field.std(axis=(1, 2), keepdims=True)


def simulate_cohort(n: int, *, auc: float = 0.63, prevalence: float = 0.5, size: int = 32,
                    seed: int = 0) -> Cohort:
    """Tumour phantoms whose texture, enhancement and shape depend weakly on a binary genotype.

    For each patient: genotype ``g ~ Bernoulli(prevalence)``; latent ``z ~ N(g d u, I_3)`` with
    ``u = (1, 1, 1) / sqrt(3)`` and ``d = latent_shift(auc)``, so the Bayes AUC is exactly `auc`
    (:func:`bayes_auc`). The latent sets three tumour properties:

    * texture: the correlation length of the tumour's texture, ``1.0 exp(0.3 z_texture)`` pixels
      (a Gaussian random field), i.e. fine or coarse heterogeneity;
    * enhancement: the tumour's mean intensity, ``1 + 0.12 z_enhancement``;
    * shape: the amplitude of the outline's harmonics 2–4, ``0.10 exp(0.4 z_shape)`` (irregularity).

    Nuisance properties independent of the genotype: the radius (uniform 6–9 px), the centre
    (±2 px), the phases and weights of the harmonics, the texture field itself, a smooth
    background of brain tissue and white scanner noise (SD 0.05). The images are a noisy view
    of the latent, so a model of the image reaches at most `auc` (usually less).

    Parameters
    ----------
    n : int
        Number of patients (>= 2).
    auc : float, default 0.63
        Bayes AUC in [0.5, 1); 0.5 makes the genotype independent of the image.
    prevalence : float, default 0.5
        Probability of genotype 1, in (0, 1).
    size : int, default 32
        Image side in pixels (>= 24).
    seed : int, default 0

    Returns
    -------
    Cohort

    Shapes
    ------
    images, masks : (n, size, size);  genotype : (n,);  latent : (n, 3)

    Raises
    ------
    ValueError
        For `n` < 2, `size` < 24, `prevalence` outside (0, 1) or `auc` outside [0.5, 1).

    Examples
    --------
    >>> c = simulate_cohort(8, seed=1)
    >>> c.images.shape, c.masks.dtype, round(c.bayes_auc, 2)
    ((8, 32, 32), dtype('bool'), 0.63)
    """
    n = as_int(n, "n", minimum=2)
    size = as_int(size, "size", minimum=24)
    prevalence = float(prevalence)
    if not 0.0 < prevalence < 1.0:
        raise ValueError(f"prevalence: expected a number in (0, 1), got {prevalence!r}")
    d = latent_shift(auc)
    rng = np.random.default_rng(seed)
    g = (rng.random(n) < prevalence).astype(np.int64)
    z = rng.standard_normal((n, 3)) + g[:, None] * d / math.sqrt(3.0)
    # outline: r(theta) = R (1 + a sum_k w_k cos(k theta + phi_k)), k = 2, 3, 4
    radius = rng.uniform(6.0, 9.0, n)
    centre = size / 2 - 0.5 + rng.uniform(-2.0, 2.0, (n, 2))
    amp = 0.10 * np.exp(0.4 * z[:, 2])
    weights = rng.standard_normal((n, 3)) / np.array([2.0, 3.0, 4.0])
    weights /= np.sqrt((weights ** 2).sum(axis=1, keepdims=True))
    phases = rng.uniform(0.0, 2 * np.pi, (n, 3))
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    dy = rows[None] - centre[:, 0, None, None]
    dx = cols[None] - centre[:, 1, None, None]
    rho, theta = np.hypot(dy, dx), np.arctan2(dy, dx)
    wobble = sum(weights[:, i, None, None] * np.cos(k * theta + phases[:, i, None, None])
                 for i, k in enumerate((2, 3, 4)))
    masks = rho <= radius[:, None, None] * (1.0 + amp[:, None, None] * wobble)
    # intensities: tumour texture and enhancement over a smooth background, plus scanner noise
    texture = _smooth_field(rng, n, size, 1.0 * np.exp(0.3 * z[:, 0]))
    background = 0.5 + 0.08 * _smooth_field(rng, n, size, np.full(n, 3.0))
    tumour = 1.0 + 0.12 * z[:, 1, None, None] + 0.25 * texture
    images = np.where(masks, tumour, background) + 0.05 * rng.standard_normal((n, size, size))
    return Cohort(images, masks, g, z, bayes_auc(d), d)
