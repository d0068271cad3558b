"""Exercises of the residual chapter (ids ``res.*``). ``solve`` imports torch inside."""

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
    import torch

    from companion.models.resnets import ResidualNet

    net = ResidualNet(1, p["n"], activation="linear").double()  # y = x + W x, so J_F = W
    with torch.no_grad():
        net.blocks[0].linear.weight.copy_(torch.tensor(p["J"], dtype=torch.float64))
    x = torch.zeros(1, p["n"], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(net(x), x, grad_outputs=torch.tensor([p["g"]], dtype=torch.float64))
    return grad[0].numpy()


def _growth_params(rng):
    return {"sigma": round(float(rng.uniform(0.3, 0.9)), 2), "L": int(rng.integers(5, 31))}


def _growth_solve(p):
    from companion.models.resnets import linear_theory_growth

    return linear_theory_growth(p["L"], p["sigma"], residual=True)


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
)
