"""Companion code of *Convolutional Neural Networks in Medical Image Analysis*.

Each module holds one mechanism that a chapter of the book explains:

=====================  ==========================================================
``convolution``        correlation, true convolution, their backward pass
``geometry``           voxel index <-> world coordinates, memory strides
``layers``             the full convolution layer, parameter counts, receptive field
``activations``        ReLU, LeakyReLU, ELU and their derivatives
``normalization``      batch, instance and group normalisation
``pooling``            average / max pooling, box-filter response, blur pooling
``losses``             softmax, cross-entropy, soft Dice, composite loss
``calibration``        reliability diagrams and expected calibration error
``data``               seeded synthetic phantoms and the real samples packages ship
``models``, ``train``  PyTorch networks (U-Net, plain and residual nets) and training
``widgets``            the interactive figures of the chapters
``exercises``          auto-checked, per-learner exercises
=====================  ==========================================================

Importing ``companion`` is cheap: submodules load on first use, and the core ones need only NumPy.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "activations", "calibration", "convolution", "data", "exercises", "geometry", "layers",
    "losses", "models", "normalization", "pooling", "train", "widgets",
)
__all__ = list(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"companion.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'companion' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
