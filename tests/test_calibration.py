"""companion.calibration against torchmetrics, hand-checkable tables and scipy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchmetrics.functional.classification import binary_calibration_error, multiclass_calibration_error

from scipy.ndimage import binary_dilation
from sklearn.metrics import brier_score_loss

from companion.calibration import (
    brier_score,
    classwise_calibration_error,
    expected_calibration_error,
    region_of_interest,
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
    pytest.param(lambda: brier_score(np.full((1, 2, 3), 2.0), np.zeros((1, 3), dtype=int)), ValueError, r"^probs: expected probabilities in \[0, 1\]", id="brier-logits"),
    pytest.param(lambda: brier_score(np.full((1, 1, 3), 1.0), np.zeros((1, 3), dtype=int)), ValueError, r"^probs: expected \(N, K, \*S\) with K >= 2", id="brier-one-class"),
    pytest.param(lambda: brier_score(np.full((1, 2, 3), 0.5), np.zeros((1, 3))), TypeError, r"^target: expected an integer array", id="brier-float-target"),
    pytest.param(lambda: brier_score(np.full((1, 2, 3), 0.5), np.zeros((1, 4), dtype=int)), ValueError, r"^target: expected shape \(1, 3\)", id="brier-shape"),
    pytest.param(lambda: brier_score(np.full((1, 2, 3), 0.5), np.full((1, 3), 2)), ValueError, r"^target: expected class labels in \[0, 2\)", id="brier-label"),
    pytest.param(lambda: brier_score("p", np.zeros((1, 3), dtype=int)), TypeError, r"^probs: expected a float array", id="brier-str"),
    pytest.param(lambda: classwise_calibration_error(np.full((1, 2, 3), 0.5), np.zeros((1, 3), dtype=int), 0), ValueError, r"^n_bins: expected an int >= 1", id="cw-bins"),
    pytest.param(lambda: classwise_calibration_error(np.full((1, 2, 3), 0.5), np.zeros((1, 3), dtype=int), mask=np.ones((1, 3))), TypeError, r"^mask: expected a boolean array", id="cw-mask-type"),
    pytest.param(lambda: classwise_calibration_error(np.full((1, 2, 3), 0.5), np.zeros((1, 3), dtype=int), mask=np.ones((1, 2), bool)), ValueError, r"^mask: expected shape \(1, 3\)", id="cw-mask-shape"),
    pytest.param(lambda: top_label(np.full((1, 2, 3), 0.5), np.zeros((1, 3), dtype=int), mask=np.zeros((1, 3), bool)), ValueError, r"^mask: expected at least one selected voxel", id="mask-empty"),
    pytest.param(lambda: region_of_interest(np.zeros((2, 4), dtype=int), margin=-1), ValueError, r"^margin: expected an int >= 0", id="roi-margin"),
    pytest.param(lambda: region_of_interest(np.zeros((2, 4))), TypeError, r"^target: expected an integer label array", id="roi-float"),
    pytest.param(lambda: region_of_interest(np.zeros(4, dtype=int)), ValueError, r"^target: expected \(N, \*S\)", id="roi-1d"),
    pytest.param(lambda: region_of_interest(np.zeros((2, 4), dtype=int), np.zeros((2, 5), dtype=int)), ValueError, r"^prediction: expected shape \(2, 4\)", id="roi-pred-shape"),
]


@pytest.mark.parametrize("call, exc, match", BAD_CALLS)
def test_bad_input_raises(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---- Brier score, class-wise ECE, region of interest ---------------------------------------

BRIER_CASES = [  # probs shape (N, K, *S); seed
    pytest.param((4, 2, 8, 8), 0, id="2d-two-classes"),
    pytest.param((2, 2, 4, 5, 6), 1, id="3d-two-classes"),
    pytest.param((3, 4, 7, 7), 2, id="2d-four-classes"),
    pytest.param((50, 3), 3, id="no-spatial-axes"),
]


def _probs_and_labels(shape, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    p = softmax(2 * rng.standard_normal(shape)).astype(dtype)
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    return p, t


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, seed", BRIER_CASES)
def test_brier_score_matches_scikit_learn(shape, seed, dtype):
    p, t = _probs_and_labels(shape, seed, dtype)
    flat_p = np.moveaxis(p, 1, -1).reshape(-1, shape[1]).astype(np.float64)
    flat_p /= flat_p.sum(axis=1, keepdims=True)  # float32 rows sum to 1 only within 1e-7: sklearn checks
    flat_t = t.reshape(-1)
    ours = brier_score(p, t)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    if shape[1] == 2:  # the contract: twice scikit-learn's binary Brier loss of the foreground probability
        assert ours == pytest.approx(2 * brier_score_loss(flat_t, flat_p[:, 1]), abs=tol)
    # scikit-learn's multi-class Brier score (scale_by_half=False) is the sum over classes, as ours
    expected = brier_score_loss(flat_t, flat_p, labels=np.arange(shape[1]), scale_by_half=False)
    assert ours == pytest.approx(expected, abs=tol)


def test_brier_score_hand_cases_and_properness():
    # a perfect one-hot prediction scores 0; the uniform one 1 - 1/K per voxel; a confident wrong one 2
    t = np.array([[0, 1, 2]])
    onehot = np.moveaxis(np.eye(3)[t], -1, 1)
    assert brier_score(onehot, t) == 0.0
    assert brier_score(np.full((1, 3, 3), 1 / 3), t) == pytest.approx(2 / 3)
    assert brier_score(np.moveaxis(np.eye(3)[(t + 1) % 3], -1, 1), t) == pytest.approx(2.0)
    # strictly proper: with labels drawn from q, the expected score over reports p is smallest at p = q
    q = 0.3
    grid = np.linspace(0.01, 0.99, 99)
    expected = [q * brier_score(np.array([[[1 - r], [r]]]), np.array([[1]]))
                + (1 - q) * brier_score(np.array([[[1 - r], [r]]]), np.array([[0]])) for r in grid]
    assert grid[int(np.argmin(expected))] == pytest.approx(q)


@pytest.mark.parametrize("shape, seed", BRIER_CASES[:3])
def test_classwise_ece_is_the_mean_of_torchmetrics_per_class(shape, seed):
    p, t = _probs_and_labels(shape, seed)
    per_class = [float(binary_calibration_error(torch.from_numpy(p[:, k].ravel()),
                                                torch.from_numpy((t == k).ravel()).long(), n_bins=15, norm="l1"))
                 for k in range(shape[1])]
    assert classwise_calibration_error(p, t) == pytest.approx(np.mean(per_class), abs=1e-12)
    # with two classes both classes' curves are mirror images: class-wise ECE = binary ECE of p_1
    if shape[1] == 2:
        assert classwise_calibration_error(p, t) == pytest.approx(per_class[1], abs=1e-12)


def test_classwise_differs_from_top_label():
    # three classes, every voxel (0.5, 0.25, 0.25): the top label (class 0) is right half the time, as
    # claimed, so the top-label ECE is 0; but class 1 never occurs (gap 0.25) and class 2 occurs half
    # the time at probability 0.25 (gap 0.25): the class-wise ECE sees both
    p = np.tile(np.array([0.5, 0.25, 0.25])[None, :, None], (1, 1, 8))
    t = np.array([[0, 0, 0, 0, 2, 2, 2, 2]])
    assert expected_calibration_error(*top_label(p, t)) == pytest.approx(0.0)
    assert classwise_calibration_error(p, t) == pytest.approx((0 + 0.25 + 0.25) / 3)


def test_mask_selects_voxels():
    p, t = _probs_and_labels((2, 2, 6, 6), 4)
    m = np.zeros(t.shape, bool)
    m[:, 1:4, 2:5] = True
    conf, correct = top_label(p, t, mask=m)
    np.testing.assert_array_equal(conf, p.max(1)[m])
    assert classwise_calibration_error(p, t, mask=m) == pytest.approx(
        classwise_calibration_error(np.moveaxis(np.moveaxis(p, 1, -1)[m], -1, 0)[None], t[m][None]), abs=1e-12)


ROI_CASES = [  # label shape (N, *S), margin, seed
    pytest.param((2, 12, 12), 2, 0, id="2d-margin-2"),
    pytest.param((1, 6, 7, 8), 1, 1, id="3d-margin-1"),
    pytest.param((3, 9, 9), 0, 2, id="margin-0"),
    pytest.param((1, 5, 5), 9, 3, id="margin-larger-than-image"),
]


@pytest.mark.parametrize("shape, margin, seed", ROI_CASES)
def test_region_of_interest_matches_scipy_dilation(shape, margin, seed):
    rng = np.random.default_rng(seed)
    t = (rng.uniform(size=shape) < 0.05).astype(np.int64) * rng.integers(1, 3, shape)
    pred = (rng.uniform(size=shape) < 0.03).astype(np.int64)
    box = np.ones((3,) * (len(shape) - 1), bool)
    for args, fg in (((t,), t > 0), ((t, pred), (t > 0) | (pred > 0))):
        expected = np.stack([binary_dilation(f, box, iterations=margin) if margin and f.any() else f for f in fg])
        np.testing.assert_array_equal(region_of_interest(*args, margin=margin), expected)
