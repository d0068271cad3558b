"""PyTorch networks of the book.

``import companion`` does not import torch; the names below load their submodule on first use:

- :class:`UNet`, :func:`count_parameters` — ``companion.models.unet``
- :class:`PlainNet`, :class:`ResidualNet` — ``companion.models.resnets``
- torch twins of the losses — ``companion.models.losses``
- the training loop — ``companion.models.train`` (also ``companion.train``)
- saliency, SmoothGrad, Grad-CAM, occlusion, Integrated Gradients — ``companion.models.explain`` (also
  ``companion.explain``)
- the small image classifier of chap-explainability and its training loop — ``companion.models.classifier``

Every module that imports torch lives in this subpackage; the NumPy cores beside it never do.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "UNet": "unet",
    "count_parameters": "unet",
    "PlainNet": "resnets",
    "ResidualNet": "resnets",
}
__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"companion.models.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    if name in ("unet", "resnets", "losses", "train", "explain", "erf", "classifier"):
        return importlib.import_module(f"companion.models.{name}")
    raise AttributeError(f"module 'companion.models' has no attribute {name!r}")
