"""Exercises of chapter ``chap-activations``: derivatives at the kink, silent and dead ReLU units."""

from __future__ import annotations

import numpy as np

from companion.activations import elu_grad, gaussian_inactive_fraction, leaky_relu_grad
from companion.exercises._engine import Exercise, Misconception, register


# ---- act.derivative-at-zero ------------------------------------------------------------------

def _zero_params(rng: np.random.Generator) -> dict:
    which = str(rng.choice(["leaky_relu", "elu"]))
    if which == "leaky_relu":
        p = float(rng.choice([0.01, 0.02, 0.05, 0.1, 0.2, 0.3]))
        return {"name": "LeakyReLU", "fn": which, "pname": "negative_slope", "p": p}
    p = float(rng.choice([0.5, 0.7, 1.5, 2.0, 2.5, 3.0]))
    return {"name": "ELU", "fn": which, "pname": "alpha", "p": p}


def _zero_solve(params: dict) -> float:
    g = leaky_relu_grad if params["fn"] == "leaky_relu" else elu_grad
    return float(g(np.zeros(1), params["p"])[0])


register(Exercise(
    id="act.derivative-at-zero",
    title="The derivative at the kink",
    prompt=("PyTorch's autograd must return some number for the derivative of {name} with "
            "{pname} = {p} at exactly x = 0. Which number does it return (and `companion` too)?"),
    make_params=_zero_params,
    solve=_zero_solve,
    rtol=1e-6,
    hint="torch takes the branch for x <= 0 at x = 0: differentiate the negative branch there.",
    misconceptions=(
        Misconception("right-derivative", lambda p: 1.0,
                      "That is the slope of the positive branch; at x = 0 torch uses the branch for x <= 0."),
        Misconception("relu-convention", lambda p: 0.0,
                      "That is ReLU's convention; this activation has a non-zero slope on its negative branch."),
        Misconception("midpoint", lambda p: (1.0 + p["p"]) / 2,
                      "The average of the two one-sided slopes is a valid subgradient, but not the one torch returns."),
    ),
))


# ---- act.elu-derivatives (array) -------------------------------------------------------------

def _elu_params(rng: np.random.Generator) -> dict:
    alpha = float(rng.choice([0.5, 1.0, 1.5, 2.0]))
    neg1 = -float(rng.choice([0.5, 1.0, 1.5, 2.0, 3.0]))
    pos = float(rng.choice([0.5, 1.0, 2.5]))
    neg2 = -float(rng.choice([0.25, 0.75, 4.0]))
    return {"alpha": alpha, "x": [neg1, 0.0, pos, neg2]}


def _elu_solve(params: dict) -> np.ndarray:
    return elu_grad(np.array(params["x"]), params["alpha"])


register(Exercise(
    id="act.elu-derivatives",
    title="ELU's derivative at four points",
    prompt=("Give ELU'(x) with alpha = {alpha} at the four points x = {x}, as a list of four numbers "
            "(torch's convention at exactly 0)."),
    make_params=_elu_params,
    solve=_elu_solve,
    kind="array",
    rtol=1e-3,
    hint="For x <= 0, d/dx [alpha (e^x - 1)] = alpha e^x; for x > 0 the slope is 1.",
    misconceptions=(
        Misconception("forgot-alpha", lambda p: np.where(np.array(p["x"]) > 0, 1.0, np.exp(p["x"])),
                      "The negative branch is alpha (e^x - 1): its derivative keeps the factor alpha."),
        Misconception("value-not-slope",
                      lambda p: np.where(np.array(p["x"]) > 0, 1.0, p["alpha"] * np.expm1(p["x"])),
                      "Those are ELU's values on the negative side, not its slopes."),
        Misconception("geq-at-zero",
                      lambda p: np.where(np.array(p["x"]) >= 0, 1.0, p["alpha"] * np.exp(p["x"])),
                      "At exactly 0 torch uses the negative branch (x <= 0), not the positive one."),
    ),
    quiz_format=lambda p, ref: (f"What is ELU'({p['x'][0]:g})?", float(ref[0])),
))


# ---- act.inactive-fraction and act.never-active ----------------------------------------------

def _gauss_params(rng: np.random.Generator) -> dict:
    mu = float(np.round(rng.uniform(-1.5, 0.5), 2))
    sigma = float(np.round(rng.uniform(0.5, 2.0), 2))
    return {"mu": mu, "sigma": sigma, "k": int(rng.integers(2, 6))}


register(Exercise(
    id="act.inactive-fraction",
    title="Silent ReLU units for one input",
    prompt=("The pre-activations of a wide ReLU layer, for one input image, are independent draws "
            "z ~ N(mu, sigma^2) with mu = {mu} (a bias shift) and sigma = {sigma}. What fraction of the "
            "units output exactly 0 (z <= 0)? Give a number between 0 and 1."),
    make_params=_gauss_params,
    solve=lambda p: gaussian_inactive_fraction(p["mu"], p["sigma"]),
    rtol=2e-3,
    hint="Standardise: P(z <= 0) = P((z - mu)/sigma <= -mu/sigma) = Phi(-mu/sigma).",
    misconceptions=(
        Misconception("sign", lambda p: gaussian_inactive_fraction(-p["mu"], p["sigma"]),
                      "That is the fraction that fires (z > 0); the question asks for z <= 0."),
        Misconception("variance-as-std", lambda p: gaussian_inactive_fraction(p["mu"], p["sigma"] ** 2),
                      "Divide by the standard deviation sigma, not by the variance sigma^2."),
    ),
))

register(Exercise(
    id="act.never-active",
    title="Dead ReLU units over several inputs",
    prompt=("In a toy model, every unit of a ReLU layer sees k = {k} inputs, and its pre-activations on "
            "them are independent draws z ~ N(mu, sigma^2) with mu = {mu}, sigma = {sigma}. A unit is dead "
            "on this data set when z <= 0 for all k inputs. What fraction of the units is dead?"),
    make_params=_gauss_params,
    solve=lambda p: gaussian_inactive_fraction(p["mu"], p["sigma"], p["k"]),
    rtol=2e-3,
    hint="Independent events: multiply the probability of one silent input k times.",
    misconceptions=(
        Misconception("forgot-k", lambda p: gaussian_inactive_fraction(p["mu"], p["sigma"]),
                      "That is the fraction silent on one input; dead means silent on all of them."),
        Misconception("at-least-once",
                      lambda p: 1 - (1 - gaussian_inactive_fraction(p["mu"], p["sigma"])) ** p["k"],
                      "That is the probability of being silent at least once, not every time."),
    ),
))


# ---- act.init-choice (choose and justify) ----------------------------------------------------

_INIT_CORRECT = ("N(0, 2 / ((1 + a²) · C_in · 27)): the fan-in is C_in × 3 × 3 × 3, and a (leaky) ReLU keeps "
                 "only (1 + a²)/2 of the mean square")
_INIT_LECUN = "N(0, 1 / (C_in · 27)): then every pre-activation has the variance of one input"
_INIT_CHANNELS = "N(0, 2 / C_in): the fan-in is the number of input channels"
_INIT_SMALL = "N(0, 0.01²): small weights, so that no unit saturates"


def _init_params(rng: np.random.Generator) -> dict:
    return {"c": int(rng.choice([16, 32, 64, 128])), "a": float(rng.choice([0.0, 0.01, 0.1, 0.2]))}


register(Exercise(
    id="act.init-choice",
    title="Which initialisation for a deep (leaky) ReLU stack?",
    prompt=("A network stacks twenty blocks Conv3d({c}, {c}, kernel_size=3) → LeakyReLU(negative_slope={a}) "
            "(slope 0 is ReLU), without any normalisation layer. Which distribution of the initial weights keeps "
            "the mean square of the activations the same from the first block to the last? Choose, and justify "
            "it with the chapter's recursion."),
    make_params=_init_params,
    solve=lambda p: _INIT_CORRECT,
    kind="choice",
    choices=(_INIT_CORRECT, _INIT_LECUN, _INIT_CHANNELS, _INIT_SMALL),
    hint="E[z²] = fan_in · σ² · E[y²], and a (leaky) ReLU of a symmetric z keeps (1 + a²)/2 of E[z²].",
    misconceptions=(
        Misconception("lecun", lambda p: _INIT_LECUN,
                      "That is right for a linear layer; the activation after it keeps only about half of the mean "
                      "square, so the signal halves at every block."),
        Misconception("channels-only", lambda p: _INIT_CHANNELS,
                      "Each output sums over C_in × 3 × 3 × 3 inputs: the kernel volume belongs in the fan-in, "
                      "or the signal grows 27-fold per block."),
        Misconception("fixed-small", lambda p: _INIT_SMALL,
                      "A fixed standard deviation ignores the fan-in: the mean square then changes by a constant "
                      "factor per block, and after twenty blocks it has vanished or exploded."),
    ),
))


# ---- act.he-measure (run it and measure) -----------------------------------------------------

def _he_params(rng: np.random.Generator) -> dict:
    return {"depth": int(rng.integers(6, 15)), "width": int(rng.choice([64, 128, 256])),
            "s": float(rng.choice([0.8, 0.9, 1.1, 1.25])), "seed": int(rng.integers(0, 1000))}


def _he_solve(p: dict) -> float:
    from companion.init import propagate_second_moment
    x = np.random.default_rng(p["seed"]).standard_normal((256, p["width"]))
    q = propagate_second_moment(x, p["depth"], p["width"], std_scale=p["s"], seed=p["seed"])
    return float(q[-1] / q[0])


register(Exercise(
    id="act.he-measure",
    kind="experiment",  # run the chapter's experiment with your settings
    title="Measure the signal's growth through a ReLU network",
    prompt=("Rerun the chapter's He experiment with your own network, whose weights are {s} times He's standard "
            "deviation: x = np.random.default_rng({seed}).standard_normal((256, {width})), then "
            "q = propagate_second_moment(x, {depth}, {width}, std_scale={s}, seed={seed}). What is the measured "
            "growth q[-1] / q[0] from the first layer to the last? (Predict it first with the recursion.)"),
    make_params=_he_params,
    solve=_he_solve,
    rtol=1e-4,
    hint="Run the two lines with your numbers and divide the last entry of q by the first.",
    misconceptions=(
        Misconception("no-relu-half", lambda p: float((2 * p["s"] ** 2) ** (p["depth"] - 1)),
                      "That forgets that each ReLU keeps only half of the mean square: the factor per layer is "
                      "s², not 2 s². And the question asks for the measured value: run the code."),
        Misconception("last-not-ratio", lambda p: float(_he_q_last(p)),
                      "That is q at the last layer; the question asks for its ratio to the first layer's."),
    ),
))


def _he_q_last(p: dict) -> float:
    from companion.init import propagate_second_moment
    x = np.random.default_rng(p["seed"]).standard_normal((256, p["width"]))
    return float(propagate_second_moment(x, p["depth"], p["width"], std_scale=p["s"], seed=p["seed"])[-1])
