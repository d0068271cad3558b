"""Widget of chap-radiogenomics: the AUCs studies of n patients report, the UI driven headlessly."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from companion.evaluation import hanley_mcneil_se
from companion.widgets.radiogenomics import study_aucs, study_grid, study_widget


def test_study_aucs_spread_matches_hanley_mcneil():
    s = study_aucs(100, 0.63, n_studies=2000, seed=0)
    assert s.aucs.mean() == pytest.approx(0.63, abs=0.01)
    assert s.aucs.std() == pytest.approx(hanley_mcneil_se(0.63, 50, 50), rel=0.1)
    se = hanley_mcneil_se(0.63, 50, 50)
    assert s.low == pytest.approx(0.63 - 1.96 * se, abs=0.015) and s.high > 0.7   # 1 study in 10 reports >= 0.7
    assert s.share_above == pytest.approx(np.mean(s.aucs >= 0.7))


def test_larger_studies_are_tighter():
    small, large = study_aucs(50, 0.63, seed=1), study_aucs(800, 0.63, seed=1)
    assert large.high - large.low < (small.high - small.low) / 3
    assert large.share_below_half == 0.0 < small.share_below_half


def test_widget_updates_on_slider_change():
    ctl = study_widget().controller
    before, width = ctl.picture.value, ctl.result.high - ctl.result.low
    ctl.n.value = 600
    assert ctl.picture.value != before
    assert ctl.result.high - ctl.result.low < width / 2
    ctl.auc.value = 0.8
    assert ctl.result.true_auc == pytest.approx(0.8) and ctl.result.low > 0.7


def test_static_grid():
    fig = study_grid((50, 400))
    assert len(fig.axes) == 2


@pytest.mark.parametrize("kwargs, match", [(dict(n=3), r"^n: expected an int >= 4"),
                                           (dict(n=50, auc=0.3), r"^auc: expected a number in \[0.5, 1\)")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        study_aucs(**kwargs)


def test_static_explorer():
    from _static_check import check_static

    r = check_static(study_widget(auc=0.63, n=100, static=True), alt_words=("patients", "true AUC"))
    assert r["combinations"] == 5 * 6
