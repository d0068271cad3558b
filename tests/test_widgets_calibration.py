"""Widget of chap-calibration: reliability under temperature, the UI driven headlessly."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from companion.calibration import expected_calibration_error, top_label
from companion.losses import softmax
from companion.calibration import reliability_diagram
from companion.widgets.calibration import (draw_confidence_histogram, reliability_at_temperature, reliability_grid,
                                           temperature_widget)


def _data():
    rng = np.random.default_rng(0)
    z = 4 * rng.standard_normal((4, 2, 16, 16))
    p = softmax(z / 3.0)  # labels drawn from softer probabilities: the raw logits are over-confident
    t = (rng.uniform(size=(4, 16, 16)) < p[:, 1]).astype(np.int64)
    return z, t


def test_reliability_at_temperature_equals_ece_of_scaled_softmax():
    z, t = _data()
    for temp in (0.5, 1.0, 3.0):
        rel = reliability_at_temperature(z, t, temp)
        assert rel.ece == pytest.approx(expected_calibration_error(*top_label(softmax(z / temp), t)))
    assert reliability_at_temperature(z, t, 3.0).ece < reliability_at_temperature(z, t, 1.0).ece / 2


def test_widget_updates_on_slider_change():
    z, t = _data()
    ctl = temperature_widget(z, t).controller
    before, ece_before = ctl.picture.value, ctl.reliability.ece
    ctl.temperature.value = 3.0
    assert ctl.picture.value != before
    assert ctl.reliability.ece < ece_before


def test_static_grid():
    z, t = _data()
    fig = reliability_grid(z, t, (1.0, 3.0))
    assert len(fig.axes) == 2


def test_bad_temperature():
    z, t = _data()
    with pytest.raises(ValueError, match=r"^temperature: expected a finite number > 0"):
        reliability_at_temperature(z, t, 0.0)


def test_confidence_histogram_heights_are_bin_shares():
    import matplotlib.pyplot as plt

    z, t = _data()
    rel = reliability_diagram(*top_label(softmax(z), t))
    fig, ax = plt.subplots()
    bars = draw_confidence_histogram(rel, ax)
    heights = np.array([b.get_height() for b in bars])
    np.testing.assert_allclose(heights, rel.counts / rel.counts.sum())
    assert heights.sum() == pytest.approx(1.0) and ax.get_yscale() == "log"
    # the bins are those of the reliability diagram: (lo, hi], as many as rel.counts
    assert len(bars) == len(rel.counts) == 15
    plt.close(fig)


def test_static_explorer_switches_precomputed_diagrams_without_a_kernel():
    from companion.widgets._render import explorer_report

    z, t = _data()
    box = temperature_widget(z, t, static=True)
    r = explorer_report(box)
    n = len(box.controller.values["temperature"])
    assert r["combinations"] == r["leaves"] == r["distinct_leaves"] == r["images"] == n >= 7
    assert all(src is box.controller.controls["temperature"] and attr == "index" and tattr == "selected_index"
               for src, attr, _t, tattr in r["links"])
    assert len(r["alts"]) == n and all("temperature T = " in a and "ECE" in a for a in r["alts"])
    assert r["descriptions"] == ["temperature T"]
    assert box.controller.controls["temperature"].value == box.controller.values["temperature"].index(1.0)
    assert r["state_bytes"] < 1_000_000
