"""The batch-statistics widget of chap-batchnorm, headless: measured batch statistics equal
batch_norm's own and agree with the exact theory; the static grid; the UI reacting to its controls."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion.normalization import batch_statistics_theory, smoothed_noise
from companion.widgets.batchnorm import batch_stat_grid, batch_stat_sample, batch_stat_widget
from companion.widgets.batchnorm import _gamma_pdf


@pytest.mark.parametrize("n, sigma", [(1, 0.0), (4, 1.0), (16, 1.5)])
def test_sample_agrees_with_theory(n, sigma):
    s = batch_stat_sample(n, sigma, n_batches=1500, pool=2048)
    t = batch_statistics_theory((8, 8, 8), sigma, n)
    assert s.theory == t and s.m == n * 512
    assert s.means.shape == s.variances.shape == (1500,)
    assert s.means.var() == pytest.approx(t.var_mean, rel=0.2)
    assert s.variances.mean() == pytest.approx(t.mean_var, rel=0.03)
    assert s.variances.var() == pytest.approx(t.var_var, rel=0.3)


def test_batch_statistics_are_those_batch_norm_uses():
    # the widget's mean/variance of one batch = torch's batch-norm statistics of that batch
    s = batch_stat_sample(3, 1.0, n_batches=2, pool=16, seed=5)
    pool = smoothed_noise(16, (8, 8, 8), 1.0, seed=5)
    rng = np.random.default_rng(6)
    idx = (rng.integers(0, 16, 2)[:, None] + np.arange(3)) % 16
    x = torch.from_numpy(pool[idx[0]][:, None])  # (N=3, C=1, 8, 8, 8)
    rm, rv = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    F.batch_norm(x, rm, rv, training=True, momentum=1.0)  # momentum 1: running = this batch's stats
    assert s.means[0] == pytest.approx(rm.item(), rel=1e-10)
    m = x.numel()
    assert s.variances[0] == pytest.approx(rv.item() * (m - 1) / m, rel=1e-10)  # torch stores unbiased


def test_gamma_density_has_the_requested_moments():
    x = np.linspace(1e-6, 10, 200001)
    p = _gamma_pdf(x, 0.8, 0.05)
    dx = x[1] - x[0]
    assert np.sum(p) * dx == pytest.approx(1.0, rel=1e-4)
    assert np.sum(x * p) * dx == pytest.approx(0.8, rel=1e-4)
    assert np.sum((x - 0.8) ** 2 * p) * dx == pytest.approx(0.05, rel=1e-3)


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: batch_stat_sample(0), ValueError, r"^n: expected an int >= 1"),
    (lambda: batch_stat_sample(5, pool=4), ValueError, r"^n: expected a batch size <= pool \(4\)"),
    (lambda: batch_stat_sample(2, -1.0), ValueError, r"^sigma: expected a finite number >= 0"),
    (lambda: batch_stat_sample(2.5), TypeError, r"^n: expected an int"),
])
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_widget_updates_on_control_change():
    box = batch_stat_widget()
    c = box.controller
    assert c.sample.n == 2 and c.sample.sigma == 1.0
    before, var_before = c.picture.value, c.sample.means.var()
    c.n.value = 16
    assert c.sample.n == 16 and c.picture.value != before
    assert c.sample.means.var() < var_before / 3  # about 8 times smaller
    assert "M_eff" in c.text.value
    c.sigma.value = 0.0
    assert c.sample.theory.m_eff == pytest.approx(16 * 512)
    assert c.last_update_s > 0


def test_static_grid_has_a_row_per_setting():
    import matplotlib.pyplot as plt
    fig = batch_stat_grid([dict(n=1, sigma=0.0), dict(n=2, sigma=1.0)])
    assert len(fig.axes) == 4 and "N=2" in fig.axes[2].get_title()
    plt.close(fig)


def test_static_explorer():
    from _static_check import check_static

    r = check_static(batch_stat_widget(static=True), alt_words=("batch mean", "N = "))
    assert r["combinations"] == 25
