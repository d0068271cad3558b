"""companion.calibration against torchmetrics, hand-checkable tables and scipy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchmetrics.functional.classification import binary_calibration_error, multiclass_calibration_error

from companion.calibration import (
    expected_calibration_error,
    expected_report_losses,
    optimal_reports,
    maximum_calibration_error,
    reliability_bins,
    reliability_diagram,
    temperature_scale,
    top_label,
)
from companion.losses import cross_entropy, softmax


def _off_edges(n, n_bins, seed):
    """Confidences in [0, 1] at least 1e-6 away from every bin edge, and outcomes."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(0, 1, n)
    edges = np.linspace(0, 1, n_bins + 1)
    c = c[np.min(np.abs(c[:, None] - edges[None]), axis=1) > 1e-6]
    correct = rng.uniform(size=c.size) < c ** 1.5  # over-confident on purpose
    return c, correct


ECE_CASES = [  # number of predictions, bins, seed
    pytest.param(500, 15, 0, id="15-bins"),
    pytest.param(2000, 15, 1, id="15-bins-large"),
    pytest.param(300, 10, 2, id="10-bins"),
    pytest.param(50, 1, 3, id="one-bin"),  # ECE = |mean conf - accuracy|
    pytest.param(40, 30, 4, id="empty-bins"),  # most bins empty: they must not count
]


@pytest.mark.parametrize("n, n_bins, seed", ECE_CASES)
def test_ece_matches_torchmetrics(n, n_bins, seed):
    c, correct = _off_edges(n, n_bins, seed)
    expected = binary_calibration_error(torch.from_numpy(c), torch.from_numpy(correct).long(), n_bins=n_bins, norm="l1")
    assert expected_calibration_error(c, correct, n_bins) == pytest.approx(float(expected), abs=1e-12)
    expected_max = binary_calibration_error(torch.from_numpy(c), torch.from_numpy(correct).long(), n_bins=n_bins, norm="max")
    assert maximum_calibration_error(c, correct, n_bins) == pytest.approx(float(expected_max), abs=1e-12)


def test_ece_top_label_matches_torchmetrics_multiclass():
    rng = np.random.default_rng(5)
    z = 3 * rng.standard_normal((4, 3, 6, 6))
    t = rng.integers(0, 3, (4, 6, 6))
    conf, correct = top_label(softmax(z), t)
    flat = torch.from_numpy(softmax(z)).movedim(1, -1).reshape(-1, 3)
    expected = multiclass_calibration_error(flat, torch.from_numpy(t).reshape(-1), num_classes=3, n_bins=15, norm="l1")
    assert expected_calibration_error(conf, correct) == pytest.approx(float(expected), abs=1e-6)


def test_default_is_15_equal_width_bins_as_guo_2017():
    # Guo et al. 2017 use M = 15 equal-width bins: the default must be those, not 10 or 20
    c, correct = _off_edges(3000, 15, 7)
    counts, _, _ = reliability_bins(c, correct)
    assert counts.shape == (15,)
    edges = np.linspace(0, 1, 16)
    np.testing.assert_array_equal(counts, [np.sum((c > lo) & (c <= hi)) for lo, hi in zip(edges[:-1], edges[1:])])
    tm15 = binary_calibration_error(torch.from_numpy(c), torch.from_numpy(correct).long(), n_bins=15, norm="l1")
    assert expected_calibration_error(c, correct) == pytest.approx(float(tm15), abs=1e-12)
    assert abs(expected_calibration_error(c, correct) - expected_calibration_error(c, correct, 10)) > 1e-6


def test_edge_values_lo_hi_convention():
    # 4 bins with exact edges 0, .25, .5, .75, 1. Ours: (lo, hi], so 0.5 is in bin 2 (0.25, 0.5] and
    # 0.6 in bin 3; torchmetrics: [lo, hi), both in [0.5, 0.75).
    c, correct = np.array([0.5, 0.6]), np.array([0, 1])
    counts, conf, acc = reliability_bins(c, correct, n_bins=4)
    np.testing.assert_array_equal(counts, [0, 1, 1, 0])
    assert expected_calibration_error(c, correct, 4) == pytest.approx((0.5 + 0.4) / 2)
    theirs = binary_calibration_error(torch.tensor(c), torch.tensor(correct), n_bins=4, norm="l1")
    assert float(theirs) == pytest.approx(abs(0.55 - 0.5))  # one bin: the two disagree on edges
    # 0 goes into the first bin, 1 into the last
    counts, _, _ = reliability_bins([0.0, 1.0, 0.25], [0, 1, 0], n_bins=4)
    np.testing.assert_array_equal(counts, [2, 0, 0, 1])


def test_reliability_bins_hand_table():
    c = [0.1, 0.15, 0.7, 0.8, 0.95, 1.0]
    k = [0, 1, 1, 0, 1, 1]
    counts, conf, acc = reliability_bins(c, k, n_bins=2)
    np.testing.assert_array_equal(counts, [2, 4])
    np.testing.assert_allclose(conf, [0.125, (0.7 + 0.8 + 0.95 + 1.0) / 4])
    np.testing.assert_allclose(acc, [0.5, 0.75])
    ece = (2 * abs(0.5 - 0.125) + 4 * abs(0.75 - 0.8625)) / 6
    assert expected_calibration_error(c, k, 2) == pytest.approx(ece)
    rel = reliability_diagram(c, k, 2)
    assert rel.ece == pytest.approx(ece) and rel.mce == pytest.approx(0.375)
    np.testing.assert_allclose(rel.edges, [0, 0.5, 1])


def test_empty_bins_are_nan_and_perfect_calibration_is_zero():
    counts, conf, acc = reliability_bins([0.95, 0.95], [1, 1], n_bins=10)
    assert counts.sum() == 2 and np.isnan(conf[0]) and np.isnan(acc[0])
    # 20 predictions at 0.75, 15 of them right: perfectly calibrated
    assert expected_calibration_error(np.full(20, 0.75), np.arange(20) < 15) == pytest.approx(0.0, abs=1e-15)


def test_top_label_hand_case():
    probs = np.array([[[0.9, 0.4], [0.1, 0.6]]])  # (N=1, K=2, L=2)
    conf, correct = top_label(probs, np.array([[0, 0]]))
    np.testing.assert_allclose(conf, [0.9, 0.6])
    np.testing.assert_array_equal(correct, [True, False])


def test_temperature_scale_recovers_known_temperature():
    # labels drawn from softmax(z / 2.5): the NLL-optimal temperature for the logits z is about 2.5
    rng = np.random.default_rng(6)
    z = 4 * rng.standard_normal((4000, 3))
    p = softmax(z / 2.5)
    t = (rng.uniform(size=(4000, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
    temp = temperature_scale(z, t)
    assert temp == pytest.approx(2.5, rel=0.1)
    # it is a minimum of the NLL (scipy's bounded search, checked against neighbours)
    nll = lambda s: float(cross_entropy(z / s, t))  # noqa: E731
    assert nll(temp) <= min(nll(temp * 0.98), nll(temp * 1.02))
    # and it lowers ECE while leaving the arg-max alone
    before = expected_calibration_error(*top_label(softmax(z), t))
    after = expected_calibration_error(*top_label(softmax(z / temp), t))
    assert after < before / 2
    np.testing.assert_array_equal(softmax(z).argmax(1), softmax(z / temp).argmax(1))


@pytest.mark.parametrize("q", [0.15, 0.5, 0.8])
def test_expected_report_losses_properness(q):
    grid = np.round(np.linspace(0.01, 0.99, 99), 2)
    losses = expected_report_losses(q, grid, n_voxels=8)
    assert grid[np.argmin(losses["cross-entropy"])] == pytest.approx(q)      # strictly proper
    assert grid[np.argmin(losses["soft Dice"])] == 0.99                      # pushed to the edge
    assert np.all(np.diff(losses["soft Dice"]) < 0)
    # hard Dice is flat on each side of 0.5: many minimisers, not proper
    hard = losses["hard Dice"]
    assert np.ptp(hard[grid > 0.5]) < 1e-12 and np.ptp(hard[grid <= 0.5]) < 1e-12
    # the closed form of expected CE and a Monte-Carlo check of expected soft Dice at one report
    np.testing.assert_allclose(losses["cross-entropy"], -(q * np.log(grid) + (1 - q) * np.log(1 - grid)), rtol=1e-12)
    rng = np.random.default_rng(0)
    y = rng.uniform(size=(200000, 8)) < q
    p0 = 0.7
    mc = 1 - np.mean((2 * p0 * y.sum(1) + 1e-5) / (8 * p0 + y.sum(1) + 1e-5))
    assert losses["soft Dice"][grid == p0][0] == pytest.approx(mc, abs=2e-3)


def test_optimal_reports_ce_is_frequency_dice_is_binary():
    q = np.linspace(0.05, 0.95, 10)
    freq = (np.random.default_rng(0).uniform(size=(1000, 10)) < q).mean(axis=0)  # the same draws
    np.testing.assert_allclose(optimal_reports(q, "ce", n_draws=1000), freq, atol=1e-5)
    p = optimal_reports(q, "dice", n_draws=1000)
    assert np.all((p < 0.02) | (p > 0.98))
    assert np.all(np.diff(p) >= -1e-9)   # a threshold on q: larger q, larger report


BAD_CALLS = [  # call, exception, message pattern
    pytest.param(lambda: reliability_bins([0.5], [1], n_bins=0), ValueError, r"^n_bins: expected an int >= 1", id="n-bins-0"),
    pytest.param(lambda: reliability_bins([0.5], [1], n_bins=2.5), TypeError, r"^n_bins: expected an int", id="n-bins-float"),
    pytest.param(lambda: expected_calibration_error([1.2], [1]), ValueError, r"^confidence: expected probabilities in \[0, 1\], got 1.2", id="above-1"),
    pytest.param(lambda: expected_calibration_error([-0.1], [1]), ValueError, r"^confidence: expected probabilities in \[0, 1\]", id="negative"),
    pytest.param(lambda: expected_calibration_error([np.nan], [1]), ValueError, r"^confidence: expected probabilities in \[0, 1\], got nan", id="nan"),
    pytest.param(lambda: expected_calibration_error([], []), ValueError, r"^confidence: expected at least one", id="empty"),
    pytest.param(lambda: expected_calibration_error([0.5, 0.5], [1]), ValueError, r"^correct: expected 2 entries", id="size"),
    pytest.param(lambda: expected_calibration_error([0.5], [2]), ValueError, r"^correct: expected 0/1 or bool values, got 2", id="not-binary"),
    pytest.param(lambda: expected_calibration_error([0.5], ["yes"]), TypeError, r"^correct: expected an array of 0/1", id="text"),
    pytest.param(lambda: expected_calibration_error("0.5", [1]), TypeError, r"^confidence: expected a float array", id="str"),
    pytest.param(lambda: top_label(np.full((1, 2, 3), 2.0), np.zeros((1, 3), dtype=int)), ValueError, r"^probs: expected probabilities", id="logits-not-probs"),
    pytest.param(lambda: top_label(np.full((1, 2, 3), 0.5), np.full((1, 3), 2)), ValueError, r"^target: expected class labels in \[0, 2\)", id="label"),
    pytest.param(lambda: temperature_scale(np.zeros((3, 2)), np.zeros(3)), TypeError, r"^target: expected an integer array", id="float-target"),
    pytest.param(lambda: temperature_scale(np.zeros((3, 2)), np.zeros(4, dtype=int)), ValueError, r"^target: expected shape \(3,\)", id="shape"),
    pytest.param(lambda: temperature_scale(np.zeros((3, 2)), np.zeros(3, dtype=int), bounds=(2.0, 1.0)), ValueError, r"^bounds: expected \(low, high\)", id="bounds"),
    pytest.param(lambda: expected_report_losses(1.0, [0.5]), ValueError, r"^q: expected a probability in \(0, 1\)", id="q-one"),
    pytest.param(lambda: expected_report_losses(0.5, [0.0, 0.5]), ValueError, r"^p: expected reports in \(0, 1\)", id="p-zero"),
    pytest.param(lambda: optimal_reports([0.5, 1.5]), ValueError, r"^q: expected a 1-D array of probabilities", id="q-range"),
    pytest.param(lambda: optimal_reports([0.5], "brier"), ValueError, r"^loss: expected 'dice' or 'ce'", id="loss-name"),
]


@pytest.mark.parametrize("call, exc, match", BAD_CALLS)
def test_bad_input_raises(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
