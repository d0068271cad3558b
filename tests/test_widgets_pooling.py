"""The pooling widget, headless: the panel against numpy.fft and the box response, the UI reacting."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion.pooling import box_filter_response
from companion.widgets.pooling import pooling_grid, pooling_panel, pooling_widget


@pytest.mark.parametrize("k, f0, where, aliased", [
    pytest.param(2, 0.1, 0.2, False, id="below-nyquist"),   # 0.1 cyc/in = 0.2 cyc/out, kept
    pytest.param(2, 0.4, 0.2, True, id="folds"),            # 0.8 cyc/out folds to 0.2
    pytest.param(4, 0.2, 0.2, True, id="k4-folds"),         # 0.8 -> 0.2
    pytest.param(3, 0.1, 0.3, False, id="k3-kept"),
])
def test_panel_peak_is_at_the_predicted_alias(k, f0, where, aliased):
    p = pooling_panel(k, f0)
    assert p.aliased is aliased and p.alias_f == pytest.approx(where)
    peak = np.argmax(p.spec_y[1:]) + 1
    assert p.freq_y[peak] == pytest.approx(where, abs=1e-12)
    assert p.spec_y[peak] == pytest.approx(box_filter_response(k, f0), rel=1e-6)
    assert p.spec_x.max() == pytest.approx(1.0, rel=1e-9)


def test_bad_calls():
    with pytest.raises(ValueError, match=r"^f0: expected a frequency"):
        pooling_panel(2, 0.7)
    with pytest.raises(ValueError, match=r"^n: expected a multiple"):
        pooling_panel(3, 0.1, n=100)
    with pytest.raises(ValueError, match=r"^k: expected an int <= 8"):
        pooling_panel(9, 0.1)


def test_widget_updates_on_control_change():
    ui = pooling_widget()
    c = ui.controller
    first = c.picture.value
    assert c.panel.k == 2 and first[:4] == b"\x89PNG"
    c.k.value = 4
    assert c.panel.k == 4 and c.picture.value != first
    c.f0.value = 0.1
    assert c.panel.f0 == pytest.approx(0.1) and not c.panel.aliased


def test_static_grid_has_a_row_per_setting():
    fig = pooling_grid(((2, 0.1), (4, 0.2)))
    assert len(fig.axes) == 4
    plt.close(fig)


def test_static_explorer():
    from _static_check import check_static

    r = check_static(pooling_widget(static=True), alt_words=("pooled by k =",))
    assert r["combinations"] == 18
