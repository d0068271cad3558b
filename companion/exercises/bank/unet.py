"""Exercises of chapter chap-unet (ids ``unet.*``): level parameters, valid-padding output size,
channels after a skip concatenation, receptive field of the bottleneck, output size of a
transposed convolution.

The answers come from companion code: :func:`companion.layers.count_conv_parameters`,
:func:`companion.convolution.output_size`, :func:`companion.layers.receptive_field`,
:func:`companion.convolution.conv_transpose` (run on zeros). No torch at
import time or in ``solve`` (the same numbers are checked against ``companion.models.UNet`` in
``tests/test_unet.py``).
"""

from __future__ import annotations

import numpy as np

from companion import layers
from companion.convolution import conv_transpose, output_size
from companion.exercises._engine import Exercise, Misconception, register
from companion.unet import make_plan, plan_layers, valid_trace


# --------------------------------------------------------------------------- unet.level-params
def _level_params(rng: np.random.Generator) -> dict:
    return {"dims": int(rng.choice([2, 3])), "c_in": int(rng.choice([1, 2, 4])),
            "base": int(rng.choice([8, 16, 32])), "level": int(rng.integers(0, 4))}


def _level_channels(p: dict) -> tuple[int, int]:
    c = p["base"] * 2 ** p["level"]
    return (p["c_in"] if p["level"] == 0 else c // 2), c


def _level_solve(p: dict, *, bias: bool = True, kdims: int | None = None, first_in: int | None = None,
                 convs: int = 2) -> int:
    c_prev, c = _level_channels(p)
    k = (3,) * (kdims or p["dims"])
    c_first = c_prev if first_in is None else first_in
    n = layers.count_conv_parameters(c_first, c, k, bias=bias)
    if convs == 2:
        n += layers.count_conv_parameters(c, c, k, bias=bias)
    return n


# --------------------------------------------------------------------------- unet.valid-output
def _valid_params(rng: np.random.Generator) -> dict:
    depth = int(rng.integers(2, 5))
    b = int(rng.integers(8, 20))  # bottleneck input size (>= 8 so that the decoder never runs out)
    n = b
    for _ in range(depth):
        n = 2 * n + 4  # undo one encoder level: (n - 4) / 2 = b
    return {"depth": depth, "n": n}


def _trace(n: int, depth: int, *, trim: int = 3, decoder_convs: bool = True) -> int:
    """The output size (:func:`companion.unet.valid_trace`); `trim` is the kernel size of each convolution."""
    return valid_trace(n, depth, kernel=trim, decoder_convs=decoder_convs)[-1][1]


# --------------------------------------------------------------------------- unet.skip-channels
def _skip_params(rng: np.random.Generator) -> dict:
    return {"base": int(rng.choice([16, 24, 32, 48, 64])), "depth": 4, "level": int(rng.integers(0, 4))}


# --------------------------------------------------------------------------- unet.bottleneck-rf
def _rf_params(rng: np.random.Generator) -> dict:
    return {"depth": int(rng.integers(1, 6))}


def _rf_layers(depth: int, *, pools: bool = True) -> list[tuple[int, int]]:
    plan = make_plan([3] * (depth + 1), [2] * depth, 1, max_channels=2**depth, dims=1)
    return plan_layers(plan, pool_extent=pools)


# --------------------------------------------------------------------------- unet.transposed-output
def _tconv_params(rng: np.random.Generator) -> dict:
    s = int(rng.integers(2, 4))
    k = int(rng.integers(2, 6))
    return {"n": int(rng.integers(5, 40)), "k": k, "s": s, "p": int(rng.integers(0, min(k, 3))),
            "op": int(rng.integers(0, s))}


def _tconv_solve(p: dict, *, padding: bool = True, op: bool = True) -> int:
    x = np.zeros((1, 1, p["n"]))
    w = np.zeros((1, 1, p["k"]))
    pad = p["p"] if padding else 0
    out = conv_transpose(x, w, stride=p["s"], padding=pad, output_padding=p["op"] if op else 0)
    return int(out.shape[-1])


register(
    Exercise(
        id="unet.level-params",
        title="Parameters of one U-Net level",
        prompt=("A {dims}-D U-Net with {c_in} input channel(s) and {base} base channels (level l has "
                "{base}·2^l channels) uses no normalisation, so every convolution has a bias. How many "
                "parameters hold the two 3×3 convolutions of encoder level {level} (level 0 is the first)?"),
        make_params=_level_params,
        solve=_level_solve,
        integer=True,
        rtol=0.0,
        atol=0.5,
        hint=("The first convolution maps the previous level's channels (or the image's) to this level's; "
              "the second keeps them. Each has C_out·(C_in·k^d + 1) parameters."),
        misconceptions=(
            Misconception("no-bias", lambda p: _level_solve(p, bias=False),
                          "You left out the biases: one per output channel of each convolution."),
            Misconception("kernel-dims", lambda p: _level_solve(p, kdims=5 - p["dims"]),
                          "Check the kernel's dimensionality: a 2-D 3×3 kernel has 9 weights per input channel, "
                          "a 3-D 3×3×3 kernel 27."),
            Misconception("same-in-out", lambda p: _level_solve(p, first_in=_level_channels(p)[1]),
                          "The first convolution of a level takes the previous level's channel count "
                          "(half of this level's, or the image channels at level 0), not this level's."),
            Misconception("one-conv", lambda p: _level_solve(p, convs=1),
                          "Each level has two 3×3 convolutions; you counted one."),
        ),
    ),
    Exercise(
        id="unet.valid-output",
        title="Output size of a valid-padding U-Net",
        prompt=("A U-Net of depth {depth} (that many 2× poolings) uses unpadded ('valid') 3×3 convolutions, "
                "two per level, 2×2 max pooling and 2×2 transposed convolutions with stride 2, as in the 2015 "
                "paper. A square tile of {n}×{n} pixels goes in. What is the side of the output segmentation map?"),
        make_params=_valid_params,
        solve=lambda p: _trace(p["n"], p["depth"]),
        integer=True,
        rtol=0.0,
        atol=0.5,
        hint=("Follow one side: each valid 3×3 convolution removes 2 pixels, each pooling halves, each "
              "transposed convolution doubles; the decoder's convolutions trim too."),
        misconceptions=(
            Misconception("same", lambda p: p["n"], "With valid convolutions the output is smaller than the input."),
            Misconception("no-decoder-trim", lambda p: _trace(p["n"], p["depth"], decoder_convs=False),
                          "The decoder's two 3×3 convolutions per level are unpadded too: they trim 2 pixels each."),
            Misconception("trim-one", lambda p: _trace(p["n"], p["depth"], trim=2),
                          "A valid 3×3 convolution removes one pixel on EACH side: 2 per convolution, not 1."),
        ),
    ),
    Exercise(
        id="unet.skip-channels",
        title="Channels after a skip concatenation",
        prompt=("In a U-Net with {base} base channels (level l has {base}·2^l channels) and depth {depth}, the "
                "decoder at level {level} up-samples the deeper map with a 2×2 transposed convolution that halves "
                "its channels, then concatenates the encoder's level-{level} map. How many channels enter the "
                "first 3×3 convolution of that decoder level?"),
        make_params=_skip_params,
        solve=lambda p: 2 * p["base"] * 2 ** p["level"],
        integer=True,
        rtol=0.0,
        atol=0.5,
        hint="Skip channels (this level's encoder) plus up-sampled channels (the deeper level's, halved).",
        misconceptions=(
            Misconception("skip-only", lambda p: p["base"] * 2 ** p["level"],
                          "That is only one of the two parts: the skip and the up-sampled map are concatenated."),
            Misconception("no-halving", lambda p: 3 * p["base"] * 2 ** p["level"],
                          "The transposed convolution halves the deeper level's channels before the concatenation."),
        ),
    ),
    Exercise(
        id="unet.bottleneck-rf",
        title="Receptive field of the bottleneck",
        prompt=("A U-Net encoder has {depth} levels of two 3×3 convolutions (stride 1) each followed by 2×2 max "
                "pooling (stride 2), then a bottleneck of two more 3×3 convolutions. How wide (in input pixels, "
                "along one axis) is the receptive field of one bottleneck unit?"),
        make_params=_rf_params,
        solve=lambda p: layers.receptive_field(_rf_layers(p["depth"])),
        integer=True,
        rtol=0.0,
        atol=0.5,
        unit="pixels",
        hint="r = 1 + Σ (k − 1)·j, where the jump j is the product of the earlier strides.",
        misconceptions=(
            Misconception("no-pool-extent", lambda p: layers.receptive_field(_rf_layers(p["depth"], pools=False)),
                          "A 2×2 pooling window also widens the field: it adds (2 − 1)·j."),
            Misconception("no-jump", lambda p: 1 + 2 * 2 * (p["depth"] + 1) + p["depth"],
                          "After each pooling a step in the feature map is 2× more input pixels: weight (k − 1) by "
                          "the product of the earlier strides."),
        ),
    ),    Exercise(
        id="unet.transposed-output",
        title="Output size of a transposed convolution",
        prompt=("A 1-D transposed convolution (PyTorch's ConvTranspose1d) has kernel size {k}, stride {s}, "
                "padding {p} and output_padding {op}. Its input has {n} samples. How many samples does "
                "its output have?"),
        make_params=_tconv_params,
        solve=_tconv_solve,
        integer=True,
        rtol=0.0,
        atol=0.5,
        unit="samples",
        hint=("Each input sample places a copy of the kernel at stride s: (n − 1)·s + k samples are touched; "
              "padding removes p from each end, output_padding adds samples at the end."),
        misconceptions=(
            Misconception("forward-formula", lambda p: output_size(p["n"], p["k"], stride=p["s"], padding=p["p"]),
                          "That is the size of an ordinary (down-sampling) strided convolution; the transposed "
                          "one goes the other way, from small to large."),
            Misconception("times-stride", lambda p: p["n"] * p["s"],
                          "n·s is only right when k = s and there is no padding: count where the last kernel "
                          "copy ends, (n − 1)·s + k."),
            Misconception("pad-adds", lambda p: _tconv_solve(p, padding=False) + 2 * p["p"],
                          "In a transposed convolution padding p REMOVES p samples from each end of the output."),
            Misconception("no-padding", lambda p: _tconv_solve(p, padding=False),
                          "You left out the padding: it removes p samples from each end of the output."),
            Misconception("no-output-padding", lambda p: _tconv_solve(p, op=False),
                          "output_padding adds that many samples at the end of the output."),
        ),
    ),
)


# ---- unet.choose-upsampling (choice) and unet.measure-checkerboard (experiment) -------------------

_UP_CHOICES = (
    "nearest-neighbour (or linear) up-sampling by {s}, then a {k}x{k} convolution: every output pixel is "
    "covered by the same number of kernel taps, so no periodic pattern is built in",
    "keep the transposed convolution but give it more channels, so it can learn to hide the pattern",
    "a transposed convolution with kernel {k_odd} and stride {s}: a larger kernel smooths the output",
    "remove the skip connections: the pattern comes from the encoder's features",
)


register(Exercise(
    id="unet.choose-upsampling",
    title="Choose and justify: an up-sampling without checkerboards",
    prompt=("The predictions of your U-Net show a faint checkerboard, period {s} pixels, in flat regions. Its "
            "decoder up-samples with transposed convolutions of stride {s}. Which change removes the cause, and why?"),
    make_params=lambda rng: {"s": 2, "k": 3, "k_odd": 3},
    solve=lambda p: _UP_CHOICES[0].format(**p),
    kind="choice",
    choices=tuple(c.format(s=2, k=3, k_odd=3) for c in _UP_CHOICES),
    hint="Count how many kernel copies overlap each output pixel of a stride-s transposed convolution.",
    misconceptions=(
        Misconception("more-channels", lambda p: _UP_CHOICES[1].format(**p),
                      "More channels do not change how the kernel copies overlap: the uneven overlap, and with it "
                      "the pattern, is built into the operation whatever the weights."),
        Misconception("odd-kernel", lambda p: _UP_CHOICES[2].format(**p),
                      "A kernel size that is not a multiple of the stride makes the overlap uneven: some outputs get "
                      "two kernel copies and their neighbours one. That is the checkerboard's cause."),
        Misconception("skips", lambda p: _UP_CHOICES[3].format(**p),
                      "The period equals the decoder's stride: the pattern comes from the up-sampling, not from "
                      "the skips (Odena et al. 2016)."),
    ),
))


def _cb_params(rng: np.random.Generator) -> dict:
    s = int(rng.choice([2, 3]))
    k = int(rng.choice([k for k in range(s + 1, 3 * s + 1) if k % s]))
    return {"s": s, "k": k, "n": int(rng.integers(8, 16))}


def checkerboard_ratio(n: int, k: int, s: int, *, interior: bool = True) -> float:
    """Largest over smallest value of a transposed convolution of ones by ones.

    The input is ``n`` ones, the kernel ``k`` ones, the stride ``s``; the output value at a position
    counts the kernel copies covering it, so the ratio is ``ceil(k/s) / floor(k/s)`` away from the
    ends (``interior=True`` leaves out the first and last ``k`` samples).
    """
    y = conv_transpose(np.ones((1, 1, n)), np.ones((1, 1, k)), stride=s)[0, 0]
    if interior:
        y = y[k:-k]
    return float(y.max() / y.min())


register(Exercise(
    id="unet.measure-checkerboard",
    title="Run it and measure: the checkerboard of a transposed convolution",
    kind="experiment",  # run the chapter's experiment with your settings
    prompt=("Run the chapter's checkerboard experiment in 1-D with your settings: apply "
            "`companion.convolution.conv_transpose` with stride {s} to an input of {n} ones (shape (1, 1, {n})) "
            "and a kernel of {k} ones (shape (1, 1, {k})). Leaving out the first and last {k} output samples, "
            "what is the ratio of the largest to the smallest output value?"),
    make_params=_cb_params,
    solve=lambda p: checkerboard_ratio(p["n"], p["k"], p["s"]),
    rtol=1e-6,
    hint="Each output value counts the kernel copies that cover it; copies start every s samples.",
    misconceptions=(
        Misconception("flat", lambda p: 1.0,
                      "With a kernel size that is not a multiple of the stride the overlap is uneven: measure "
                      "again away from the ends."),
        Misconception("with-ends", lambda p: checkerboard_ratio(p["n"], p["k"], p["s"], interior=False),
                      "Leave out the first and last k samples: near the ends fewer copies overlap."),
    ),
))
