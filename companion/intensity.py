"""CT display windows: Hounsfield units to grey levels (window / level).

A CT slice holds Hounsfield units (HU) from about -1000 (air) to above +1000 (dense bone), far
more levels than a screen or the eye separates. A *window* picks the HU interval to show: its
*center* (the "level", L) and its *width* (W). Values below ``L - W/2`` are black, values above
``L + W/2`` white, and the interval between is mapped linearly onto ``[0, 1]``. The same CT
slice read with a lung window and with a bone window shows different anatomy, so every CT figure
of the book states its window.

The mapping is the DICOM standard's VOI LUT function (PS3.3 C.11.2.1.2): ``"linear_exact"``
(C.11.2.1.3.2) is the plain formula ``(hu - (L - W/2)) / W``, ``"linear"`` (C.11.2.1.2.1) the
historical variant with ``L - 0.5`` and ``W - 1`` that most viewers and pydicom use by default.
For the windows below (W >= 80 HU) the two differ by less than 1.3 % of the grey range.

This module is a NumPy core: it imports neither torch nor matplotlib.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion._validation import as_float_array, as_positive_float

__all__ = ["WINDOWS", "window", "apply_window", "window_bounds"]

#: Named CT windows as ``(center, width)`` in HU, the usual radiology presets
#: (Radiopaedia, "Windowing (CT)"; Hoang et al. 2010 for brain; see ``radiopaedia_windowing``
#: in the book's references). "soft tissue" and "abdomen" are the same preset.
WINDOWS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "soft tissue": (40.0, 400.0),
    "abdomen": (40.0, 400.0),
    "mediastinum": (50.0, 350.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
}

_FUNCTIONS = ("linear_exact", "linear")


def _check_window(center: Any, width: Any, function: Any) -> tuple[float, float, str]:
    if isinstance(center, bool) or not isinstance(center, (int, float, np.integer, np.floating)):
        raise TypeError(f"center: expected a number (HU), got {type(center).__name__}")
    center = float(center)
    if not np.isfinite(center):
        raise ValueError(f"center: expected a finite number (HU), got {center}")
    width = as_positive_float(width, "width")
    if not isinstance(function, str) or function not in _FUNCTIONS:
        raise ValueError(f"function: expected one of {_FUNCTIONS}, got {function!r}")
    if function == "linear" and width < 1:
        raise ValueError(f"width: expected >= 1 for the 'linear' function, got {width}")
    return center, width, function


def window_bounds(*, center: float, width: float) -> tuple[float, float]:
    """The HU interval a window shows: ``(center - width/2, center + width/2)``.

    Parameters
    ----------
    center : float
        Window center (level) in HU.
    width : float
        Window width in HU, > 0.

    Returns
    -------
    tuple of 2 floats
        ``(lo, hi)``: values ``<= lo`` are shown black, values ``> hi`` white.

    Raises
    ------
    TypeError
        If `center` is not a number.
    ValueError
        If `width` is not positive.

    Examples
    --------
    >>> window_bounds(center=-600, width=1500)
    (-1350.0, 150.0)
    """
    center, width, _ = _check_window(center, width, "linear_exact")
    return center - width / 2, center + width / 2


def window(hu: Any, *, center: float, width: float, function: str = "linear_exact") -> np.ndarray:
    """Map Hounsfield units to display grey levels in ``[0, 1]`` with a window (level, width).

    ``"linear_exact"`` (default, DICOM PS3.3 C.11.2.1.3.2)::

        y = 0                                  if hu <= center - width/2
        y = 1                                  if hu >  center + width/2
        y = (hu - center) / width + 0.5        otherwise

    ``"linear"`` (DICOM PS3.3 C.11.2.1.2.1, pydicom's default) is the same with ``center - 0.5``
    and ``width - 1`` in place of ``center`` and ``width``.

    Parameters
    ----------
    hu : array_like
        Values in Hounsfield units (any shape); integer input is read as float64.
    center : float
        Window center ("level") in HU, keyword-only.
    width : float
        Window width in HU, > 0 (>= 1 for ``"linear"``), keyword-only.
    function : {"linear_exact", "linear"}, default "linear_exact"
        The DICOM VOI LUT function.

    Returns
    -------
    ndarray
        Grey levels in ``[0, 1]``, same shape as `hu`; float32 stays float32, else float64.
        `hu` is not modified.

    Shapes
    ------
    hu : any;  result : same as `hu`

    Raises
    ------
    TypeError
        If `hu` is not numeric or `center` is not a number.
    ValueError
        If `width` is not positive, or `function` is unknown.

    See Also
    --------
    apply_window : the same with a named preset from `WINDOWS`.

    References
    ----------
    DICOM PS3.3, C.11.2.1.2 (``dicom_ps3_3``); window values: ``radiopaedia_windowing``.

    Examples
    --------
    >>> window([-1000.0, -600.0, 0.0, 200.0], center=-600, width=1500).round(4)
    array([0.2333, 0.5   , 0.9   , 1.    ])
    """
    center, width, function = _check_window(center, width, function)
    x = as_float_array(hu, "hu")
    if function == "linear":
        center, width = center - 0.5, width - 1.0
    if width == 0:  # "linear" with width 1: a threshold at center - 0.5
        return (x > center).astype(x.dtype)
    y = (x - x.dtype.type(center)) / x.dtype.type(width) + x.dtype.type(0.5)
    return np.clip(y, 0, 1).astype(x.dtype, copy=False)


def apply_window(hu: Any, preset: str | tuple[float, float], *, function: str = "linear_exact") -> np.ndarray:
    """Window `hu` with a named preset of `WINDOWS` (or an explicit ``(center, width)`` pair).

    Parameters
    ----------
    hu : array_like
        Values in Hounsfield units.
    preset : str or tuple of 2 floats
        A key of `WINDOWS` ("lung", "soft tissue", "abdomen", "mediastinum", "bone", "brain"),
        or ``(center, width)`` in HU.
    function : {"linear_exact", "linear"}, default "linear_exact"
        See `window`.

    Returns
    -------
    ndarray
        Grey levels in ``[0, 1]``, same shape as `hu`.

    Shapes
    ------
    hu : any;  result : same as `hu`

    Raises
    ------
    ValueError
        If `preset` is a name not in `WINDOWS` (the message lists them).
    TypeError
        If `preset` is neither a string nor a pair.

    Examples
    --------
    >>> apply_window([-1000.0, 40.0, 1000.0], "soft tissue").round(3)
    array([0. , 0.5, 1. ])
    >>> apply_window([0.0], (0, 100)).tolist()
    [0.5]
    """
    if isinstance(preset, str):
        if preset not in WINDOWS:
            raise ValueError(f"preset: expected one of {sorted(WINDOWS)}, got {preset!r}")
        center, width = WINDOWS[preset]
    elif isinstance(preset, (tuple, list)) and len(preset) == 2:
        center, width = preset
    else:
        raise TypeError(f"preset: expected a name in WINDOWS or a (center, width) pair, "
                        f"got {type(preset).__name__}")
    return window(hu, center=center, width=width, function=function)
