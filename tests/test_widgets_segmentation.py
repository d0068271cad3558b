"""Widget of chap-segmentation: the threshold view (pure) and its UI, driven headlessly."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from companion.metrics import dice_score
from companion.segmentation import boundary_mask, threshold_tissues
from companion.widgets._render import explorer_report
from companion.widgets.segmentation import threshold_view, threshold_widget


def _volume():
    """Three nested tissues with partial-volume-like ramps between them, plus noise."""
    rng = np.random.default_rng(0)
    d, h, w = np.mgrid[0:4, 0:32, 0:32]
    r = np.hypot(h - 15.5, w - 15.5)
    labels = np.select([r < 5, r < 10, r < 14], [1, 3, 2], 0).astype(np.int64)
    image = np.select([r < 5, r < 10, r < 14], [0.4, 0.85, 0.65], 0.0) + rng.normal(0, 0.03, r.shape)
    return np.where(labels > 0, image, 0.0), labels


def test_threshold_view_is_threshold_tissues_and_dice():
    image, labels = _volume()
    v = threshold_view(image, labels, 0.52, 0.75)
    expected = threshold_tissues(image, labels > 0, [0.52, 0.75])
    np.testing.assert_array_equal(v.pred, expected)
    np.testing.assert_array_equal(v.dice, dice_score(expected, labels, 4))
    wrong = (expected != labels) & (labels > 0)
    b = boundary_mask(labels, axes=(1, 2))
    assert v.boundary_error_share == pytest.approx((wrong & b).sum() / wrong.sum())
    assert v.dice.min() > 0.9 and v.thresholds == (0.52, 0.75)


def test_bad_thresholds():
    image, labels = _volume()
    with pytest.raises(ValueError, match=r"^high: expected a threshold above low"):
        threshold_view(image, labels, 0.7, 0.6)
    with pytest.raises(ValueError, match=r"^image: expected 3 dims"):
        threshold_view(image[0], labels[0], 0.5, 0.7)


def test_live_widget_updates_on_slider_change():
    image, labels = _volume()
    ctl = threshold_widget(image, labels, static=False).controller
    before, dice_before = ctl.picture.value, ctl.view.dice.copy()
    ctl.low.value = 0.62                      # most grey matter (0.65) becomes CSF
    assert ctl.view.dice[0] < dice_before[0] and ctl.view.dice[1] < dice_before[1]
    assert ctl.picture.value != before and "Dice" in ctl.text.value
    assert len(ctl.alt_texts()) == 2


def test_static_explorer():
    image, labels = _volume()
    r = explorer_report(threshold_widget(image, labels, static=True))
    assert r["combinations"] == r["leaves"] == 9
    assert r["images"] == 2 * r["leaves"] and len(r["alts"]) == r["images"]
    assert r["state_bytes"] < 1_000_000
