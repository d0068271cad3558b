"""Companion code of *Convolutional Neural Networks in Medical Image Analysis*.

Each module holds one mechanism that a chapter of the book explains:

=====================  ==========================================================
``convolution``        correlation, true convolution, their backward pass, transposed convolution
``frequency``          the convolution theorem on the DFT, frequency responses of kernels
``geometry``           voxel index <-> world coordinates, slice order and spacing, memory strides
``intensity``          CT window/level, normalisation, bias fields, shifts and augmentation
``layers``             the full convolution layer, parameter counts, receptive field
``init``               weight initialisation and signal propagation (He et al.)
``activations``        ReLU, LeakyReLU, ELU and their derivatives
``normalization``      batch, instance and group normalisation
``batch_statistics``   how noisy a mini-batch's mean and variance are; the train/eval gap
``pooling``            average / max pooling and its backward pass, box-filter response, blur pooling
``residual``           the linear theory of gradients through plain and residual stacks
``unet``               the arithmetic of a U-Net plan: parameters, memory, receptive field
``losses``             softmax, cross-entropy, soft / generalised Dice, Tversky, focal
``metrics``            Dice, Hausdorff distance and other segmentation metrics
``calibration``        reliability diagrams, ECE, Brier score, temperature scaling
``baselines``          classical segmentation baselines (global and smoothed thresholds)
``segmentation``       tissue segmentation of real anatomy: honest splits, Gaussian mixture, per-tissue scores
``lesions``            lesions inserted into real anatomy, per-lesion detection counts, FROC
``attribution``        scoring explanations where the truth is known: pointing game, attribution inside
``radiomics``          GLCM texture and other radiomics features, a radiogenomic cohort
``evaluation``         AUC, its uncertainty, honest and nested cross-validation
``gradcheck``          centred finite differences for gradient checks
``data``               seeded synthetic phantoms and the real samples packages ship
``models``             PyTorch: networks (U-Net, plain and residual nets), training (``train``),
                       explanations (``explain``); ``companion.train``/``companion.explain`` alias them
``widgets``            the interactive figures of the chapters
``exercises``          auto-checked, per-learner exercises
=====================  ==========================================================

Importing ``companion`` is cheap: submodules load on first use, and the core ones need only NumPy.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "activations", "attribution", "baselines", "batch_statistics", "calibration", "convolution",
    "data", "evaluation", "exercises", "explain", "frequency", "geometry", "gradcheck", "init",
    "intensity", "layers", "lesions", "losses", "metrics", "models", "normalization", "pooling",
    "radiomics", "residual", "segmentation", "train", "unet", "widgets",
)
__all__ = [*_SUBMODULES, "book_seed", "book_threads"]


def book_seed(offset: int = 0) -> int:
    """The seed of every random generator in the book's chapters.

    ``int(BOOK_SEED) + offset`` when the environment variable ``BOOK_SEED`` is set, else
    ``offset``. A chapter derives each of its generators from it (``book_seed(1)``,
    ``book_seed(2)``, ...), so ``BOOK_SEED=7 make book`` is another, equally valid run of the
    whole book: every claim the chapters assert must hold for any value.

    Parameters
    ----------
    offset : int, default 0
        Distinguishes the generators of one chapter (one offset per experiment).

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If `offset` is not an integer.
    ValueError
        If ``BOOK_SEED`` is set to something that is not an integer.

    Examples
    --------
    >>> import os
    >>> os.environ.pop("BOOK_SEED", None) and None
    >>> book_seed(), book_seed(3)
    (0, 3)
    >>> os.environ["BOOK_SEED"] = "7"
    >>> book_seed(3)
    10
    >>> del os.environ["BOOK_SEED"]
    """
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise TypeError(f"offset: expected an int, got {type(offset).__name__}")
    raw = os.environ.get("BOOK_SEED", "").strip()
    if not raw:
        return offset
    try:
        base = int(raw)
    except ValueError:
        raise ValueError(f"BOOK_SEED: expected an integer, got {raw!r}") from None
    return base + offset


def book_threads() -> int:
    """How many CPU threads torch uses in the chapters: ``BOOK_THREADS``, default 1.

    The chapters' models are small, so one thread is the fastest setting; ``make robust`` also
    runs them with two, because float sums are grouped differently across threads and a claim
    must not depend on it.

    Returns
    -------
    int
        At least 1.

    Raises
    ------
    ValueError
        If ``BOOK_THREADS`` is set to something other than a positive integer.

    Examples
    --------
    >>> import os
    >>> os.environ.pop("BOOK_THREADS", None) and None
    >>> book_threads()
    1
    """
    raw = os.environ.get("BOOK_THREADS", "").strip()
    if not raw:
        return 1
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"BOOK_THREADS: expected a positive integer, got {raw!r}")
    return n


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"companion.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'companion' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
