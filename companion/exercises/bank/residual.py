"""Exercises of the residual chapter (ids ``res.*``); answers come from the NumPy core
:mod:`companion.residual` (no torch needed)."""

from __future__ import annotations

import numpy as np

from companion.exercises._engine import Exercise, Misconception, register


def _grad_params(rng):
    n = 3
    jac = rng.integers(-3, 4, size=(n, n))
    while np.array_equal(jac, jac.T):  # a non-symmetric J tells J^T g from J g
        jac = rng.integers(-3, 4, size=(n, n))
    return {"J": jac.tolist(), "g": rng.integers(-4, 5, size=n).tolist(), "n": n}


def _grad_solve(p):
    from companion.residual import residual_backward

    return residual_backward(p["g"], p["J"])


def _growth_params(rng):
    return {"sigma": round(float(rng.uniform(0.3, 0.9)), 2), "L": int(rng.integers(5, 31))}


def _growth_solve(p):
    from companion.residual import linear_theory_growth

    return linear_theory_growth(p["L"], p["sigma"], residual=True)


# ---- res.fix-growth (choice): which change keeps a deep residual stack's gradient in range ----

FIX_CHOICES = (
    "scale every branch by 1/sqrt(L) (or zero-initialise its last layer)",
    "remove the skip connections and keep sigma",
    "initialise with He's sigma = sqrt(2) instead",
    "double the width of every block",
)


def _fix_growth(choice: str, p: dict) -> float:
    """Expected squared-gradient growth from output to input under each option."""
    from companion.residual import linear_theory_growth

    L, sigma = p["L"], p["sigma"]
    if choice == FIX_CHOICES[0]:
        return linear_theory_growth(L, sigma, residual=True, branch_scale=L ** -0.5)
    if choice == FIX_CHOICES[1]:
        return linear_theory_growth(L, sigma, residual=False)
    if choice == FIX_CHOICES[2]:
        return linear_theory_growth(L, 2 ** 0.5, residual=True)
    return linear_theory_growth(L, sigma, residual=True)   # the width does not enter the factor


def _fix_params(rng):
    return {"L": int(rng.integers(50, 201)), "sigma": float(rng.choice([0.7, 0.8, 1.2, 1.3, 1.5]))}


def _fix_solve(p):
    # the option whose expected growth is closest to 1 (in log scale), computed, not typed in
    return min(FIX_CHOICES, key=lambda c: abs(np.log(_fix_growth(c, p))))


# ---- res.measure-growth (number): run the backward pass yourself and measure ----------------

def _measure_params(rng):
    return {"seed": int(rng.integers(0, 10_000)), "L": int(rng.integers(10, 31)), "n": 32, "B": 8,
            "sigma": round(float(rng.uniform(0.4, 0.9)), 2)}


def _measure_draw(p):
    r = np.random.default_rng(p["seed"])
    weights = [r.normal(0.0, p["sigma"] / np.sqrt(p["n"]), (p["n"], p["n"])) for _ in range(p["L"])]
    return weights, r.normal(size=(p["B"], p["n"]))


def _measure_solve(p):
    from companion.residual import linear_backward_norms

    weights, g = _measure_draw(p)
    return float(linear_backward_norms(weights, g, residual=True)[0])


def _measure_plain(p):
    from companion.residual import linear_backward_norms

    weights, g = _measure_draw(p)
    return float(linear_backward_norms(weights, g, residual=False)[0])


register(
    Exercise(
        id="res.block-gradient",
        title="Gradient through a residual block",
        prompt=("A residual block computes y = x + F(x), and at the current x the Jacobian of F is\n\n"
                "J = {J}\n\n(rows: outputs of F, columns: inputs). The gradient of the loss with respect "
                "to y is g = {g}. Give the gradient of the loss with respect to x (a list of {n} numbers)."),
        make_params=_grad_params,
        solve=_grad_solve,
        kind="array",
        rtol=1e-6,
        atol=1e-9,
        hint="dL/dx = dL/dy + J^T dL/dy: one term through the skip, one through F.",
        quiz_format=lambda p, ref: ("What is the first entry of dL/dx?", float(ref[0])),
        misconceptions=(
            Misconception("no-skip", lambda p: np.asarray(p["J"], float).T @ np.asarray(p["g"], float),
                          "You left out the skip connection: the identity path adds dL/dy itself."),
            Misconception("J-not-JT", lambda p: np.asarray(p["g"], float)
                          + np.asarray(p["J"], float) @ np.asarray(p["g"], float),
                          "Backpropagation multiplies by the transposed Jacobian, J^T, not J."),
        ),
    ),
    Exercise(
        id="res.norm-growth",
        title="Gradient norm growth through residual blocks",
        prompt=("A residual network has {L} blocks y = x + W x (identity activation) with weights drawn "
                "from N(0, sigma^2 / width), sigma = {sigma}. By what factor does the expected squared norm "
                "of the gradient grow from the output back to the input, at initialisation?"),
        make_params=_growth_params,
        solve=_growth_solve,
        rtol=1e-3,
        hint="E[(I + W)(I + W)^T] = I + E[W W^T]; the blocks are independent.",
        misconceptions=(
            Misconception("plain", lambda p: p["sigma"] ** (2 * p["L"]),
                          "That is the plain network's factor: the skip adds an identity to every block."),
            Misconception("linearised", lambda p: 1 + p["L"] * p["sigma"] ** 2,
                          "The factors multiply from block to block; they do not add."),
            Misconception("norm-not-squared", lambda p: (1 + p["sigma"] ** 2) ** (p["L"] / 2),
                          "That is the growth of the norm; the question asks for the squared norm."),
        ),
    ),
    Exercise(
        id="res.fix-growth",
        title="Keeping a deep residual network's gradient in range",
        prompt=("A residual network has L = {L} linear blocks x + W x with weights drawn from "
                "N(0, sigma^2 / width), sigma = {sigma}. At initialisation the squared gradient norm grows "
                "by (1 + sigma^2)^L from the output back to the input. Which single change keeps that "
                "factor of order 1 (between about e^(-sigma^2) and e^(sigma^2)) however deep the network is?"),
        make_params=_fix_params,
        solve=_fix_solve,
        kind="choice",
        choices=FIX_CHOICES,
        hint="Write the per-block factor for each option and raise it to the power L; (1 + a/L)^L tends to e^a.",
        misconceptions=(
            Misconception("remove-skips", lambda p: FIX_CHOICES[1],
                          "Without skips the factor is sigma^(2L): for sigma != 1 it vanishes or explodes "
                          "exponentially in depth."),
            Misconception("he-init", lambda p: FIX_CHOICES[2],
                          "He's sigma = sqrt(2) is right for a plain ReLU stack; in a residual stack it makes "
                          "the per-block factor 3, not 1."),
            Misconception("width", lambda p: FIX_CHOICES[3],
                          "The width cancels: the weights' variance sigma^2/width already accounts for it."),
        ),
    ),
    Exercise(
        id="res.measure-growth",
        kind="experiment",  # run the chapter's experiment with your settings
        title="Measure the gradient growth of one residual network",
        prompt=("Run it and measure. With rng = np.random.default_rng({seed}), draw L = {L} weight matrices "
                "W_0, ..., W_(L-1), in that order, each rng.normal(0, {sigma} / np.sqrt({n}), ({n}, {n})), then "
                "an upstream gradient g = rng.normal(size=({B}, {n})). Backpropagate g through the linear "
                "residual stack x_(l+1) = x_l + x_l @ W_l.T (so g_l = g_(l+1) + g_(l+1) @ W_l, starting from "
                "g_L = g) and give ||g_0|| / ||g_L|| (Frobenius norms over the batch). "
                "companion.residual.linear_backward_norms does the backward pass."),
        make_params=_measure_params,
        solve=_measure_solve,
        rtol=1e-6,
        hint="Keep the draw order: all L matrices first, then g; the ratio is the first entry of "
             "linear_backward_norms(weights, g, residual=True).",
        misconceptions=(
            Misconception("plain", _measure_plain,
                          "That is the stack without skips: the residual backward pass adds g_(l+1) itself."),
            Misconception("theory", lambda p: (1 + p["sigma"] ** 2) ** (p["L"] / 2),
                          "That is the expected growth of the theory; the exercise asks for this network's "
                          "measured value, which scatters around it."),
            Misconception("squared", lambda p: _measure_solve(p) ** 2,
                          "That is the ratio of squared norms; give the ratio of the norms."),
        ),
    ),
)
