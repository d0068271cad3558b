"""Exercises of chapter chap-layer: parameter counts and receptive fields."""

from __future__ import annotations

import numpy as np

from companion import layers
from companion.exercises._engine import Exercise, Misconception, register


def _conv_params(rng: np.random.Generator) -> dict:
    return {"c_in": int(rng.choice([1, 2, 4, 8, 16, 32])), "c_out": int(rng.choice([8, 16, 24, 32, 48, 64])),
            "k": int(rng.choice([1, 3, 5])) if rng.random() < 0.3 else 3}


register(Exercise(
    id="layer.conv3d-params",
    title="Parameters of a Conv3d layer",
    prompt=("How many learnable parameters does torch.nn.Conv3d({c_in}, {c_out}, kernel_size={k}) have "
            "(bias included, the default)?"),
    make_params=_conv_params,
    solve=lambda p: layers.count_conv_parameters(p["c_in"], p["c_out"], (p["k"],) * 3),
    integer=True,
    rtol=0.0,
    atol=0.5,
    hint="Each output channel has one k×k×k kernel per input channel, plus one bias.",
    misconceptions=(
        Misconception("no-bias", lambda p: layers.count_conv_parameters(p["c_in"], p["c_out"], (p["k"],) * 3, bias=False),
                      "You left out the biases: one per output channel."),
        Misconception("2d-kernel", lambda p: layers.count_conv_parameters(p["c_in"], p["c_out"], (p["k"],) * 2),
                      "You counted a k×k (2-D) kernel; a Conv3d kernel is k×k×k."),
        Misconception("no-c-in", lambda p: layers.count_conv_parameters(1, p["c_out"], (p["k"],) * 3),
                      "Each kernel spans all input channels: multiply by C_in too."),
    ),
))


def _up_params(rng: np.random.Generator) -> dict:
    c_in = int(rng.choice([32, 64, 128, 256, 320, 512]))
    return {"c_in": c_in, "c_out": c_in // int(rng.choice([1, 2])), "k": 2}


register(Exercise(
    id="layer.convtranspose3d-params",
    title="Parameters of a ConvTranspose3d layer",
    prompt=("A 3-D U-Net decoder up-samples with torch.nn.ConvTranspose3d({c_in}, {c_out}, kernel_size={k}, "
            "stride={k}). How many learnable parameters does it have (bias included)?"),
    make_params=_up_params,
    solve=lambda p: layers.count_conv_parameters(p["c_in"], p["c_out"], (p["k"],) * 3, transposed=True),
    integer=True,
    rtol=0.0,
    atol=0.5,
    hint="A transposed convolution has a weight of shape (C_in, C_out, k, k, k) and one bias per output channel.",
    misconceptions=(
        Misconception("no-bias", lambda p: layers.count_conv_parameters(p["c_in"], p["c_out"], (p["k"],) * 3, bias=False),
                      "You left out the biases: one per output channel."),
        Misconception("bias-per-input", lambda p: p["c_in"] * p["c_out"] * p["k"] ** 3 + p["c_in"],
                      "The bias has one entry per OUTPUT channel, even in a transposed convolution."),
        Misconception("stride-in-count", lambda p: layers.count_conv_parameters(p["c_in"], p["c_out"], (p["k"],) * 3) * p["k"] ** 3,
                      "The stride changes the output size, not the number of weights."),
    ),
))


def _rf_params(rng: np.random.Generator) -> dict:
    n_blocks = int(rng.integers(2, 5))
    convs = int(rng.integers(1, 4))
    k = int(rng.choice([3, 3, 5]))
    return {"n_blocks": n_blocks, "convs": convs, "k": k,
            "layers": tuple(tuple(layer) for layer in _stack(n_blocks, convs, k))}


def _stack(n_blocks: int, convs: int, k: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for b in range(n_blocks):
        out += [(k, 1)] * convs
        if b < n_blocks - 1:
            out.append((2, 2))
    return out


register(Exercise(
    id="layer.receptive-field",
    title="Receptive field of a stack",
    prompt=("An encoder has {n_blocks} levels; each level is {convs} convolution(s) of kernel {k} and stride 1, "
            "and every level but the last ends with a 2×2 max-pool of stride 2. As (kernel, stride) pairs: {layers}. "
            "How many input pixels wide is the receptive field of one output of the last convolution?"),
    make_params=_rf_params,
    solve=lambda p: layers.receptive_field(p["layers"]),
    integer=True,
    rtol=0.0,
    atol=0.5,
    unit="pixels",
    hint="r grows by (k-1) times the product of the strides of all earlier layers: r = 1 + sum (k_l - 1) j_l.",
    misconceptions=(
        Misconception("ignore-strides", lambda p: 1 + sum(k - 1 for k, _ in p["layers"]),
                      "You added (k-1) for every layer but ignored the strides: after a pooling of stride 2, one step "
                      "of a later layer covers two input pixels."),
        Misconception("convs-only", lambda p: layers.receptive_field([(k, s) for k, s in p["layers"] if s == 1]),
                      "The pooling layers count too: they widen the receptive field and multiply the jump."),
    ),
))


register(Exercise(
    id="layer.bias-before-bn",
    title="A bias before batch norm",
    prompt=("A layer computes z = correlate(x, w) + b, then batch norm in training mode, then ReLU. "
            "What is the gradient of the loss with respect to the convolution bias b?"),
    make_params=lambda rng: {},
    solve=lambda p: "zero: batch norm subtracts the channel mean, which contains b",
    kind="choice",
    choices=("zero: batch norm subtracts the channel mean, which contains b",
             "the sum of the upstream gradient over the channel, as without batch norm",
             "it depends on gamma and beta",
             "it is undefined, because ReLU is not differentiable at 0"),
    hint="Add a constant c to every value of a channel: what happens to its mean and to x - mean?",
    misconceptions=(
        Misconception("no-bn", lambda p: "the sum of the upstream gradient over the channel, as without batch norm",
                      "That is the bias gradient of a correlation alone; batch norm's mean subtraction follows it."),
    ),
))


# ---- layer.anisotropic-design (choose and justify) -------------------------------------------

_ANISO_CORRECT = ("1×3×3 kernels and 1×2×2 pooling in the first stages, 3×3×3 and 2×2×2 once in-plane pooling "
                  "has brought the in-plane spacing within a factor of two of the slice spacing: the field then "
                  "grows by similar millimetres along every axis")
_ANISO_ISO = ("3×3×3 kernels and 2×2×2 pooling from the first layer: the same operation along every axis "
              "treats the axes equally")
_ANISO_RESAMPLE = "resample the volume to the slice spacing along every axis first, then use 3×3×3 everywhere"
_ANISO_NOPOOL_Z = "3×3×3 kernels at every level, with 1×2×2 pooling at every level"


def _aniso_params(rng: np.random.Generator) -> dict:
    return {"dz": float(rng.choice([3.0, 4.0, 5.0, 6.0])), "dxy": float(rng.choice([0.6, 0.7, 0.8]))}


register(Exercise(
    id="layer.anisotropic-design",
    title="Kernels and pooling for an anisotropic grid",
    prompt=("A CT series has voxels of {dz} × {dxy} × {dxy} mm (slices × rows × columns). You build a four-level "
            "3-D encoder with two convolutions per level. Which design of the first stages gives every output a "
            "receptive field that grows evenly in millimetres, without giving up in-plane resolution? Choose, "
            "and say to yourself why the others fail."),
    make_params=_aniso_params,
    solve=lambda p: _ANISO_CORRECT,
    kind="choice",
    choices=(_ANISO_CORRECT, _ANISO_ISO, _ANISO_RESAMPLE, _ANISO_NOPOOL_Z),
    hint="Convert the receptive field of each design to millimetres per axis: r voxels times the spacing.",
    misconceptions=(
        Misconception("voxels-not-mm", lambda p: _ANISO_ISO,
                      "Equal in voxels is not equal in millimetres: one step across slices is several in-plane "
                      "steps, so the field becomes several times longer across slices than in-plane."),
        Misconception("resample-down", lambda p: _ANISO_RESAMPLE,
                      "That throws away the in-plane resolution that small structures need; the network can adapt "
                      "its kernels and pooling to the grid instead."),
        Misconception("kernel-3-in-z", lambda p: _ANISO_NOPOOL_Z,
                      "With 3-wide kernels across slices from the first layer on, the first layers already mix "
                      "slices centimetres apart while their in-plane field is a few millimetres."),
    ),
))


# ---- layer.erf-measure (run it and measure) --------------------------------------------------

def _erf_params(rng: np.random.Generator) -> dict:
    first = int(rng.integers(0, 1000))
    return {"L": int(rng.choice([3, 5, 6, 10, 12])), "seeds": [first, first + 1, first + 2]}


def _erf_solve(p: dict) -> float:
    from companion.data import load_ct_slice
    from companion.intensity import ct_normalisation_stats, ct_normalise
    from companion.models.erf import effective_receptive_field, erf_std, random_relu_cnn  # torch, on first use

    ct = load_ct_slice()
    ct_in = ct_normalise(ct.pixels, ct_normalisation_stats([ct.pixels]))[None, None]
    maps = []
    for s in p["seeds"]:
        try:
            maps.append(effective_receptive_field(random_relu_cnn(p["L"], seed=s), ct_in))
        except ValueError:  # every ReLU path of this random network is dead: no gradient to measure
            continue
    return float(erf_std(np.mean(maps, axis=0)).mean())


register(Exercise(
    id="layer.erf-measure",
    kind="experiment",  # run the chapter's experiment with your settings
    title="Measure an effective receptive field",
    prompt=("Rerun the chapter's effective-receptive-field experiment with your own network: L = {L} layers, "
            "seeds {seeds}. With ct = load_ct_slice() and ct_in = ct_normalise(ct.pixels, "
            "ct_normalisation_stats([ct.pixels]))[None, None], average effective_receptive_field("
            "random_relu_cnn({L}, seed=s), ct_in) over your seeds s, leaving out a network for which it raises "
            "ValueError (every ReLU path dead, no gradient). What is erf_std(erf).mean(), the ERF's "
            "standard deviation in pixels? (Compare it with the theoretical field of 2L + 1 pixels.)"),
    make_params=_erf_params,
    solve=_erf_solve,
    rtol=1e-3,
    unit="pixels",
    hint="Copy the chapter's ERF cell, change the depth and the seeds, and print erf_std of the averaged map.",
    misconceptions=(
        Misconception("theoretical", lambda p: float(2 * p["L"] + 1),
                      "That is the theoretical receptive field's width; the question asks for the measured "
                      "standard deviation of the gradient map, which is much smaller."),
        Misconception("linear-box", lambda p: float(np.sqrt(2 * p["L"] / 3)),
                      "That is the closed form for a linear stack of 3×3 box filters; the random ReLU network's "
                      "ERF is measured, not computed from that formula."),
    ),
))
