"""Honest evaluation of a classifier on a small cohort: AUC, its uncertainty, cross-validation.

* :func:`roc_auc` — the area under the ROC curve as the Mann–Whitney probability (NumPy);
* :func:`hanley_mcneil_se` — its standard error from Hanley & McNeil (1982);
* :func:`bootstrap_auc_ci` — a stratified percentile-bootstrap confidence interval;
* :func:`cross_val_auc` — out-of-fold scores of a standardise → select-k-best → logistic
  regression pipeline, with the feature selection inside the folds (honest), on all the data
  before the split (``leak=True``, the selection-bias trap of Ambroise & McLachlan 2002), or with
  the hyper-parameters tuned in an inner loop (``tune=True``: nested cross-validation);
* :func:`apparent_auc` — the AUC on the training data itself (resubstitution);
* :func:`permutation_test` — the cross-validated AUC against its distribution under shuffled labels.

The first three are NumPy (+ SciPy's ranks); the others build scikit-learn pipelines, imported
inside the functions.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_float_array, as_int

__all__ = ["roc_auc", "hanley_mcneil_se", "bootstrap_auc_ci", "AUCInterval", "CVResult", "cross_val_auc",
           "apparent_auc", "PermutationResult", "permutation_test"]


def _labels_scores(y: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    yy = np.asarray(y)
    if yy.ndim != 1:
        raise ValueError(f"y: expected 1 dim (N,), got shape {yy.shape}")
    if not np.isin(yy, (0, 1)).all():
        raise ValueError(f"y: expected binary labels 0/1, got values {np.unique(yy)[:5].tolist()}")
    s = as_float_array(score, "score", ndim=(1, 2))
    if s.shape[-1] != yy.shape[0]:
        raise ValueError(f"score: expected {yy.shape[0]} scores (one per label), got shape {s.shape}")
    n_pos = int(yy.sum())
    if n_pos == 0 or n_pos == yy.size:
        raise ValueError("y: expected both classes, got only one")
    return yy.astype(bool), s


def roc_auc(y: Any, score: Any) -> np.ndarray | float:
    """Area under the ROC curve: the probability that a random positive outscores a random negative.

    ``AUC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)`` with ``R_pos`` the sum of the
    positives' ranks among all scores (ties get their average rank, i.e. count one half): the
    Mann–Whitney U statistic divided by ``n_pos n_neg`` (Hanley & McNeil 1982). Equal to
    :func:`sklearn.metrics.roc_auc_score`.

    Parameters
    ----------
    y : array_like of {0, 1}
        Labels (1 = positive, e.g. the genotype carrier).
    score : array_like
        Higher = more likely positive. A 2-D array holds several score vectors (rows).

    Returns
    -------
    float, or ndarray (R,) for 2-D `score`

    Shapes
    ------
    y : (N,);  score : (N,) or (R, N)

    Raises
    ------
    ValueError
        If `y` is not binary with both classes, or `score` does not have N entries per row.

    References
    ----------
    hanley1982meaning

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    from scipy.stats import rankdata

    pos, s = _labels_scores(y, score)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    ranks = rankdata(s, axis=-1)
    auc = (ranks[..., pos].sum(axis=-1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(auc) if s.ndim == 1 else auc


def hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an empirical AUC (Hanley & McNeil 1982, eq. 2, exponential approximation).

    ``SE^2 = (A (1 - A) + (n_pos - 1)(Q1 - A^2) + (n_neg - 1)(Q2 - A^2)) / (n_pos n_neg)`` with
    ``Q1 = A / (2 - A)`` and ``Q2 = 2 A^2 / (1 + A)``.

    Examples
    --------
    >>> round(hanley_mcneil_se(0.63, 50, 50), 4)
    0.0556
    """
    a = float(auc)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"auc: expected a number in [0, 1], got {auc!r}")
    n_pos, n_neg = as_int(n_pos, "n_pos", minimum=1), as_int(n_neg, "n_neg", minimum=1)
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


class AUCInterval(NamedTuple):
    """An AUC with a bootstrap confidence interval and the bootstrap distribution."""

    auc: float
    low: float
    high: float
    boot: np.ndarray  # (n_boot,) bootstrap AUCs

    @property
    def width(self) -> float:
        return self.high - self.low


def bootstrap_auc_ci(y: Any, score: Any, *, n_boot: int = 2000, level: float = 0.95,
                     seed: Any = 0) -> AUCInterval:
    """Percentile-bootstrap confidence interval of the AUC, resampling within each class.

    Each of `n_boot` resamples draws ``n_pos`` positives and ``n_neg`` negatives with
    replacement (a stratified bootstrap, so every resample has both classes); the interval is
    the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the resampled AUCs.

    Shapes
    ------
    y, score : (N,);  boot : (n_boot,)

    Raises
    ------
    ValueError
        As :func:`roc_auc`; `level` outside (0, 1); `n_boot` < 10.

    References
    ----------
    efron1979bootstrap
    """
    pos, s = _labels_scores(y, score)
    if s.ndim != 1:
        raise ValueError(f"score: expected 1 dim (N,), got shape {s.shape}")
    n_boot = as_int(n_boot, "n_boot", minimum=10)
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level: expected a number in (0, 1), got {level!r}")
    rng = np.random.default_rng(seed)
    ip, ineg = np.flatnonzero(pos), np.flatnonzero(~pos)
    idx = np.concatenate([rng.choice(ip, (n_boot, ip.size)), rng.choice(ineg, (n_boot, ineg.size))], axis=1)
    labels = np.r_[np.ones(ip.size, int), np.zeros(ineg.size, int)]
    boot = roc_auc(labels, s[idx])
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return AUCInterval(roc_auc(pos.astype(int), s), float(lo), float(hi), boot)


# ------------------------------------------------------------------------------------------------
# Cross-validation with scikit-learn
# ------------------------------------------------------------------------------------------------

class CVResult(NamedTuple):
    """Out-of-fold scores of a cross-validated pipeline and their AUC."""

    auc: float
    scores: np.ndarray  # (N,) out-of-fold decision values
    selected: np.ndarray | None  # (N_features,) bool, the features chosen on all data (leak=True)


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(X, "X", ndim=2)
    yy = np.asarray(y)
    if yy.shape != (x.shape[0],):
        raise ValueError(f"y: expected shape ({x.shape[0]},) (one label per row of X), got {yy.shape}")
    if not np.isin(yy, (0, 1)).all() or yy.min() == yy.max():
        raise ValueError("y: expected binary labels 0/1 with both classes")
    return x, yy.astype(np.int64)


def _pipeline(C: float, k: int | None):
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = [("scale", StandardScaler())]
    if k is not None:
        steps.append(("select", SelectKBest(f_classif, k=k)))
    steps.append(("model", LogisticRegression(C=C, solver="newton-cholesky", max_iter=100)))
    return Pipeline(steps)


def cross_val_auc(X: Any, y: Any, *, C: float = 0.1, k: int | None = None, leak: bool = False,
                  tune: bool = False, Cs: Sequence[float] = (0.01, 0.1, 1.0),
                  ks: Sequence[int] = (5, 10, 20), folds: int = 5, seed: Any = 0) -> CVResult:
    """Cross-validated AUC of ``StandardScaler -> SelectKBest(f_classif, k) -> LogisticRegression(C)``.

    The out-of-fold decision values of a stratified `folds`-fold split (shuffled with `seed`)
    are pooled and scored with :func:`roc_auc`. Three protocols:

    * honest (default): every step, feature selection included, is fitted on the training folds
      only; ``k=None`` keeps all features;
    * ``leak=True``: the `k` features most associated with `y` (F-test) are chosen on *all* the
      data, then the pipeline is cross-validated on them — the test folds helped choose the
      features, so the estimate is optimistic even when `y` is independent of `X`;
    * ``tune=True``: nested cross-validation — in each outer training set, an inner `folds`-fold
      grid search (AUC) picks ``C`` from `Cs` and ``k`` from `ks`, and the outer test fold scores
      the refitted winner.

    Parameters
    ----------
    X : array_like
        Features, one row per patient.
    y : array_like of {0, 1}
        Labels.
    C : float, default 0.1
        Inverse L2 penalty of the logistic regression.
    k : int, optional
        Number of features kept (all when None). Required with ``leak=True``.
    leak, tune : bool
        See above; they exclude each other.
    Cs, ks : sequences
        The grid of ``tune=True``.
    folds : int, default 5
    seed : int or sequence of int, default 0
        Seeds the fold split (and nothing else: the model is deterministic).

    Returns
    -------
    CVResult

    Shapes
    ------
    X : (N, F);  y, scores : (N,)

    Raises
    ------
    ValueError
        For a non-2-D `X`, labels that are not 0/1 with both classes, ``leak`` with ``tune`` or
        without `k`, `k` larger than F, or `folds` < 2.

    References
    ----------
    ambroise2002selection, varma2006bias
    """
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    x, yy = _check_xy(X, y)
    folds = as_int(folds, "folds", minimum=2)
    if leak and tune:
        raise ValueError("leak, tune: expected at most one of them to be True, got both")
    if k is not None:
        k = as_int(k, "k", minimum=1)
        if k > x.shape[1]:
            raise ValueError(f"k: expected at most {x.shape[1]} (the number of features), got {k}")
    if leak and k is None:
        raise ValueError("k: expected an int with leak=True (the number of features selected on all data)")
    rs = int(np.random.default_rng(seed).integers(2 ** 31 - 1))
    split = StratifiedKFold(folds, shuffle=True, random_state=rs)
    selected = None
    if leak:
        from sklearn.feature_selection import f_classif

        f_stat, _ = f_classif(x, yy)
        selected = np.zeros(x.shape[1], dtype=bool)
        selected[np.argsort(-np.nan_to_num(f_stat, nan=-1.0), kind="stable")[:k]] = True
        x, k = x[:, selected], None
    scores = np.empty(yy.size, dtype=np.float64)
    for train, test in split.split(x, yy):
        if tune:
            grid = {"model__C": list(Cs), "select__k": [kk for kk in ks if kk <= x.shape[1]] or [x.shape[1]]}
            inner = StratifiedKFold(folds, shuffle=True, random_state=rs + 1)
            model = GridSearchCV(_pipeline(C, 1), grid, scoring="roc_auc", cv=inner)
        else:
            model = _pipeline(C, k)
        model.fit(x[train], yy[train])
        scores[test] = model.decision_function(x[test])
    return CVResult(roc_auc(yy, scores), scores, selected)


def apparent_auc(X: Any, y: Any, *, C: float = 0.1, k: int | None = None) -> float:
    """AUC of the pipeline of :func:`cross_val_auc` scored on the data it was fitted to.

    Shapes
    ------
    X : (N, F);  y : (N,)
    """
    x, yy = _check_xy(X, y)
    model = _pipeline(C, None if k is None else as_int(k, "k", minimum=1)).fit(x, yy)
    return roc_auc(yy, model.decision_function(x))


class PermutationResult(NamedTuple):
    """The observed cross-validated AUC, its null distribution and the permutation p-value."""

    auc: float
    null: np.ndarray  # (n_perm,) AUCs with shuffled labels
    p_value: float    # (1 + #{null >= auc}) / (1 + n_perm)


def permutation_test(X: Any, y: Any, *, n_perm: int = 100, seed: Any = 0, **cv: Any) -> PermutationResult:
    """Permutation test of a cross-validated AUC against chance (Ojala & Garriga 2010).

    The labels are shuffled `n_perm` times and the whole pipeline of :func:`cross_val_auc`
    (with the same keyword arguments `cv` and the same folds) is cross-validated again each
    time; ``p = (1 + #{null AUC >= observed}) / (1 + n_perm)``, as
    :func:`sklearn.model_selection.permutation_test_score`.

    Shapes
    ------
    X : (N, F);  y : (N,);  null : (n_perm,)

    Raises
    ------
    ValueError
        As :func:`cross_val_auc`; `n_perm` < 1.

    References
    ----------
    ojala2010permutation
    """
    x, yy = _check_xy(X, y)
    n_perm = as_int(n_perm, "n_perm", minimum=1)
    observed = cross_val_auc(x, yy, seed=seed, **cv).auc
    rng = np.random.default_rng(seed)
    null = np.array([cross_val_auc(x, rng.permutation(yy), seed=seed, **cv).auc for _ in range(n_perm)])
    return PermutationResult(observed, null, float((1 + np.sum(null >= observed)) / (1 + n_perm)))
