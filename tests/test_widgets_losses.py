"""Widget of chap-losses: the pure landscape against closed forms, the UI driven headlessly."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from companion.widgets.losses import landscape_grid, loss_landscape, loss_widget


def test_landscape_matches_closed_forms():
    land = loss_landscape(0.02, background_prob=0.05, n_pixels=500, eps=0.0)
    n, m, b, p = 500, 10, 0.05, land.p
    ce = -(m * np.log(p) + (n - m) * np.log(1 - b)) / n
    dice = 2 * m * p / (m * p + (n - m) * b + m)
    np.testing.assert_allclose(land.ce, ce, rtol=1e-12)
    np.testing.assert_allclose(land.dice, 1 - dice, rtol=1e-12)
    # one lesion pixel: dCE/dz = (p - 1)/n ; dD/dp_i = (2 - D)/U, chained through sigmoid
    np.testing.assert_allclose(land.ce_grad, (p - 1) / n, rtol=1e-12)
    u = m * p + (n - m) * b + m
    np.testing.assert_allclose(land.dice_grad, -(2 - dice) / u * p * (1 - p), rtol=1e-10)


def test_dice_gradient_ignores_image_size_but_ce_does_not():
    # the same 10-pixel lesion in a 10x larger image, background predicted near 0
    small = loss_landscape(0.01, n_pixels=1000, grid=[0.5], background_prob=1e-4)
    big = loss_landscape(0.001, n_pixels=10000, grid=[0.5], background_prob=1e-4)
    assert abs(big.ce_grad[0]) == pytest.approx(abs(small.ce_grad[0]) / 10)
    assert abs(big.dice_grad[0]) == pytest.approx(abs(small.dice_grad[0]), rel=0.1)
    # soft false positives over a large background dilute the Dice gradient too (U grows)
    diluted = loss_landscape(0.001, n_pixels=10000, grid=[0.5], background_prob=0.05)
    assert abs(diluted.dice_grad[0]) < abs(big.dice_grad[0]) / 10


def test_widget_updates_on_slider_change():
    box = loss_widget()
    ctl = box.controller
    first = ctl.picture.value
    assert first and ctl.landscape.n_foreground == 10
    ctl.p.value = 0.9
    assert ctl.picture.value != first and "p = 0.90" in ctl.readout.get_text()
    ctl.fraction.value = 0.1
    assert ctl.landscape.n_foreground == 100


def test_static_grid_has_a_row_per_fraction():
    fig = landscape_grid((0.5, 0.01))
    assert len(fig.axes) == 4


@pytest.mark.parametrize("kwargs, match", [
    (dict(fraction=1.5), r"^fraction: expected a share in \(0, 1\)"),
    (dict(fraction=0.1, background_prob=0.0), r"^background_prob: expected a finite number > 0"),
    (dict(fraction=0.1, grid=[0.0, 0.5]), r"^grid: expected a 1-D sequence of probabilities"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        loss_landscape(**kwargs)


def test_static_explorer():
    from _static_check import check_static

    r = check_static(loss_widget(static=True), alt_words=("cross-entropy", "at p = "))
    assert r["combinations"] == 20
