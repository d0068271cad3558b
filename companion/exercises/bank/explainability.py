"""Exercises of chapter chap-explainability (ids ``xai.*``): the occlusion drop of a linear model,
the completeness of Integrated Gradients, which sanity check a method failed.

The answers come from companion code: :func:`companion.explain.occlusion_sensitivity` (torch is
imported inside ``solve`` only, as the engine requires) and, for completeness, the network's own
score difference ``S(x) - S(x')`` that Integrated Gradients must add up to (NumPy).
"""

from __future__ import annotations

import numpy as np

from companion.exercises._engine import Exercise, Misconception, redraw, register


# --------------------------------------------------------------------------- xai.occlusion-linear
def _occ_params(rng: np.random.Generator) -> dict:
    image = rng.integers(0, 10, size=(4, 4)) / 10
    return {"image": [[float(v) for v in row] for row in image],
            "rows": "\n".join("  " + "  ".join(f"{v:.1f}" for v in row) for row in image),
            "w": float(rng.choice([-2.0, -1.5, 0.5, 1.5, 2.0, 3.0])), "bias": float(rng.choice([-1.0, 0.5, 2.0])),
            "r": int(rng.choice([0, 2])), "c": int(rng.choice([0, 2])),
            "baseline": float(rng.choice([0.2, 0.3, 0.5]))}


def _occ_solve(p: dict) -> float:
    import torch

    from companion.explain import occlusion_sensitivity

    net = torch.nn.Conv2d(1, 2, 1).double()
    with torch.no_grad():
        net.weight.copy_(torch.tensor([1.0, p["w"]], dtype=torch.float64).reshape(2, 1, 1, 1))
        net.bias.copy_(torch.tensor([0.0, p["bias"]], dtype=torch.float64))
    x = np.array(p["image"])[None, None]
    occ = occlusion_sensitivity(net, x, 1, 2, baseline=p["baseline"], score="logit")
    return float(occ[0, p["r"], p["c"]])  # non-overlapping 2x2 patches: the patch's own drop


def _patch(p: dict) -> np.ndarray:
    return np.array(p["image"])[p["r"]:p["r"] + 2, p["c"]:p["c"] + 2]


register(Exercise(
    id="xai.occlusion-linear",
    title="Occlusion drop of a linear model",
    prompt=("A one-pixel 'network' gives the lesion logit z(p) = w x(p) + b at every pixel, with w = {w} "
            "and b = {bias}; the score is S = sum of z(p) over all 16 pixels of the 4x4 image\n{rows}\n"
            "The 2x2 patch whose top-left pixel is at row {r}, column {c} (counting from 0) is set to the "
            "baseline {baseline}. By how much does S drop (S before minus S after)?"),
    make_params=_occ_params,
    solve=_occ_solve,
    rtol=1e-6,
    atol=1e-9,
    hint="Only the four occluded pixels change; each changes z by w times its change of intensity.",
    misconceptions=(
        Misconception("no-baseline", lambda p: p["w"] * _patch(p).sum(),
                      "That sets the patch to 0; it is set to the baseline value."),
        Misconception("bias", lambda p: p["w"] * (_patch(p) - p["baseline"]).sum() + 4 * p["bias"],
                      "The bias is added before and after occlusion alike: it cancels in the drop."),
        Misconception("mean", lambda p: p["w"] * (_patch(p) - p["baseline"]).mean(),
                      "That is the mean change per pixel; the score is a sum over pixels."),
    ),
))


# --------------------------------------------------------------------------- xai.ig-completeness
def _ig_params(rng: np.random.Generator) -> dict:
    def draw() -> dict:
        w = rng.choice([-1.0, -0.5, 0.5, 1.0, 1.5, 2.0], size=2)
        x = np.round(rng.uniform(0.2, 1.0, 2), 1)
        return {"w1": float(w[0]), "w2": float(w[1]), "b": float(rng.choice([-0.5, -0.3, -0.2])),
                "v": float(rng.choice([-2.0, 1.5, 2.0, 3.0])), "c": float(rng.choice([-1.0, 0.5, 1.0])),
                "x1": float(x[0]), "x2": float(x[1])}

    # the hidden unit is on at x (b < 0: off at the black baseline), so x and 0 lie on different pieces
    return redraw(draw, lambda p: p["w1"] * p["x1"] + p["w2"] * p["x2"] + p["b"] >= 0.1)


def _score(p: dict, x1: float, x2: float) -> float:
    return p["v"] * max(p["w1"] * x1 + p["w2"] * x2 + p["b"], 0.0) + p["c"]


def _ig_solve(p: dict) -> float:
    return _score(p, p["x1"], p["x2"]) - _score(p, 0.0, 0.0)   # completeness: IG sums to S(x) - S(baseline)


def _grad_times_input(p: dict) -> float:
    return p["v"] * (p["w1"] * p["x1"] + p["w2"] * p["x2"])


register(Exercise(
    id="xai.ig-completeness",
    title="What Integrated Gradients add up to",
    prompt=("A network of two input pixels has one hidden ReLU unit: S(x) = v ReLU(w1 x1 + w2 x2 + b) + c with "
            "v = {v}, w1 = {w1}, w2 = {w2}, b = {b}, c = {c}. Integrated Gradients are computed for the image "
            "x = ({x1}, {x2}) from the black baseline x' = (0, 0), with the exact integral. What is the sum of the "
            "two attributions IG_1 + IG_2?"),
    make_params=_ig_params,
    solve=_ig_solve,
    rtol=1e-6,
    atol=1e-9,
    hint="Completeness: the attributions add up to the change of the score along the path.",
    misconceptions=(
        Misconception("score", lambda p: _score(p, p["x1"], p["x2"]),
                      "That is S(x) itself; the attributions account for the change from the baseline, S(x) - S(x')."),
        Misconception("gradient-times-input", _grad_times_input,
                      "That is gradient x input at x; it equals S(x) - S(0) only when x and 0 lie on the same linear "
                      "piece of the network, and here the ReLU unit is off at the black baseline and on at x."),
    ),
))


# --------------------------------------------------------------------------- xai.which-check
WHICH_CHECK_CHOICES = ("model randomisation", "label randomisation", "shortcut (test without the cue)",
                       "completeness")
_SCENARIOS = (
    ("The maps of a trained network and of the same architecture with all its weights re-initialised at random "
     "have a Spearman rank correlation of 0.9.", 0),
    ("A network trained on the same images with the labels shuffled (it memorised them) gives maps with an SSIM "
     "of 0.85 to those of the network trained on the true labels.", 1),
    ("Every positive training image came from one scanner that stamps its name in a corner; the maps of the "
     "positives are brightest in that corner, and the accuracy on another scanner's images is 52 %.", 2),
    ("The attributions of one image add up to 4.1, while the score of the image minus the score of the "
     "baseline is 1.3.", 3),
)


def _which_check_params(rng: np.random.Generator) -> dict:
    k = int(rng.integers(len(_SCENARIOS)))
    return {"k": k, "scenario": _SCENARIOS[k][0]}


register(Exercise(
    id="xai.which-check",
    title="Which check does this observation come from?",
    prompt="{scenario} Which check produced this observation?",
    make_params=_which_check_params,
    solve=lambda p: WHICH_CHECK_CHOICES[_SCENARIOS[p["k"]][1]],
    kind="choice",
    choices=WHICH_CHECK_CHOICES,
    hint="Ask what was changed between the two maps (or numbers) being compared.",
    misconceptions=(
        Misconception("model-for-label", lambda p: WHICH_CHECK_CHOICES[0] if p["k"] == 1 else WHICH_CHECK_CHOICES[1],
                      "Model randomisation re-initialises the weights of the trained network; label randomisation "
                      "trains a new network on shuffled labels. Which of the two was done here?"),
    ),
))
