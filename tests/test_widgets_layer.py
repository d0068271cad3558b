"""The receptive-field widget of chap-layer, headless: pure arithmetic checked, the UI reacts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from companion.layers import receptive_field
from companion.widgets.layer import (
    encoder_layers, receptive_field_gallery, receptive_field_view, receptive_field_widget,
)


def test_encoder_layers_and_view():
    layers = encoder_layers(3, 2, 3)
    assert layers.count((2, 2, 1)) == 2 and len(layers) == 8
    v = receptive_field_view(layers, (0.5, 0.8), (10.0, 20.0), origin=(-100.0, -50.0, 3.0))
    assert v.rf[-1] == receptive_field(layers) == 32
    np.testing.assert_allclose(v.rf_mm[-1], [16.0, 25.6])
    # square centred on pixel (10, 20): x = -100 + 20*0.8, y = -50 + 10*0.5, half-widths 12.8 and 8
    np.testing.assert_allclose(v.boxes[-1], [-84 - 12.8, -84 + 12.8, -45 - 8, -45 + 8])


def test_no_pool_grows_linearly():
    v = receptive_field_view(encoder_layers(3, 2, 3, pool=False), (1.0, 1.0), (0, 0))
    np.testing.assert_array_equal(v.rf, 1 + 2 * np.arange(7))


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: encoder_layers(0), ValueError, r"^levels: expected an int >= 1"),
    (lambda: encoder_layers(2, pool="yes"), TypeError, r"^pool: expected a bool"),
    (lambda: receptive_field_view([(3, 1)], (0.5, 0.0), (1, 1)), ValueError, r"^spacing: expected 2 entries > 0"),
    (lambda: receptive_field_view([(3, 1)], (0.5, 0.5), (1, 1, 1)), ValueError, r"^centre: expected \(row, col\)"),
    (lambda: receptive_field_view([(3,)], (0.5, 0.5), (1, 1)), ValueError, r"^layers: expected each entry"),
])
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_widget_updates_on_control_change():
    rng = np.random.default_rng(0)
    box = receptive_field_widget(rng.normal(size=(32, 32)), (0.7, 0.7), (0.0, 0.0, 0.0))
    c = box.controller
    assert c.view.rf[-1] == 32
    before = c.picture.value
    c.levels.value = 4
    assert c.view.rf[-1] == 68 and c.picture.value != before
    c.pool.value = False
    assert c.view.rf[-1] == 1 + 4 * 2 * 2
    c.dilation.value = 2
    assert c.view.rf[-1] == 1 + 4 * 2 * 4
    assert c.last_update_s > 0


def test_gallery_uses_the_ct_slice():
    import matplotlib.pyplot as plt
    fig = receptive_field_gallery([dict(levels=2)], ncols=1)
    assert len(fig.axes) == 1 and "RF" in fig.axes[0].get_title()
    plt.close(fig)


def test_static_explorer():
    from _static_check import check_static

    box = receptive_field_widget(static=True)
    r = check_static(box, alt_words=("CT slice", "receptive field"))
    assert r["combinations"] == 30
    assert [w.description for w in box.controller.fixed] == ["convs per level", "dilation"]


def test_encoder_layers_is_the_unet_plan_with_dilation():
    from companion.unet import make_plan, plan_layers, plan_receptive_field
    from companion.layers import receptive_field

    for levels, convs, k in ((1, 1, 3), (3, 2, 3), (4, 3, 5)):
        plan = make_plan([k] * levels, [2] * (levels - 1), 8, convs=convs, dims=1)
        assert [(a, b) for a, b, _ in encoder_layers(levels, convs, k)] == plan_layers(plan, 0)
        assert receptive_field([(a, b) for a, b, _ in encoder_layers(levels, convs, k)]) == plan_receptive_field(plan)[0]
    assert encoder_layers(2, 1, 3, 2) == [(3, 1, 2), (2, 2, 1), (3, 1, 2)]
    assert encoder_layers(3, 1, 3, pool=False) == [(3, 1, 1)] * 3
