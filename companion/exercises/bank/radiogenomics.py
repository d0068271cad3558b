"""Exercises of chapter ``chap-radiogenomics``: the Bayes AUC of a latent shift, the width of an AUC's
confidence interval, which protocols are optimistic (choose and justify), and the leakage trap
measured on a cohort of the learner's own (run it and measure)."""

from __future__ import annotations

import math

import numpy as np

from companion.evaluation import hanley_mcneil_se
from companion.exercises._engine import Exercise, Misconception, register
from companion.radiomics import bayes_auc

_PHI = lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))  # noqa: E731  (a misconception's tool)

# ---- radiogenomics.bayes-auc ----------------------------------------------------------------------


def _bayes_params(rng: np.random.Generator) -> dict:
    return {"d": float(np.round(rng.uniform(0.2, 1.2), 2))}


register(Exercise(
    id="radiogenomics.bayes-auc",
    title="The best AUC a genotype allows",
    prompt=("In a cohort, a tumour property s (say, a texture parameter) is normally distributed with "
            "standard deviation 1 in both genotypes, and its mean is d = {d} higher in the carriers. "
            "What AUC does the best possible classifier of the genotype reach from s?"),
    make_params=_bayes_params,
    solve=lambda p: bayes_auc(p["d"]),
    rtol=1e-3,
    hint="The AUC is P(s of a random carrier > s of a random non-carrier); what is the distribution of the difference?",
    misconceptions=(
        Misconception("no-sqrt2", lambda p: _PHI(p["d"]),
                      "The difference of two independent scores has variance 2, not 1: standardise by sqrt(2)."),
        Misconception("half", lambda p: _PHI(p["d"] / 2),
                      "Half the shift is the optimal threshold's distance from each mean; the AUC compares two "
                      "random patients, whose difference has standard deviation sqrt(2)."),
    ),
))


# ---- radiogenomics.ci-width ----------------------------------------------------------------------


def _ci_params(rng: np.random.Generator) -> dict:
    n_pos = int(rng.integers(20, 120))
    return {"n_pos": n_pos, "n_neg": int(rng.integers(20, 120)), "auc": float(np.round(rng.uniform(0.58, 0.75), 2))}


def _ci_solve(p: dict) -> float:
    return 2 * 1.96 * hanley_mcneil_se(p["auc"], p["n_pos"], p["n_neg"])


register(Exercise(
    id="radiogenomics.ci-width",
    title="How wide is the AUC's confidence interval?",
    prompt=("A radiogenomics study of {n_pos} carriers and {n_neg} non-carriers reports AUC = {auc}. Using "
            "the Hanley & McNeil standard error, how wide is the 95 % confidence interval "
            "(upper bound minus lower bound, 1.96 standard errors on each side)?"),
    make_params=_ci_params,
    solve=_ci_solve,
    rtol=5e-3,
    hint=("SE^2 = (A(1 - A) + (n_pos - 1)(Q1 - A^2) + (n_neg - 1)(Q2 - A^2)) / (n_pos n_neg), "
          "Q1 = A / (2 - A), Q2 = 2A^2 / (1 + A)."),
    misconceptions=(
        Misconception("half-width", lambda p: _ci_solve(p) / 2,
                      "That is the half-width (1.96 SE): the interval extends that far on both sides."),
        Misconception("binomial", lambda p: 2 * 1.96 * math.sqrt(p["auc"] * (1 - p["auc"]) / (p["n_pos"] + p["n_neg"])),
                      "The AUC is not a proportion of patients: its variance depends on both class sizes "
                      "through Q1 and Q2."),
    ),
))


# ---- radiogenomics.protocol (choice: choose and justify) ------------------------------------------

PROTOCOL_CHOICES = (
    "optimistic: the test patients helped build the model",
    "honest: the test patients played no part in building the model",
)
_PROTOCOLS = {
    "leak": ("ranked all {p} features by their association with the genotype in all {n} patients, kept the "
             "best 10, and then ran 5-fold cross-validation of a logistic regression on those 10", 0),
    "best-of-grid": ("ran 5-fold cross-validation of a logistic regression for 20 penalty values and "
                     "reported the best of the 20 cross-validated AUCs", 0),
    "resubstitution": ("fitted a logistic regression to all {n} patients and reported its AUC on them", 0),
    "nested": ("ran nested cross-validation: in each outer training fold, feature selection and the penalty "
               "were chosen by an inner cross-validation, and the outer test fold only scored the result", 1),
    "split-first": ("set 30 % of the patients aside before looking at the data, did all selection and tuning "
                    "on the other 70 %, and scored the final model once on the 30 %", 1),
}
_PROTOCOL_MESSAGES = {
    0: ("Was any choice (features, penalty, weights) made with the patients who are later used to score? "
        "Then the score was fitted to them a little."),
    1: ("Here every choice was made without the scoring patients: their AUC estimates the performance on new "
        "patients (for a model trained on a bit fewer patients, so if anything slightly pessimistic)."),
}


def _protocol_params(rng: np.random.Generator) -> dict:
    key = str(rng.choice(sorted(_PROTOCOLS)))
    n, p = int(rng.choice([80, 100, 120, 150])), int(rng.choice([100, 400, 1000]))
    return {"key": key, "n": n, "p": p, "what": _PROTOCOLS[key][0].format(n=n, p=p)}


register(Exercise(
    id="radiogenomics.protocol",
    title="Optimistic or honest? Choose and justify",
    prompt=("A team has {n} glioma patients with a known MGMT status and {p} radiomics features each. "
            "They {what}. Is the AUC they report an optimistic or an honest estimate of the AUC on new "
            "patients? Choose, then write one sentence that justifies your choice: which patients "
            "influenced which decision?"),
    make_params=_protocol_params,
    solve=lambda p: PROTOCOL_CHOICES[_PROTOCOLS[p["key"]][1]],
    kind="choice",
    choices=PROTOCOL_CHOICES,
    hint="Follow the test patients: did their labels influence any choice made before they were scored?",
    misconceptions=(
        Misconception("says-honest", lambda p: PROTOCOL_CHOICES[1],
                      _PROTOCOL_MESSAGES[0]),
        Misconception("says-optimistic", lambda p: PROTOCOL_CHOICES[0],
                      _PROTOCOL_MESSAGES[1]),
    ),
))


# ---- radiogenomics.leak-measure (run it and measure) ---------------------------------------------


def _leak_params(rng: np.random.Generator) -> dict:
    return {"n": int(rng.choice([60, 80, 100])), "k": int(rng.choice([3, 5, 10])), "seed": int(rng.integers(1000, 9999))}


def _leak_aucs(p: dict) -> tuple[float, float]:
    """The learner's leaky and honest cross-validated AUCs, computed with companion code."""
    from companion.evaluation import cross_val_auc
    from companion.radiomics import radiomics_features, simulate_cohort

    c = simulate_cohort(p["n"], auc=0.5, seed=p["seed"])
    X = np.array([radiomics_features(im, m, per_angle=True) for im, m in zip(c.images, c.masks)])
    return (cross_val_auc(X, c.genotype, k=p["k"], leak=True, seed=p["seed"]).auc,
            cross_val_auc(X, c.genotype, k=p["k"], seed=p["seed"]).auc)


def _leak_solve(p: dict) -> float:
    leaky, honest = _leak_aucs(p)
    return leaky - honest


register(Exercise(
    id="radiogenomics.leak-measure",
    kind="experiment",  # run the chapter's experiment with your settings
    title="Run it and measure: how much does leakage add?",
    prompt=("Run it: `c = simulate_cohort({n}, auc=0.5, seed={seed})` (the genotype is independent of the "
            "images), `X = np.array([radiomics_features(im, m, per_angle=True) for im, m in zip(c.images, "
            "c.masks)])`, then `cross_val_auc(X, c.genotype, k={k}, leak=True, seed={seed}).auc` (features "
            "selected on all patients) and the same call without `leak=True` (selected inside the folds). "
            "By how much does the leaky AUC exceed the honest one? (leaky minus honest)"),
    make_params=_leak_params,
    solve=_leak_solve,
    rtol=1e-6,
    atol=1e-9,
    hint="Use exactly the calls given, with your seed, for both pipelines; subtract honest from leaky.",
    misconceptions=(
        Misconception("leaky-only", lambda p: _leak_aucs(p)[0],
                      "That is the leaky AUC itself; the question asks how much it exceeds the honest one."),
        Misconception("honest-minus-leaky", lambda p: -_leak_solve(p),
                      "Subtract the other way round: leaky minus honest."),
    ),
))
