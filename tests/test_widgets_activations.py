"""The activation widget of chap-activations, headless: the pure panel against torch and scipy,
the static grid, and the UI reacting to its controls."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import norm

from companion.widgets.activations import activation_grid, activation_panel, activation_widget

TORCH = {"relu": lambda t, p: F.relu(t), "leaky_relu": F.leaky_relu, "elu": F.elu}


@pytest.mark.parametrize("name, param", [("relu", None), ("leaky_relu", 0.2), ("elu", 1.5)])
def test_panel_curves_match_torch_autograd(name, param):
    p = activation_panel(name, param, 0.0)
    xt = torch.tensor(p.x, requires_grad=True)
    y = TORCH[name](xt, param)
    (g,) = torch.autograd.grad(y.sum(), xt)
    np.testing.assert_allclose(p.f, y.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p.df, g.numpy(), rtol=1e-12, atol=1e-12)
    assert 0.0 in p.x  # the grid contains the kink


@pytest.mark.parametrize("shift", [-2.0, -0.5, 0.0, 1.0])
def test_panel_silent_fraction_matches_gaussian_theory(shift):
    p = activation_panel("relu", None, shift, n_samples=400, n_units=200)
    assert p.inactive == pytest.approx(p.inactive_theory, abs=0.01)
    # ||w_j||^2 is about 1, so the theory is close to Phi(-shift)
    assert p.inactive_theory == pytest.approx(norm.cdf(-shift), abs=0.03)
    assert p.z.shape == (400, 200)


def test_panel_dead_units_grow_with_negative_shift_and_elu_mean_is_lower():
    dead = [activation_panel("relu", None, s).dead for s in (0.0, -2.0, -3.0)]
    assert dead[0] == 0.0 and dead[1] < dead[2] and dead[2] > 0.3
    relu, elu = activation_panel("relu", None, 0.0), activation_panel("elu", 1.0, 0.0)
    # N(0, 1) pre-activations: E ReLU = 1/sqrt(2 pi) = 0.399; E ELU = 0.399 + e^0.5 Phi(-1) - 0.5 = 0.161
    assert relu.mean_output == pytest.approx(1 / np.sqrt(2 * np.pi), abs=0.03)
    assert elu.mean_output == pytest.approx(1 / np.sqrt(2 * np.pi) + np.exp(0.5) * norm.cdf(-1) - 0.5, abs=0.03)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: activation_panel("gelu"), ValueError, r"^name: expected one of"),
    (lambda: activation_panel("relu", shift="a"), TypeError, r"^shift: expected a number"),
    (lambda: activation_panel("relu", n_units=0), ValueError, r"^n_units: expected an int >= 1"),
])
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_widget_updates_on_control_change():
    box = activation_widget()
    c = box.controller
    assert c.panel.name == "relu" and c.panel.shift == 0.0
    before = c.picture.value
    c.shift.value = -2.0
    assert c.panel.shift == -2.0 and c.panel.inactive > 0.9 and c.picture.value != before
    c.name.value = "elu"
    c.param.value = 0.5
    assert c.panel.name == "elu" and c.panel.param == 0.5
    np.testing.assert_allclose(c.panel.f.min(), 0.5 * np.expm1(-4.0))
    assert "ELU" in c.text.value and "silent" in c.text.value
    assert c.last_update_s > 0


def test_static_grid_has_a_row_per_setting():
    import matplotlib.pyplot as plt
    fig = activation_grid([dict(name="relu"), dict(name="elu", shift=-1.0)])
    assert len(fig.axes) == 6 and "ELU" in fig.axes[3].get_title()
    plt.close(fig)


def test_static_explorer():
    from _static_check import check_static

    box = activation_widget(static=True)
    r = check_static(box, alt_words=("bias shift",))
    assert r["combinations"] == 15
    assert [w.description for w in box.controller.fixed] == ["slope / α"]     # shown disabled
