"""companion.intensity: CT window/level against a hand computation and pydicom's apply_windowing."""

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import apply_windowing

from companion.data import load_ct_slice
from companion.intensity import WINDOWS, apply_window, window, window_bounds


def _pydicom_window(hu, center, width, function):
    """pydicom's DICOM VOI LUT on HU values, rescaled to [0, 1] (the oracle).

    A signed 16-bit dataset with slope 1 and intercept 0: pydicom maps onto [-32768, 32767].
    """
    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsStored = 16
    ds.PixelRepresentation = 1
    ds.RescaleSlope = 1
    ds.RescaleIntercept = 0
    ds.WindowCenter = center
    ds.WindowWidth = width
    ds.VOILUTFunction = function.upper()
    y = apply_windowing(np.asarray(hu, dtype=np.float64), ds)
    return (y + 32768.0) / 65535.0


HAND_CASES = [  # hu, center, width, expected grey levels (worked by hand with the plain formula)
    pytest.param([-1350.0, -1000.0, -600.0, 150.0, 151.0], -600, 1500,
                 [0.0, 350 / 1500, 0.5, 1.0, 1.0], id="lung"),
    pytest.param([-160.0, 40.0, 140.0, 240.0, 1000.0], 40, 400, [0.0, 0.5, 0.75, 1.0, 1.0],
                 id="soft-tissue"),
    pytest.param([0.0, 20.0, 40.0, 80.0], 40, 80, [0.0, 0.25, 0.5, 1.0], id="brain"),
]


@pytest.mark.parametrize("hu, center, width, expected", HAND_CASES)
def test_window_by_hand(hu, center, width, expected):
    np.testing.assert_allclose(window(hu, center=center, width=width), expected, atol=1e-12)


@pytest.mark.parametrize("function", ["linear_exact", "linear"])
@pytest.mark.parametrize("preset", sorted(WINDOWS))
def test_window_matches_pydicom_on_real_ct(preset, function):
    hu = load_ct_slice().pixels.astype(np.float64)
    # include the exact bounds, where the DICOM rule's closed/open ends matter
    lo, hi = window_bounds(center=WINDOWS[preset][0], width=WINDOWS[preset][1])
    hu = np.concatenate([hu.ravel(), [lo, hi, lo - 0.5, hi + 0.5, -3000.0, 3000.0]])
    ours = apply_window(hu, preset, function=function)
    oracle = _pydicom_window(hu, *WINDOWS[preset], function)
    np.testing.assert_allclose(ours, oracle, atol=1e-9)
    assert ours.min() >= 0 and ours.max() <= 1


def test_linear_and_linear_exact_differ():
    """The 0.5 / width-1 shift of DICOM's 'linear' is real (catches dropping it)."""
    a = window([40.0], center=40, width=80, function="linear_exact")
    b = window([40.0], center=40, width=80, function="linear")
    assert a[0] == 0.5 and abs(b[0] - (0.5 + 0.5 / 79)) < 1e-12


def test_presets_are_the_standard_values():
    assert WINDOWS["lung"] == (-600.0, 1500.0)
    assert WINDOWS["soft tissue"] == WINDOWS["abdomen"] == (40.0, 400.0)
    assert WINDOWS["bone"] == (400.0, 1800.0)
    assert WINDOWS["brain"] == (40.0, 80.0)


def test_dtype_kept_and_input_not_mutated():
    hu = np.array([[-1000.0, 0.0], [500.0, 2000.0]], dtype=np.float32)
    before = hu.copy()
    y = apply_window(hu, "bone")
    assert y.dtype == np.float32 and y.shape == (2, 2)
    np.testing.assert_array_equal(hu, before)
    assert window(np.array([0, 100]), center=0, width=100).dtype == np.float64


def test_windows_show_different_anatomy_on_the_real_slice():
    """Lung window: lung parenchyma spread over grey levels; soft-tissue window: it is all black."""
    hu = load_ct_slice().pixels
    lung = hu < -500
    assert lung.mean() > 0.05
    assert np.ptp(apply_window(hu[lung], "lung")) > 0.2
    assert np.all(apply_window(hu[lung], "soft tissue") == 0)


BAD_CALLS = [
    (lambda: window([0.0], center=0, width=0), ValueError, r"^width: expected"),
    (lambda: window([0.0], center=0, width=-5), ValueError, r"^width: expected"),
    (lambda: window([0.0], center="40", width=400), TypeError, r"^center: expected a number"),
    (lambda: window([0.0], center=float("nan"), width=400), ValueError, r"^center: expected a finite"),
    (lambda: window("abc", center=0, width=10), TypeError, r"^hu: expected"),
    (lambda: window([0.0], center=0, width=0.5, function="linear"), ValueError, r"^width: expected >= 1"),
    (lambda: window([0.0], center=0, width=10, function="sigmoid"), ValueError, r"^function: expected"),
    (lambda: apply_window([0.0], "liver"), ValueError, r"^preset: expected one of"),
    (lambda: apply_window([0.0], 40), TypeError, r"^preset: expected a name"),
]


@pytest.mark.parametrize("call, exc, match", BAD_CALLS)
def test_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
