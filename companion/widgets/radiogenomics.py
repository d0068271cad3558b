"""Widget of chap-radiogenomics: what AUC would a study of n patients report?

* :func:`study_aucs` — pure NumPy: the AUCs that many simulated studies of `n` patients measure
  with the Bayes-optimal score of :func:`companion.radiomics.simulate_cohort` (a binormal score,
  ``N(0, 1)`` for non-carriers and ``N(d, 1)`` for carriers, whose true AUC is `auc`);
* :func:`draw_study_aucs` / :func:`study_grid` — matplotlib drawings (the static view);
* :func:`study_widget` — the ipywidgets UI: sliders for ``n`` and the true AUC.

Even a perfect model, evaluated without any mistake, reports an AUC that varies from study to
study by about ``2 x 1.96 x SE`` (Hanley & McNeil); with 100 patients and a true AUC of 0.63,
95 % of studies report between about 0.52 and 0.74, and one in ten reports 0.7 or more.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_int
from companion.evaluation import hanley_mcneil_se, roc_auc
from companion.radiomics import latent_shift
from companion.widgets._render import WRAP, explore, figure_png, figure_width, show_png, use_static

__all__ = ["StudyAUCs", "study_aucs", "draw_study_aucs", "study_grid", "study_widget"]


class StudyAUCs(NamedTuple):
    """The AUCs measured by simulated studies, and summaries of their spread."""

    aucs: np.ndarray       # (n_studies,)
    true_auc: float
    n: int
    low: float             # 2.5th percentile of the measured AUCs
    high: float            # 97.5th percentile
    share_above: float     # share of studies that report an AUC >= `threshold`
    share_below_half: float  # share that report an AUC <= 0.5: "no signal"
    hanley_mcneil: float   # SE of one study's AUC from Hanley & McNeil (1982)
    threshold: float


def study_aucs(n: int, auc: float = 0.63, *, prevalence: float = 0.5, n_studies: int = 400,
               threshold: float = 0.7, seed: Any = 0) -> StudyAUCs:
    """Simulate `n_studies` studies of `n` patients, each scored by the Bayes-optimal score.

    Each study draws ``round(prevalence n)`` carriers with scores ``N(d, 1)`` and the others
    with ``N(0, 1)``, ``d = latent_shift(auc)``, and measures :func:`companion.evaluation.roc_auc`.

    Parameters
    ----------
    n : int
        Patients per study (>= 4).
    auc : float, default 0.63
        The true (Bayes) AUC, in [0.5, 1).
    prevalence : float, default 0.5
        Share of carriers, in (0, 1); each study has at least one of each class.
    n_studies : int, default 400
    threshold : float, default 0.7
        `share_above` counts the studies reporting at least this AUC.
    seed : int or sequence of int, default 0

    Returns
    -------
    StudyAUCs

    Shapes
    ------
    aucs : (n_studies,)

    Raises
    ------
    ValueError
        For `n` < 4, `n_studies` < 10, `prevalence` outside (0, 1) or `auc` outside [0.5, 1).

    Examples
    --------
    >>> s = study_aucs(100, 0.63, seed=1)
    >>> s.aucs.shape, bool(s.low < 0.63 < s.high)
    ((400,), True)
    """
    n = as_int(n, "n", minimum=4)
    n_studies = as_int(n_studies, "n_studies", minimum=10)
    prevalence = float(prevalence)
    if not 0.0 < prevalence < 1.0:
        raise ValueError(f"prevalence: expected a number in (0, 1), got {prevalence!r}")
    d = latent_shift(auc)
    n_pos = int(min(max(round(prevalence * n), 1), n - 1))
    y = np.r_[np.ones(n_pos, dtype=np.int64), np.zeros(n - n_pos, dtype=np.int64)]
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((n_studies, n)) + d * y
    aucs = roc_auc(y, scores)
    lo, hi = np.quantile(aucs, [0.025, 0.975])
    return StudyAUCs(aucs, float(auc), n, float(lo), float(hi), float(np.mean(aucs >= threshold)),
                     float(np.mean(aucs <= 0.5)), hanley_mcneil_se(float(auc), n_pos, n - n_pos), float(threshold))


def _caption(s: StudyAUCs) -> str:
    return (f"n = {s.n}: 95 % of studies in [{s.low:.2f}, {s.high:.2f}]\n"
            f"{s.share_above:.0%} report AUC ≥ {s.threshold:g}, {s.share_below_half:.0%} report ≤ 0.5")


def draw_study_aucs(s: StudyAUCs, ax: Any, title: str = "") -> dict:
    """Histogram of the measured AUCs, the true AUC (solid), chance (dashed); return the artists."""
    bins = np.linspace(0.2, 1.0, 41)
    counts, _ = np.histogram(s.aucs, bins)
    art = {
        "bars": ax.bar(bins[:-1], counts / len(s.aucs), width=np.diff(bins), align="edge",
                       color="tab:blue", alpha=0.7, edgecolor="k", lw=0.3),
        "true": ax.axvline(s.true_auc, color="tab:red", lw=1.5, label="true (Bayes) AUC"),
        "text": ax.text(0.02, 0.97, _caption(s), transform=ax.transAxes, fontsize=7, va="top"),
    }
    ax.axvline(0.5, color="0.3", lw=1, ls="--", label="chance")
    ax.set_xlim(0.2, 1.0)
    ax.set_ylim(0, 0.45)
    ax.set_xlabel("AUC measured by one study", fontsize=7)
    ax.set_ylabel("share of studies", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, loc="center right", frameon=False)
    if title:
        ax.set_title(title, fontsize=8)
    return art


def _update(s: StudyAUCs, art: dict) -> None:
    counts, _ = np.histogram(s.aucs, np.linspace(0.2, 1.0, 41))
    for bar, c in zip(art["bars"], counts / len(s.aucs)):
        bar.set_height(c)
    art["true"].set_xdata([s.true_auc, s.true_auc])
    art["text"].set_text(_caption(s))


def study_grid(ns: Sequence[int] = (50, 100, 400), auc: float = 0.63, *, seed: Any = 0):
    """The static view: one histogram of measured AUCs per study size, side by side (a Figure)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(ns), figsize=(3.0 * len(ns), 2.6), squeeze=False, sharey=True)
    for ax, n in zip(axes[0], ns):
        draw_study_aucs(study_aucs(n, auc, seed=seed), ax, f"{n} patients, true AUC {auc:g}")
    fig.tight_layout()
    return fig


class _StudyWidget:
    def __init__(self, auc: float, n: int, seed: Any) -> None:
        import ipywidgets as W
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.seed = seed
        style, layout = {"description_width": "110px"}, W.Layout(width="380px")
        self.n = W.IntSlider(value=n, min=20, max=800, step=10, description="patients n",
                             style=style, layout=layout)
        self.auc = W.FloatSlider(value=auc, min=0.5, max=0.9, step=0.01, description="true AUC",
                                 style=style, layout=layout)
        self.picture = W.Image(format="png")
        self.fig = Figure(figsize=(4.2, 2.8), dpi=72)
        self.ax = self.fig.subplots()
        self.fig.subplots_adjust(left=0.13, right=0.97, top=0.95, bottom=0.16)
        FigureCanvasAgg(self.fig)
        self.result: StudyAUCs | None = None
        self._art: dict | None = None
        self.last_update_s = float("nan")
        for control in (self.n, self.auc):
            control.observe(lambda _c: self.update(), names="value")
        self.ui = W.VBox([W.HBox([self.n, self.auc], layout=W.Layout(**WRAP)), self.picture])
        self.ui.controller = self
        self.update()

    def update(self) -> None:
        t0 = time.perf_counter()
        self.result = study_aucs(self.n.value, self.auc.value, seed=self.seed)
        if self._art is None:
            self._art = draw_study_aucs(self.result, self.ax)
        else:
            _update(self.result, self._art)
        show_png(self.picture, figure_png(self.fig, close=False), figure_width(self.fig))
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        return [f"Histogram of the AUCs that studies of n = {self.n.value} patients report when the true AUC is "
                f"{self.auc.value:.2f}: " + _caption(self.result).replace("\n", "; ")]


STATIC_NS = (30, 100, 200, 400, 800)
STATIC_AUCS = (0.5, 0.6, 0.7, 0.8, 0.9)


def study_widget(auc: float = 0.63, n: int = 100, *, seed: Any = 0, static: bool | None = None):
    """The interactive view: the AUCs that studies of ``n`` patients would report, with sliders.

    ``box.controller`` holds the sliders ``n`` and ``auc``, the current :class:`StudyAUCs` as
    ``result`` and ``last_update_s`` (an update takes a few tens of milliseconds). With
    ``static=True`` (default: :func:`companion.widgets.static_pages`, true in the book build) a
    static explorer instead: ``n`` in ``STATIC_NS`` and the true AUC in ``STATIC_AUCS`` (plus
    `n` and `auc` themselves), switched in the browser without a kernel.
    """
    study_aucs(n, auc)  # check the arguments before building the UI
    w = _StudyWidget(float(auc), as_int(n, "n", minimum=4), seed)
    if not use_static(static):
        return w.ui
    ns = sorted(set(STATIC_NS) | {w.n.value})
    aucs = sorted(set(STATIC_AUCS) | {round(w.auc.value, 2)})
    return explore(w, {"n": ns, "auc": aucs})
