"""Exercises of chapter chap-convolution: output sizes, parameter counts, correlation by hand,
convolution versus correlation, and the input gradient of a correlation.

Every answer is computed with :mod:`companion.convolution` (the parameter count with
:func:`companion.layers.count_conv_parameters`); the misconceptions are the usual
slips (dilation forgotten, padding counted on one side only, the +1 dropped, ceil for floor, the
bias or the input channels left out of a parameter count, the kernel flipped or not flipped).
``make_params`` redraws until every misconception gives a value different from the answer and
from each other, so each one can be recognised.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from companion.convolution import convolve, correlate, correlate_backward, output_size
from companion.exercises._engine import Exercise, Misconception, redraw, register
from companion.layers import count_conv_parameters


def _distinct(values: list[float]) -> bool:
    """True when no two of `values` are equal (the answer first, then each mistake's value)."""
    return len({round(float(v), 9) for v in values}) == len(values)


def _fmt_row(values) -> str:
    return "[" + ", ".join(f"{int(v)}" for v in values) + "]"


def _fmt_matrix(rows) -> str:
    return "[" + ",\n ".join(_fmt_row(r) for r in rows) + "]"


# ---------------------------------------------------------------------------------------------
# conv.output-size
# ---------------------------------------------------------------------------------------------

def _os_forgot_dilation(p: dict) -> int:
    return output_size(p["n"], p["k"], stride=p["s"], padding=p["p"])


def _os_pad_once(p: dict) -> int:
    return (p["n"] + p["p"] - p["d"] * (p["k"] - 1) - 1) // p["s"] + 1


def _os_no_plus_one(p: dict) -> int:
    return (p["n"] + 2 * p["p"] - p["d"] * (p["k"] - 1) - 1) // p["s"]


def _os_ceil(p: dict) -> int:
    return math.ceil((p["n"] + 2 * p["p"] - p["d"] * (p["k"] - 1) - 1) / p["s"]) + 1


def _os_solve(p: dict) -> int:
    return output_size(p["n"], p["k"], stride=p["s"], padding=p["p"], dilation=p["d"])


_OS_MISTAKES = (_os_forgot_dilation, _os_pad_once, _os_no_plus_one, _os_ceil)


def _os_params(rng: np.random.Generator) -> dict:
    for _ in range(1000):
        p = {"n": int(rng.integers(20, 257)), "k": int(rng.choice([3, 5, 7])),
             "s": int(rng.choice([2, 3])), "p": int(rng.integers(2, 8)), "d": int(rng.choice([2, 3]))}
        values = [_os_solve(p)] + [f(p) for f in _OS_MISTAKES]
        if _distinct(values):
            return p
    return {"n": 100, "k": 5, "s": 2, "p": 6, "d": 2}  # never reached in practice (see the tests)


register(Exercise(
    id="conv.output-size",
    title="Output size of a correlation",
    prompt=("A CT slice of {n}×{n} pixels goes through a 2-D convolution layer with a {k}×{k} kernel, "
            "stride {s}, zero padding {p} on every side and dilation {d}. How many output pixels does "
            "each row of the result have?"),
    make_params=_os_params,
    solve=_os_solve,
    integer=True,
    rtol=0.0,
    atol=0.5,
    unit="pixels",
    worked=lambda p, ref: (
        f"The dilated kernel spans $d(k-1)+1 = {p['d']}\\cdot{p['k'] - 1}+1 = {p['d'] * (p['k'] - 1) + 1}$ pixels; "
        f"the padded row has $n + 2p = {p['n']} + {2 * p['p']} = {p['n'] + 2 * p['p']}$ pixels; the window "
        f"positions number $\\lfloor({p['n'] + 2 * p['p']} - {p['d'] * (p['k'] - 1) + 1}) / {p['s']}\\rfloor + 1 = {ref}$."),
    hint=("A dilated kernel spans d(k-1)+1 pixels; padding is added on both sides; count the window "
          "positions: floor((n + 2p - d(k-1) - 1) / s) + 1."),
    misconceptions=(
        Misconception("forgot-dilation", _os_forgot_dilation,
                      "You used the kernel size k as its extent: with dilation d the kernel spans "
                      "d(k-1)+1 pixels."),
        Misconception("padding-once", _os_pad_once,
                      "You added the padding once; it is added on both sides of the row (2p)."),
        Misconception("no-plus-one", _os_no_plus_one,
                      "Off by one: you counted the steps between window positions, not the positions "
                      "(the first window also counts: + 1)."),
        Misconception("ceil", _os_ceil,
                      "You rounded up: a window that would hang over the padded edge is dropped, so the "
                      "division by the stride rounds down (floor)."),
    ),
))


# ---------------------------------------------------------------------------------------------
# conv.param-count
# ---------------------------------------------------------------------------------------------

def _pc_params(rng: np.random.Generator) -> dict:
    dims = int(rng.choice([2, 3]))
    return {"dims": dims, "c_in": int(rng.choice([2, 3, 4, 8, 16, 32, 64])),
            "c_out": int(rng.choice([8, 16, 32, 64, 128])), "k": int(rng.choice([3, 5]))}


def _pc_kernel(p: dict) -> tuple[int, ...]:
    return (p["k"],) * p["dims"]


register(Exercise(
    id="conv.param-count",
    title="Parameters of a convolution layer",
    prompt=("How many learnable parameters does torch.nn.Conv{dims}d({c_in}, {c_out}, kernel_size={k}) "
            "have? It maps {c_in} input channels to {c_out} output channels with a kernel of size {k} "
            "along each of its {dims} spatial axes, and has a bias (the default)."),
    make_params=_pc_params,
    solve=lambda p: count_conv_parameters(p["c_in"], p["c_out"], _pc_kernel(p)),
    worked=lambda p, ref: (
        f"Each of the {p['c_out']} output channels has one kernel of ${p['c_in']} \\times {p['k']}^{p['dims']} = "
        f"{p['c_in'] * p['k'] ** p['dims']}$ weights and one bias: "
        f"${p['c_out']} \\times ({p['c_in'] * p['k'] ** p['dims']} + 1) = {ref}$."),
    integer=True,
    rtol=0.0,
    atol=0.5,
    hint=("Each output channel owns one kernel per input channel (C_in × k^dims weights) and one "
          "bias."),
    misconceptions=(
        Misconception("forgot-bias", lambda p: count_conv_parameters(p["c_in"], p["c_out"], _pc_kernel(p), bias=False),
                      "You left out the biases: one per output channel."),
        Misconception("forgot-c-in", lambda p: count_conv_parameters(1, p["c_out"], _pc_kernel(p)),
                      "Each output channel's kernel spans all input channels: multiply the kernel size "
                      "by C_in."),
    ),
))


# ---------------------------------------------------------------------------------------------
# conv.value-by-hand
# ---------------------------------------------------------------------------------------------

def _vbh_params(rng: np.random.Generator) -> dict:
    def draw() -> dict:
        x = rng.integers(0, 10, size=(5, 5))
        w = rng.integers(-2, 3, size=(3, 3))
        i, j = (int(v) for v in rng.integers(0, 3, size=2))
        return {"x": x.tolist(), "w": w.tolist(), "i": i, "j": j,
                "x_text": _fmt_matrix(x), "w_text": _fmt_matrix(w)}
    return redraw(draw, lambda p: _distinct([_vbh_solve(p), _vbh_flipped(p)]))


def _vbh_arrays(p: dict) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(p["x"], float)[None, None], np.asarray(p["w"], float)[None, None]


def _vbh_solve(p: dict) -> float:
    x, w = _vbh_arrays(p)
    return float(correlate(x, w)[0, 0, p["i"], p["j"]])


def _vbh_flipped(p: dict) -> float:
    x, w = _vbh_arrays(p)
    return float(convolve(x, w)[0, 0, p["i"], p["j"]])


register(Exercise(
    id="conv.value-by-hand",
    title="One output of a correlation, by hand",
    prompt=("A convolution layer (which computes a cross-correlation: no padding, stride 1) applies the "
            "3×3 kernel\n\nw =\n{w_text}\n\nto the 5×5 image\n\nx =\n{x_text}\n\nThe output is 3×3. "
            "What is the output value at row {i}, column {j} (counting from 0)?"),
    make_params=_vbh_params,
    solve=_vbh_solve,
    integer=True,
    rtol=0.0,
    atol=1e-6,
    hint=("The output at (i, j) uses the window of rows i..i+2 and columns j..j+2 of x: multiply it "
          "entry by entry with w as printed (not flipped) and add the nine products."),
    misconceptions=(
        Misconception("flipped-kernel", _vbh_flipped,
                      "You flipped the kernel: that is a true convolution. A convolution layer computes "
                      "a cross-correlation, which lays w over the window as it is."),
    ),
))


# ---------------------------------------------------------------------------------------------
# conv.convolve-vs-correlate
# ---------------------------------------------------------------------------------------------

def _cvc_params(rng: np.random.Generator) -> dict:
    def draw() -> dict:
        n = int(rng.integers(6, 9))
        x = rng.integers(-3, 6, size=n)
        w = rng.integers(-2, 4, size=3)
        return {"x": x.tolist(), "w": w.tolist(), "n": n, "m": n - 2, "entry": int(rng.integers(0, n - 2)),
                "x_text": _fmt_row(x), "w_text": _fmt_row(w)}

    def accept(p: dict) -> bool:
        conv, corr = _cvc_solve(p), _cvc_correlation(p)
        return (p["w"][0] != p["w"][2] and conv[p["entry"]] != corr[p["entry"]]
                and not np.array_equal(conv, corr[::-1]))
    return redraw(draw, accept)


def _cvc_arrays(p: dict) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(p["x"], float)[None, None], np.asarray(p["w"], float)[None, None]


def _cvc_solve(p: dict) -> np.ndarray:
    x, w = _cvc_arrays(p)
    return convolve(x, w)[0, 0]


def _cvc_correlation(p: dict) -> np.ndarray:
    x, w = _cvc_arrays(p)
    return correlate(x, w)[0, 0]


register(Exercise(
    id="conv.convolve-vs-correlate",
    title="Convolution flips the kernel",
    prompt=("Compute the true convolution (x * w)[i] = Σ_k w[k] x[i + 2 - k] of the signal x = {x_text} "
            "with the kernel w = {w_text} in 'valid' mode (no padding, stride 1), like "
            "scipy.signal.convolve(x, w, mode='valid'). Give all {m} output values as a list."),
    make_params=_cvc_params,
    solve=_cvc_solve,
    kind="array",
    rtol=0.0,
    atol=1e-6,
    hint="Reverse the kernel first, then slide it over x and take dot products (that is, correlate "
         "with the reversed kernel).",
    misconceptions=(
        Misconception("correlation", _cvc_correlation,
                      "You computed the cross-correlation (kernel not reversed). A true convolution "
                      "reverses the kernel before sliding it."),
    ),
    quiz_format=lambda p, ref: (f"Enter output value number {p['entry']} (counting from 0).",
                                float(ref[p["entry"]])),
))


# ---------------------------------------------------------------------------------------------
# conv.input-gradient
# ---------------------------------------------------------------------------------------------

def _ig_params(rng: np.random.Generator) -> dict:
    def draw() -> dict:
        x = rng.integers(-3, 4, size=7)
        w = rng.integers(-2, 4, size=3)
        g = rng.integers(-2, 3, size=5)
        return {"x": x.tolist(), "w": w.tolist(), "g": g.tolist(), "i": int(rng.integers(1, 6)),
                "x_text": _fmt_row(x), "w_text": _fmt_row(w), "g_text": _fmt_row(g)}
    return redraw(draw, lambda p: p["w"][0] != p["w"][2] and _distinct([_ig_solve(p), _ig_unflipped(p)]))


def _ig_arrays(p: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.asarray(p[k], float)[None, None] for k in ("g", "x", "w"))


def _ig_solve(p: dict) -> float:
    g, x, w = _ig_arrays(p)
    grad_x, _, _ = correlate_backward(g, x, w)
    return float(grad_x[0, 0, p["i"]])


def _ig_unflipped(p: dict) -> float:
    g, _, w = _ig_arrays(p)  # full correlation of g with w: the kernel not flipped
    return float(correlate(g, w, padding=2)[0, 0, p["i"]])


register(Exercise(
    id="conv.input-gradient",
    title="The gradient with respect to the input",
    prompt=("A 1-D layer computes y = correlate(x, w), i.e. y[j] = Σ_k w[k] x[j + k], with "
            "x = {x_text} and w = {w_text} (no padding, stride 1, so y has 5 entries). The upstream "
            "gradient is g = dL/dy = {g_text}, so L = Σ_j g[j] y[j]. What is dL/dx[{i}] (counting from 0)?"),
    make_params=_ig_params,
    solve=_ig_solve,
    integer=True,
    rtol=0.0,
    atol=1e-6,
    hint=("x[i] meets w[k] in output y[i - k]; so dL/dx[i] = Σ_k g[i - k] w[k] over the k with "
          "0 <= i - k < 5: a full convolution of g with w."),
    misconceptions=(
        Misconception("forgot-flip", _ig_unflipped,
                      "You slid the kernel over g without flipping it. x[i] reaches output y[i - k] "
                      "through w[k], so the gradient pairs g[i - k] with w[k]: the kernel is flipped "
                      "(a full convolution, not a correlation)."),
    ),
))


# ---------------------------------------------------------------------------------------------
# conv.patch-padding (choose and justify)
# ---------------------------------------------------------------------------------------------

PADDING_CHOICES = (
    "zero padding in HU: zeros are neutral, they add nothing to the sum",
    "zero padding after normalising to [0, 1]: the border then reads as the dark background",
    "replicate padding: repeating the edge pixel continues the anatomy exactly",
    "cut each patch with a margin of real context and keep only the valid outputs",
)


def _pp_params(rng: np.random.Generator) -> dict:
    return {"patch": int(rng.choice([64, 96, 128])), "k": int(rng.choice([3, 5])),
            "layers": int(rng.integers(2, 7))}


register(Exercise(
    id="conv.patch-padding",
    title="Which border for training patches? (choose and justify)",
    prompt=("You train a 2-D network of {layers} convolution layers with {k}×{k} kernels on "
            "{patch}×{patch} patches cut at random places of CT slices in HU, and apply it to whole "
            "slices. Near a patch edge, the network's training input should look like what it meets at "
            "the same anatomy inside a whole slice at inference. Which handling of the patch border does "
            "that? Choose one, and justify it to yourself with the chapter's padding study."),
    make_params=_pp_params,
    solve=lambda p: PADDING_CHOICES[3],
    kind="choice",
    choices=PADDING_CHOICES,
    hint=("Inside a patient, a patch edge cuts through tissue. What does each padding put beyond the "
          "edge, and what is really there?"),
    misconceptions=(
        Misconception("zero-is-neutral", lambda p: PADDING_CHOICES[0],
                      "Zero is a material: 0 HU is water. Next to lung (about −850 HU) or fat (about −100 HU) "
                      "a water frame is a false edge that the kernels see in training and never at inference."),
        Misconception("zero-is-background", lambda p: PADDING_CHOICES[1],
                      "After normalising, zero is air (−1000 HU). Inside the patient every patch edge cuts "
                      "through tissue, so an air frame is the worst guess: the largest border error in the "
                      "chapter's study."),
        Misconception("replicate-is-exact", lambda p: PADDING_CHOICES[2],
                      "Replicate had the smallest error of the paddings, but it is still a guess: its border "
                      "error was not zero, and it grows to (k-1)/2 pixels per layer. Only real context is exact."),
    ),
))


# ---------------------------------------------------------------------------------------------
# conv.padding-error (run it and measure)
# ---------------------------------------------------------------------------------------------

_PAD_MODES = {"zeros in HU (water)": dict(mode="constant", constant_values=0.0),
              "zeros after normalising (air, -1000 HU)": dict(mode="constant", constant_values=-1000.0),
              "reflect": dict(mode="reflect"), "replicate": dict(mode="edge")}


@functools.lru_cache(maxsize=1)
def _ct_hu() -> np.ndarray:
    from companion.data import load_ct_slice

    return load_ct_slice().pixels.astype(np.float64)


def _pe_kernel() -> np.ndarray:
    from companion.pooling import binomial_filter

    b = binomial_filter(5)
    return np.outer(b, b)


def _pe_errors(p: dict) -> np.ndarray:
    """Error of the padded patch's output against the same patch filtered in its context."""
    hu, r, size, top, left = _ct_hu(), 2, p["size"], p["top"], p["left"]
    context = hu[top - r:top + size + r, left - r:left + size + r]
    k = _pe_kernel()[None, None]
    truth = correlate(context[None, None], k)[0, 0]
    padded = np.pad(context[r:-r, r:-r], r, **_PAD_MODES[p["mode"]])
    return correlate(padded[None, None], k)[0, 0] - truth


def _pe_band(size: int) -> np.ndarray:
    band = np.ones((size, size), bool)
    band[2:-2, 2:-2] = False
    return band


def _pe_solve(p: dict) -> float:
    err = _pe_errors(p)
    return float(np.sqrt(np.mean(err[_pe_band(p["size"])] ** 2)))


def _pe_all_pixels(p: dict) -> float:
    return float(np.sqrt(np.mean(_pe_errors(p) ** 2)))


def _pe_max(p: dict) -> float:
    return float(np.abs(_pe_errors(p)).max())


def _pe_params(rng: np.random.Generator) -> dict:
    for _ in range(1000):
        size = int(rng.choice([16, 24, 32]))
        p = {"size": size, "top": int(rng.integers(2, 128 - size - 1)), "left": int(rng.integers(2, 128 - size - 1)),
             "mode": str(rng.choice(list(_PAD_MODES)))}
        values = [_pe_solve(p), _pe_all_pixels(p), _pe_max(p)]
        if values[0] > 1.0 and _distinct([round(v, 2) for v in values]) and \
                all(abs(v - values[0]) > 0.05 * values[0] for v in values[1:]):
            return p
    return {"size": 32, "top": 40, "left": 40, "mode": "reflect"}  # never reached in practice


register(Exercise(
    id="conv.padding-error",
    kind="experiment",  # run the chapter's experiment with your settings
    title="Run the padding study on your own patch",
    prompt=("Repeat the chapter's padding study with your own numbers. From the CT slice "
            "(companion.data.load_ct_slice().pixels, in HU) cut the {size}×{size} patch whose top-left "
            "pixel is at row {top}, column {left}. Pad it by 2 pixels with {mode} padding and correlate "
            "it (companion.convolution.correlate, no further padding) with the 5×5 binomial kernel "
            "np.outer(b, b), b = companion.pooling.binomial_filter(5). The truth is the same patch "
            "filtered in its context: cut it 2 pixels wider on every side and correlate without padding. "
            "What is the root-mean-square error (HU) over the pixels within 2 pixels of the patch edge?"),
    make_params=_pe_params,
    solve=_pe_solve,
    rtol=1e-3,
    atol=1e-6,
    unit="HU",
    hint=("Both outputs have the size of the patch; subtract them, keep the pixels of the 2-pixel frame "
          "(a boolean mask, True outside [2:-2, 2:-2]), then square, average and take the root."),
    misconceptions=(
        Misconception("all-pixels", _pe_all_pixels,
                      "You averaged over the whole patch: inside the frame the error is exactly zero, so "
                      "that dilutes it. Keep only the pixels within 2 pixels of the edge."),
        Misconception("max-error", _pe_max,
                      "That is the largest error, not the root-mean-square error over the frame."),
    ),
))
