"""Exercises of chapter ``chap-losses``: cross-entropy and its gradient, soft Dice, which loss made a curve."""

from __future__ import annotations

import numpy as np

from companion.exercises._engine import Exercise, Misconception, register
from companion.losses import cross_entropy, cross_entropy_grad, dice_loss, log_softmax, soft_dice, softmax

# ---- loss.ce-value ---------------------------------------------------------------------------


def _ce_params(rng: np.random.Generator) -> dict:
    z = rng.integers(-2, 4, size=(3, 3)).astype(float)  # 3 pixels x 3 classes
    y = rng.integers(0, 3, size=3)
    return {"z": z.tolist(), "y": y.tolist()}


def _ce_solve(p: dict) -> float:
    return float(cross_entropy(np.array(p["z"]), np.array(p["y"])))


def _ce_logp(p: dict) -> np.ndarray:
    z, y = np.array(p["z"]), np.array(p["y"])
    return np.take_along_axis(log_softmax(z), y[:, None], axis=1)[:, 0]


register(Exercise(
    id="loss.ce-value",
    title="Cross-entropy of a small prediction",
    prompt=("A network gives three pixels the logits (one row per pixel, one column per class 0, 1, 2)\n"
            "z = {z}\nand the true labels are y = {y}. What is the mean cross-entropy "
            "(natural log, as `F.cross_entropy` computes it)?"),
    make_params=_ce_params,
    solve=_ce_solve,
    rtol=1e-3,
    hint="Softmax each row, take the probability of the true class, then the mean of -log.",
    misconceptions=(
        Misconception("sum", lambda p: float(-_ce_logp(p).sum()),
                      "That is the sum over the pixels; the default reduction is the mean."),
        Misconception("log10", lambda p: float(-_ce_logp(p).mean() / np.log(10)),
                      "That uses log base 10; cross-entropy uses the natural logarithm."),
        Misconception("no-softmax", lambda p: float(-np.mean(np.take_along_axis(
            np.array(p["z"]), np.array(p["y"])[:, None], axis=1))),
            "The logits are not log-probabilities: subtract log Σ exp(z) (log-softmax) first."),
    ),
))


# ---- loss.ce-grad (array) --------------------------------------------------------------------


def _grad_params(rng: np.random.Generator) -> dict:
    z = np.round(rng.uniform(-2, 2, size=(2, 3)), 1) + 0.0  # no -0.0 in the prompt
    y = rng.integers(0, 3, size=2)
    return {"z": z.tolist(), "y": y.tolist()}


def _grad_solve(p: dict) -> np.ndarray:
    return cross_entropy_grad(np.array(p["z"]), np.array(p["y"]))


def _onehot(p: dict) -> np.ndarray:
    return np.eye(3)[np.array(p["y"])]


register(Exercise(
    id="loss.ce-grad",
    title="The gradient of cross-entropy",
    prompt=("Two pixels, three classes: logits z = {z} (one row per pixel), labels y = {y}. Give "
            "∂L/∂z of the mean cross-entropy L over the two pixels, as a 2 × 3 array."),
    make_params=_grad_params,
    solve=_grad_solve,
    kind="array",
    rtol=1e-3,
    atol=1e-6,
    hint="Per pixel the gradient is softmax(z) - onehot(y); the mean over 2 pixels divides it by 2.",
    misconceptions=(
        Misconception("no-mean", lambda p: softmax(np.array(p["z"])) - _onehot(p),
                      "That is the gradient of the sum; the mean over the pixels divides each row by their number."),
        Misconception("wrt-probs", lambda p: -_onehot(p) / softmax(np.array(p["z"])).clip(1e-12) / 2,
                      "That is the derivative with respect to the probabilities; chain it through softmax to reach the logits."),
    ),
    quiz_format=lambda p, ref: (f"Enter the entry of pixel 0 at its true class {p['y'][0]}.",
                                float(ref[0, p["y"][0]])),
))


# ---- loss.soft-dice --------------------------------------------------------------------------


def _dice_params(rng: np.random.Generator) -> dict:
    y = rng.integers(0, 2, size=6)
    y[rng.integers(0, 6)] = 1  # at least one lesion pixel
    prob = np.where(y == 1, rng.choice([0.6, 0.7, 0.8, 0.9], 6), rng.choice([0.0, 0.1, 0.2, 0.3, 0.6], 6))
    return {"p": prob.round(1).tolist(), "y": y.tolist()}


def _dice_solve(p: dict) -> float:
    return float(soft_dice(np.array(p["p"])[None, None], np.array(p["y"], dtype=float)[None, None], eps=1e-5)[0, 0])


def _sums(p: dict) -> tuple[float, float, float]:
    prob, y = np.array(p["p"]), np.array(p["y"], dtype=float)
    return float((prob * y).sum()), float(prob.sum()), float(y.sum())


register(Exercise(
    id="loss.soft-dice",
    title="Soft Dice of a small prediction",
    prompt=("Six pixels have lesion probabilities p = {p} and labels y = {y} (1 = lesion). "
            "What is the soft Dice D = (2 Σ p y + ε) / (Σ p + Σ y + ε) with ε = 1e-5?"),
    make_params=_dice_params,
    solve=_dice_solve,
    rtol=1e-3,
    hint="Σ p y adds the probabilities of the lesion pixels only; the denominator adds all probabilities and the lesion count.",
    misconceptions=(
        Misconception("no-two", lambda p: _sums(p)[0] / (_sums(p)[1] + _sums(p)[2]),
                      "The numerator has a factor 2: without it a perfect prediction would score 1/2."),
        Misconception("hard", lambda p: 2 * float(((np.array(p["p"]) > 0.5) * np.array(p["y"])).sum())
                      / (float((np.array(p["p"]) > 0.5).sum()) + sum(p["y"])),
                      "That is the hard Dice of the prediction thresholded at 0.5; the soft Dice uses the probabilities."),
        Misconception("jaccard", lambda p: _sums(p)[0] / (_sums(p)[1] + _sums(p)[2] - _sums(p)[0]),
                      "That is the soft Jaccard (IoU) index, I / (P + Y - I), not Dice."),
    ),
))


# ---- loss.which-curve (choice) ---------------------------------------------------------------

CURVE_CHOICES = ("cross-entropy", "soft Dice loss", "composite (cross-entropy + Dice)")


def starting_loss(kind: str, fraction: float, n_pixels: int = 1000) -> float:
    """Loss of a network that predicts 0.5 for both classes everywhere, lesion `fraction` of the pixels."""
    from companion.losses import composite_loss

    n_fg = int(round(fraction * n_pixels))
    target = (np.arange(n_pixels) < n_fg).astype(np.int64)[None]
    z = np.zeros((1, 2, n_pixels))
    fn = {"cross-entropy": cross_entropy, "soft Dice loss": dice_loss,
          "composite (cross-entropy + Dice)": composite_loss}[kind]
    return float(fn(z, target))


def _curve_params(rng: np.random.Generator) -> dict:
    fraction = float(rng.choice([0.01, 0.02, 0.05, 0.1, 0.2]))
    kind = str(rng.choice(CURVE_CHOICES))
    return {"pct": round(100 * fraction), "fraction": fraction, "kind": kind,
            "l0": round(starting_loss(kind, fraction), 4)}


def _curve_solve(p: dict) -> str:
    # the option whose starting value matches the curve's first point
    return min(CURVE_CHOICES, key=lambda c: abs(starting_loss(c, p["fraction"]) - p["l0"]))


register(Exercise(
    id="loss.which-curve",
    title="Which loss drew this training curve?",
    prompt=("A two-class U-Net is trained on images where lesions cover {pct} % of the pixels. "
            "At initialisation it predicts probability 0.5 for both classes at every pixel, and its "
            "training curve starts at L = {l0}. Which loss was it trained with (eps = 1e-5, "
            "background class included in the Dice mean, equal weights)?"),
    make_params=_curve_params,
    solve=_curve_solve,
    kind="choice",
    choices=CURVE_CHOICES,
    hint="At p = 0.5 cross-entropy is ln 2 whatever the lesion size; the soft Dice of each class depends on its size.",
    misconceptions=(
        Misconception("always-ce", lambda p: "cross-entropy" if p["kind"] != "cross-entropy" else CURVE_CHOICES[1],
                      "Compute ln 2 and the soft Dice of each class at p = 0.5 for this lesion size, and compare."),
    ),
))


# ---- loss.measure-gradient-share (experiment) ---------------------------------------------------

def _share_params(rng: np.random.Generator) -> dict:
    return {"size": int(rng.choice([32, 48, 64])), "radius": int(rng.integers(3, 9)), "loss": "soft Dice"}


def gradient_share(size: int, radius: int, loss: str) -> float:
    """Fraction of the total |gradient| w.r.t. the logits that falls on the foreground pixels.

    One image of ``size × size`` pixels with a disc of ``radius`` pixels as foreground, two classes,
    all logits zero (the network's first, uninformed prediction).
    """
    from companion.losses import dice_loss_grad
    yy, xx = np.mgrid[:size, :size]
    target = (((yy - size / 2) ** 2 + (xx - size / 2) ** 2) <= radius ** 2).astype(np.int64)[None]
    logits = np.zeros((1, 2, size, size))
    grad = dice_loss_grad(logits, target) if loss in ("dice", "soft Dice") else cross_entropy_grad(logits, target)
    mag = np.abs(grad).sum(axis=1)[0]
    return float(mag[target[0] == 1].sum() / mag.sum())


register(Exercise(
    id="loss.measure-gradient-share",
    title="Run it and measure: where the gradient goes at the start of training",
    kind="experiment",  # run the chapter's experiment with your settings
    prompt=("Run the chapter's imbalance experiment on one image of {size}×{size} pixels whose foreground is a disc "
            "of radius {radius} pixels centred at ({size}/2, {size}/2) (pixels with (y − {size}/2)² + (x − {size}/2)² ≤ "
            "{radius}², two classes), with all logits zero. For the {loss} loss (companion.losses.dice_loss), what fraction of "
            "the total |∂L/∂z| (summed over both classes and all pixels) falls on the foreground pixels?"),
    make_params=_share_params,
    solve=lambda p: gradient_share(p["size"], p["radius"], p["loss"]),
    rtol=1e-3,
    hint=("Use dice_loss_grad on logits of shape (1, 2, H, W) and sum the absolute values. (For cross-entropy the "
          "share would equal the foreground's share of the pixels: every pixel pulls equally.)"),
    misconceptions=(
        Misconception("pixel-share", lambda p: float((((np.mgrid[:p["size"], :p["size"]][0] - p["size"] / 2) ** 2
                                                        + (np.mgrid[:p["size"], :p["size"]][1] - p["size"] / 2) ** 2)
                                                       <= p["radius"] ** 2).mean()),
                      "That is the foreground's share of the pixels. The gradient per pixel is not the same on "
                      "foreground and background, which is the point of the experiment."),
    ),
))
