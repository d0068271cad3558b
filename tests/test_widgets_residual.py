"""The gradient-flow widget, headless: panel against the linear theory, the UI reacting."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion.widgets.residual import gradient_grid, gradient_panel, gradient_widget


def test_panel_follows_linear_theory_on_average():
    p = gradient_panel(30, 0.7, width=64, batch=64)
    assert p.plain.shape == p.residual.shape == (31,) and p.plain[-1] == p.residual[-1] == 1.0
    # a single network fluctuates around the expectation; on a log scale it stays close
    assert abs(np.log(p.plain[0] / p.plain_theory[0])) < 0.5
    assert abs(np.log(p.residual[0] / p.residual_theory[0])) < 0.5
    assert p.plain[0] < 1e-3 < 1e2 < p.residual[0]


def test_bad_calls():
    with pytest.raises(ValueError, match=r"^depth: expected an int <= 200"):
        gradient_panel(500, 1.0)
    with pytest.raises(ValueError, match=r"^sigma: expected a number in"):
        gradient_panel(5, 4.0)


def test_widget_updates_on_control_change():
    ui = gradient_widget()
    c = ui.controller
    first = c.picture.value
    c.depth.value = 5
    assert c.panel.depth == 5 and c.panel.plain.shape == (6,) and c.picture.value != first
    c.sigma.value = 0.0
    assert c.panel.sigma == 0.0 and c.panel.plain[0] == 0.0 and c.panel.residual[0] == pytest.approx(1.0)


def test_static_grid():
    fig = gradient_grid(((5, 0.5), (10, 1.0), (3, 0.2)))
    assert sum(ax.get_visible() for ax in fig.axes) == 3
    plt.close(fig)


@pytest.mark.parametrize("depth, sigma", [(7, 0.6), (20, 1.3), (3, 0.0)])
def test_fast_linear_path_equals_torch_autograd(depth, sigma):
    from companion.widgets.residual import _linear_norms, _torch_norms
    fast = _linear_norms(depth, sigma, 32, 32, 0)
    slow = _torch_norms(depth, sigma, 32, 32, "linear", 0)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)


def test_relu_panel_uses_autograd_path():
    p = gradient_panel(6, 1.4, activation="relu")
    assert p.plain.shape == (7,) and np.all(p.residual[:-1] > 1.0)


def test_static_explorer():
    from _static_check import check_static

    r = check_static(gradient_widget(static=True), alt_words=("depth L =", "init σ ="))
    assert r["combinations"] == 25
