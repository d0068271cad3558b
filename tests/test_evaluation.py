"""companion.evaluation against scikit-learn (roc_auc_score, cross_val_predict, GridSearchCV) and the
exact null variance of the Mann-Whitney statistic."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from companion.evaluation import (apparent_auc, bootstrap_auc_ci, cross_val_auc, hanley_mcneil_se,
                                  permutation_test, roc_auc)

AUC_CASES = [  # n, number of distinct score values (ties), signal
    pytest.param(10, 100, 0.0, id="small-no-ties"),
    pytest.param(60, 4, 0.5, id="many-ties"),
    pytest.param(200, 1000, 1.0, id="signal"),
    pytest.param(31, 2, -1.0, id="binary-score-below-half"),
]


@pytest.mark.parametrize("n, values, signal", AUC_CASES)
def test_roc_auc_matches_sklearn(n, values, signal):
    rng = np.random.default_rng(0)
    y = np.r_[0, 1, rng.integers(0, 2, n - 2)]
    s = np.round((rng.standard_normal(n) + signal * y) * values / 6) / values
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    rows = np.stack([s, -s, rng.standard_normal(n)])
    np.testing.assert_allclose(roc_auc(y, rows), [roc_auc_score(y, r) for r in rows], atol=1e-12)


@pytest.mark.parametrize("n_pos, n_neg", [(50, 50), (10, 90), (3, 7)])
def test_hanley_mcneil_at_half_is_the_exact_null_variance(n_pos, n_neg):
    # under no signal, Var(U / (n_pos n_neg)) = (n_pos + n_neg + 1) / (12 n_pos n_neg) exactly
    exact = math.sqrt((n_pos + n_neg + 1) / (12 * n_pos * n_neg))
    assert hanley_mcneil_se(0.5, n_pos, n_neg) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("auc", [0.63, 0.8])
def test_hanley_mcneil_close_to_monte_carlo_and_bootstrap(auc):
    from statistics import NormalDist
    d = math.sqrt(2) * NormalDist().inv_cdf(auc)
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(50, int), np.zeros(50, int)]
    aucs = roc_auc(y, rng.standard_normal((4000, 100)) + d * y)
    se = hanley_mcneil_se(auc, 50, 50)
    assert aucs.std() == pytest.approx(se, rel=0.1)
    ci = bootstrap_auc_ci(y, rng.standard_normal(100) + d * y, n_boot=2000, seed=2)
    assert ci.low < ci.auc < ci.high and ci.boot.shape == (2000,)
    assert ci.boot.std() == pytest.approx(hanley_mcneil_se(ci.auc, 50, 50), rel=0.25)


def test_bootstrap_is_stratified_and_reproducible():
    rng = np.random.default_rng(3)
    y, s = np.r_[np.ones(3, int), np.zeros(30, int)], rng.standard_normal(33)
    a, b = bootstrap_auc_ci(y, s, seed=4), bootstrap_auc_ci(y, s, seed=4)
    assert tuple(a[:3]) == tuple(b[:3]) and np.array_equal(a.boot, b.boot)
    assert np.all(np.isfinite(a.boot))   # stratified: no resample lacks a class
    assert bootstrap_auc_ci(y, s, level=0.5, seed=4).width < a.width


def _data(n=90, f=30, signal=0.8, seed=5):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2, int), np.ones(n - n // 2, int)]
    X = rng.standard_normal((n, f))
    X[:, :3] += signal * y[:, None]
    return X, y


def _pipe(C, k=None):
    steps = [("scale", StandardScaler())] + ([("select", SelectKBest(f_classif, k=k))] if k else [])
    return Pipeline(steps + [("model", LogisticRegression(C=C, solver="newton-cholesky"))])


def _split(seed, folds=5):  # the split cross_val_auc draws from its seed
    rs = int(np.random.default_rng(seed).integers(2 ** 31 - 1))
    return StratifiedKFold(folds, shuffle=True, random_state=rs), rs


@pytest.mark.parametrize("C, k", [(0.1, None), (1.0, 5)])
def test_cross_val_auc_equals_cross_val_predict(C, k):
    X, y = _data()
    split, _ = _split(7)
    ref = cross_val_predict(_pipe(C, k), X, y, cv=split, method="decision_function")
    res = cross_val_auc(X, y, C=C, k=k, seed=7)
    np.testing.assert_allclose(res.scores, ref, rtol=1e-10, atol=1e-12)
    assert res.auc == pytest.approx(roc_auc_score(y, ref))


def test_leaky_selection_is_done_on_all_data_first():
    X, y = _data(signal=0.0)
    split, _ = _split(8)
    keep = SelectKBest(f_classif, k=4).fit(X, y).get_support()
    ref = cross_val_predict(_pipe(0.1), X[:, keep], y, cv=split, method="decision_function")
    res = cross_val_auc(X, y, k=4, leak=True, seed=8)
    np.testing.assert_array_equal(res.selected, keep)
    np.testing.assert_allclose(res.scores, ref, rtol=1e-10, atol=1e-12)


def test_nested_cv_equals_grid_search_in_each_outer_fold():
    X, y = _data(n=60, f=12)
    split, rs = _split(9, folds=3)
    grid = GridSearchCV(_pipe(1.0, 1), {"model__C": [0.1, 1.0], "select__k": [2, 6]}, scoring="roc_auc",
                        cv=StratifiedKFold(3, shuffle=True, random_state=rs + 1))
    ref = cross_val_predict(grid, X, y, cv=split, method="decision_function")
    res = cross_val_auc(X, y, tune=True, Cs=(0.1, 1.0), ks=(2, 6), folds=3, seed=9)
    np.testing.assert_allclose(res.scores, ref, rtol=1e-10, atol=1e-12)


def test_apparent_auc_and_leak_are_optimistic_under_the_null():
    X, y = _data(n=60, f=200, signal=0.0)
    assert apparent_auc(X, y) > 0.9                      # 200 features, 60 patients: memorised
    assert cross_val_auc(X, y, k=5, leak=True, seed=1).auc > cross_val_auc(X, y, k=5, seed=1).auc + 0.1


def test_permutation_test_p_value():
    X, y = _data(n=60, f=10, signal=1.0)
    res = permutation_test(X, y, n_perm=30, seed=3)
    assert res.auc == pytest.approx(cross_val_auc(X, y, seed=3).auc)
    assert res.p_value == pytest.approx((1 + np.sum(res.null >= res.auc)) / 31)
    assert res.p_value == pytest.approx(1 / 31) and abs(res.null.mean() - 0.5) < 0.08


BAD_CALLS = [
    (lambda: roc_auc([0, 2, 1], [1, 2, 3]), ValueError, r"^y: expected binary labels 0/1"),
    (lambda: roc_auc([1, 1, 1], [1, 2, 3]), ValueError, r"^y: expected both classes"),
    (lambda: roc_auc([0, 1, 1], [1, 2]), ValueError, r"^score: expected 3 scores"),
    (lambda: hanley_mcneil_se(1.5, 5, 5), ValueError, r"^auc: expected a number in \[0, 1\]"),
    (lambda: bootstrap_auc_ci([0, 1], [0.1, 0.2], level=1.0), ValueError, r"^level: expected a number in \(0, 1\)"),
    (lambda: cross_val_auc(np.zeros((6, 2)), [0, 1] * 3, leak=True, tune=True, k=1), ValueError, r"^leak, tune"),
    (lambda: cross_val_auc(np.zeros((6, 2)), [0, 1] * 3, leak=True), ValueError, r"^k: expected an int with leak"),
    (lambda: cross_val_auc(np.zeros((6, 2)), [0, 1] * 3, k=3), ValueError, r"^k: expected at most 2"),
    (lambda: cross_val_auc(np.zeros(6), [0, 1] * 3), ValueError, r"^X: expected 2 dims"),
    (lambda: cross_val_auc(np.zeros((6, 2)), [0, 1] * 2), ValueError, r"^y: expected shape \(6,\)"),
    (lambda: permutation_test(np.zeros((6, 2)), [0, 1] * 3, n_perm=0), ValueError, r"^n_perm: expected an int >= 1"),
]


@pytest.mark.parametrize("call, exc, match", BAD_CALLS)
def test_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
