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
