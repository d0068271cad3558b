"""Exercises of chapter ``chap-batchnorm``: normalise by hand, running statistics, effective sample size."""

from __future__ import annotations

import numpy as np

from companion.exercises._engine import Exercise, Misconception, register
from companion.batch_statistics import effective_sample_size, sample_patches
from companion.normalization import batch_norm, instance_norm, update_running_stats

_EPS = 1e-5


# ---- bn.normalize-by-hand (array) -------------------------------------------------------------

def _hand_params(rng: np.random.Generator) -> dict:
    # (N=2, C=2, L=3), small integers; each sample and position gets a spread (no zero variance)
    x = rng.integers(-4, 6, size=(2, 2, 3))
    x[0, :, 0] = x[1, :, 1] + rng.integers(1, 4, size=2)
    x[0, :, 2] = x[0, :, 0] + rng.integers(1, 3, size=2)
    x[1, :, 2] = x[1, :, 1] - rng.integers(1, 3, size=2)
    return {"x": x.tolist(), "gamma": [float(rng.choice([1.0, 2.0])), float(rng.choice([0.5, 3.0]))],
            "beta": [float(rng.integers(-2, 3)), float(rng.integers(-2, 3))]}


def _hand_solve(p: dict) -> np.ndarray:
    return batch_norm(np.array(p["x"], dtype=float), p["gamma"], p["beta"], _EPS)[0]


def _affine(p: dict, xhat: np.ndarray) -> np.ndarray:
    return np.array(p["gamma"]).reshape(1, 2, 1) * xhat + np.array(p["beta"]).reshape(1, 2, 1)


def _unbiased(p: dict) -> np.ndarray:
    x = np.array(p["x"], dtype=float)
    mean = x.mean(axis=(0, 2), keepdims=True)
    return _affine(p, (x - mean) / np.sqrt(x.var(axis=(0, 2), ddof=1, keepdims=True) + _EPS))


register(Exercise(
    id="bn.normalize-by-hand",
    title="Batch-normalise a small tensor by hand",
    prompt=("A batch x of shape (N, C, L) = (2, 2, 3) is\n\n    x = {x}\n\nwith gamma = {gamma}, "
            "beta = {beta} and eps = 1e-5 (small enough to ignore by hand). Apply batch normalisation in "
            "training mode and give y, an array of the same shape (2, 2, 3)."),
    make_params=_hand_params,
    solve=_hand_solve,
    kind="array",
    rtol=1e-3,
    atol=1e-3,
    hint="Per channel c, pool the 6 numbers x[:, c, :] (both samples, all three positions); biased variance (divide by 6).",
    misconceptions=(
        Misconception("per-sample", lambda p: instance_norm(np.array(p["x"], dtype=float), _EPS,
                                                           gamma=p["gamma"], beta=p["beta"]),
                      "You normalised each sample separately (that is instance norm): batch norm pools the "
                      "statistics of a channel over all samples of the batch."),
        Misconception("unbiased", _unbiased,
                      "You divided by M - 1: batch norm normalises with the biased variance (divide by M)."),
        Misconception("no-affine", lambda p: batch_norm(np.array(p["x"], dtype=float), None, None, _EPS)[0],
                      "You stopped at x-hat: apply the scale gamma and the shift beta of each channel."),
        Misconception("per-position", lambda p: _affine(p, (np.array(p["x"], float) - np.array(p["x"], float).mean(0))
                                                       / np.sqrt(np.array(p["x"], float).var(0) + _EPS)),
                      "You pooled over the batch only, separately per position: batch norm pools the batch "
                      "and all positions of a channel."),
    ),
    quiz_format=lambda p, ref: ("What is y[0, 1, 0]?", float(ref[0, 1, 0])),
))


# ---- bn.running-mean and bn.running-var -------------------------------------------------------

def _running_params(rng: np.random.Generator) -> dict:
    k = int(rng.integers(2, 4))
    return {"k": k, "momentum": float(rng.choice([0.1, 0.2, 0.3])), "m": int(rng.choice([4, 5, 8, 10])),
            "means": [float(v) for v in np.round(rng.uniform(-2, 3, k), 1)],
            "vars": [float(v) for v in np.round(rng.uniform(0.5, 4, k), 1)]}


def _running(p: dict, *, momentum: float | None = None, unbiased: bool = True) -> tuple[float, float]:
    rm, rv = np.zeros(1), np.ones(1)
    mom = p["momentum"] if momentum is None else momentum
    for mean, var in zip(p["means"], p["vars"]):
        v = var if unbiased else var * (p["m"] - 1) / p["m"]  # so that the update's M/(M-1) cancels
        rm, rv = update_running_stats(rm, rv, [mean], [v], p["m"], mom)
    return float(rm[0]), float(rv[0])


_RUNNING_PROMPT = ("A BatchNorm layer with momentum = {momentum} starts with running_mean = 0 and "
                   "running_var = 1. It sees k = {k} training batches; each has M = {m} values in the "
                   "channel, with batch means {means} and biased batch variances (divide by M) {vars}. ")

register(Exercise(
    id="bn.running-mean",
    title="Running mean after k steps",
    prompt=_RUNNING_PROMPT + "What is running_mean after the last batch (torch's update rule)?",
    make_params=_running_params,
    solve=lambda p: _running(p)[0],
    rtol=1e-4,
    atol=1e-9,
    hint="Each step: running = (1 - momentum) * running + momentum * batch_mean.",
    misconceptions=(
        Misconception("momentum-reversed", lambda p: _running(p, momentum=1 - p["momentum"])[0],
                      "In torch, momentum is the weight of the new batch, not of the old estimate."),
        Misconception("plain-average", lambda p: float(np.mean(p["means"])),
                      "The running mean is an exponential moving average that starts at 0, not the plain average."),
    ),
))

register(Exercise(
    id="bn.running-var",
    title="Running variance after k steps",
    prompt=_RUNNING_PROMPT + "What is running_var after the last batch (torch's update rule)?",
    make_params=_running_params,
    solve=lambda p: _running(p)[1],
    rtol=1e-4,
    hint="torch stores the unbiased batch variance M/(M-1) * var in the running estimate.",
    misconceptions=(
        Misconception("biased", lambda p: _running(p, unbiased=False)[1],
                      "You used the biased batch variance: torch puts the unbiased one, M/(M-1) times it, "
                      "into running_var."),
        Misconception("momentum-reversed", lambda p: _running(p, momentum=1 - p["momentum"])[1],
                      "In torch, momentum is the weight of the new batch, not of the old estimate."),
    ),
))


# ---- bn.effective-sample-size ------------------------------------------------------------------

def _ess_params(rng: np.random.Generator) -> dict:
    return {"n": int(rng.choice([1, 2, 4])), "d": int(rng.choice([32, 48, 64])),
            "s": float(rng.choice([1.5, 2.0, 2.5, 3.0]))}


register(Exercise(
    id="bn.effective-sample-size",
    title="Effective sample size of a batch of smooth volumes",
    prompt=("A batch holds N = {n} independent feature maps of {d} x {d} x {d} voxels. Each is white noise "
            "smoothed by a Gaussian filter of standard deviation s = {s} voxels along every axis (periodic "
            "boundaries). Summed over all offsets, the voxel correlation is about 2*sqrt(pi)*s per axis. "
            "How many independent voxels is the batch mean worth, M_eff = sigma^2 / Var(batch mean)?"),
    make_params=_ess_params,
    solve=lambda p: effective_sample_size((p["d"],) * 3, p["s"], p["n"]),
    rtol=1e-2,
    hint="M_eff = N * D * H * W / (sum of the correlation over all 3-D offsets); the 3-D sum is the product of the per-axis sums.",
    misconceptions=(
        Misconception("ignore-correlation", lambda p: float(p["n"] * p["d"] ** 3),
                      "That counts every voxel as independent; neighbouring voxels of a smooth map are correlated."),
        Misconception("kernel-width", lambda p: p["n"] * p["d"] ** 3 / (np.sqrt(2 * np.pi) * p["s"]) ** 3,
                      "sqrt(2 pi) s is the normalisation of the filter itself; the correlation of the smoothed "
                      "noise is the filter convolved with itself, with standard deviation sqrt(2) s."),
        Misconception("one-axis", lambda p: p["n"] * p["d"] ** 3 / (2 * np.sqrt(np.pi) * p["s"]),
                      "The correlation extends along all three axes: divide by the per-axis sum once per axis."),
        Misconception("forgot-n", lambda p: effective_sample_size((p["d"],) * 3, p["s"], 1),
                      "The N volumes of the batch are independent of each other: each adds its own share."),
    ),
))


# ---- bn.choose-norm (choice): which normalisation for small 3-D batches ------------------------

_NORM_CHOICES = (
    "batch norm: with 128^3 voxels per patch the batch statistics are estimated from millions of values, "
    "so they are precise even at this batch size",
    "instance or group norm: their statistics never cross samples, so training and evaluation compute the "
    "same thing, while batch norm at this batch size normalises with the statistics of one or two patches "
    "in training and with running averages in evaluation",
    "no normalisation: with a batch this small any normalisation only adds noise",
    "batch norm with a larger momentum, so that the running statistics follow the last batches closely",
)


def _choose_norm_params(rng: np.random.Generator) -> dict:
    return {"n": int(rng.choice([1, 2])), "size": int(rng.choice([96, 128, 160])),
            "gpu_gb": int(rng.choice([11, 16, 24]))}


register(Exercise(
    id="bn.choose-norm",
    title="Choose and justify: normalisation for a 3-D segmentation network",
    prompt=("You train a 3-D U-Net on CT patches of {size}^3 voxels; on your {gpu_gb} GB GPU the batch holds "
            "N = {n} patch(es), drawn at random positions with foreground oversampling, and at test time you "
            "segment whole volumes with sliding windows. Which normalisation layers do you use, and why?"),
    make_params=_choose_norm_params,
    solve=lambda p: _NORM_CHOICES[1],
    kind="choice",
    choices=_NORM_CHOICES,
    hint="What does a batch-norm layer use for its statistics in training mode, and what in evaluation mode? "
         "How much do two random CT patches differ?",
    misconceptions=(
        Misconception("many-voxels", lambda p: _NORM_CHOICES[0],
                      "The voxels of a patch are strongly correlated and patches differ in content (lung, liver, "
                      "bone): a patch is worth only a few independent values for the channel mean, and the "
                      "running statistics then differ from any one batch's."),
        Misconception("momentum", lambda p: _NORM_CHOICES[3],
                      "A larger momentum makes the running statistics noisier (they follow the last few patches), "
                      "and evaluation still normalises differently from training."),
        Misconception("none", lambda p: _NORM_CHOICES[2],
                      "Normalisation layers matter for training deep networks (larger stable learning rates); "
                      "the question is which statistics to use, not whether to normalise."),
    ),
))


# ---- bn.measure-patch-sd (run it): batch statistics of real CT patches ------------------------

_CT_IMG = None


def _ct_img() -> tuple[np.ndarray, np.ndarray]:
    global _CT_IMG
    if _CT_IMG is None:
        from companion.data import load_ct_slice

        hu = load_ct_slice().pixels.astype(np.float64)
        _CT_IMG = ((hu - hu.mean()) / hu.std(), hu > 300)
    return _CT_IMG


def _patch_params(rng: np.random.Generator) -> dict:
    return {"size": int(rng.choice([16, 24, 48])), "n": int(rng.choice([2, 3, 4])),
            "oversample": float(rng.choice([0.0, 0.5])), "seed": int(rng.integers(0, 1000))}


def _patch_sd(p: dict, *, n: int | None = None, oversample: float | None = None, square: bool = False) -> float:
    img, bone = _ct_img()
    n = p["n"] if n is None else n
    over = p["oversample"] if oversample is None else oversample
    patches, _ = sample_patches(img, p["size"], 2000 * n, seed=p["seed"], foreground=bone, oversample=over)
    sd = float(patches.reshape(2000, n, -1).mean(axis=(1, 2)).std())
    return sd ** 2 if square else sd


register(Exercise(
    id="bn.measure-patch-sd",
    kind="experiment",  # run the chapter's experiment with your settings
    title="Run it: how much do batch means of real CT patches scatter?",
    prompt=("Repeat the chapter's CT-patch experiment with your own settings: normalise the CT slice "
            "(img = (hu - hu.mean()) / hu.std(), bone = hu > 300), draw 2000 batches of N = {n} patches of "
            "{size} x {size} pixels with sample_patches(img, {size}, 2000 * {n}, seed={seed}, foreground=bone, "
            "oversample={oversample}), and compute the standard deviation of the 2000 batch means. What is it "
            "(in units of the slice's SD)? Another seed or your own sampler gives a value within 10 %."),
    make_params=lambda rng: _patch_params(rng),
    solve=_patch_sd,
    rtol=0.1,
    hint="Reshape the patches to (2000, N, size * size), average over the last two axes, take .std().",
    misconceptions=(
        Misconception("variance", lambda p: _patch_sd(p, square=True),
                      "That is the variance of the batch means; the question asks for their standard deviation."),
        Misconception("one-patch", lambda p: _patch_sd(p, n=1),
                      "That is the scatter of single patches: average the N patches of each batch first."),
    ),
))
