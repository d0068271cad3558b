"""Exercises of the Part-3 chapter ``chap-practice`` (ids ``practice.*``): longer, integrative problems.

Three problems, each in a medical setting and each solved with companion code:

* sizing a 3-D U-Net for CT: its parameter count (:func:`companion.layers.count_conv_parameters`),
  the largest batch whose first-level activations fit a memory budget
  (:func:`companion.geometry.tensor_nbytes`), the smallest valid patch that holds the bottleneck's
  receptive field (:func:`companion.layers.receptive_field`);
* gradients by hand: one entry of the weight gradient of a strided 1-D correlation
  (:func:`companion.convolution.correlate_backward`) and one entry of its input gradient, the
  transposed convolution (:func:`companion.convolution.conv_transpose`);
* model properties: shift equivariance of a small network on a phantom, measured with
  :func:`companion.convolution.correlate` and :func:`companion.pooling.max_pool`; the batch size
  that makes batch norm's mean precise enough for correlated 3-D maps
  (:func:`companion.batch_statistics.effective_sample_size`); the ECE of a handful of voxels that
  the reader bins first (:func:`companion.calibration.expected_calibration_error`).

No torch at import time or in ``solve``; ``tests/test_exercises_practice.py`` checks the answers
against torch (``UNet`` parameter counts, autograd of ``F.conv1d``).
"""

from __future__ import annotations

import math

import numpy as np

from companion import layers
from companion.batch_statistics import effective_sample_size
from companion.calibration import expected_calibration_error, maximum_calibration_error
from companion.convolution import conv_transpose, correlate, correlate_backward
from companion.exercises._engine import Exercise, Misconception, register
from companion.geometry import tensor_nbytes
from companion.pooling import max_pool
from companion.unet import make_plan, plan_layers, plan_parameters

__all__ = ["unet3d_parameters", "first_level_bytes", "bottleneck_layers", "shift_response",
           "SHIFT_CHOICES"]


def _distinct_mistakes(exercise_id: str, draw):
    """Wrap `draw(rng) -> params`: redraw until the misconceptions that miss the answer give distinct answers.

    Otherwise a learner who makes the second mistake would be told about the first one. The
    exercise is looked up when called (after registration); at most 1000 draws.
    """
    def make_params(rng: np.random.Generator) -> dict:
        from companion.exercises._engine import EXERCISES

        ex = EXERCISES[exercise_id]
        for _ in range(1000):
            p = draw(rng)
            ref = float(ex.solve(p))
            tol = ex.atol + ex.rtol * abs(ref)
            seen: list[float] = []
            for mis in ex.misconceptions:
                v = float(mis.value(p))
                if abs(v - ref) <= tol:
                    continue
                if any(abs(v - u) <= ex.atol + ex.rtol * abs(u) for u in seen):
                    break
                seen.append(v)
            else:
                return p
        return p

    return make_params


# ============================================================================ problem 1: a 3-D U-Net
_NORM_TEXT = {"batch": "batch norm (a learnable γ and β per channel) and a ReLU",
              "instance": "instance norm (with a learnable γ and β per channel) and a ReLU",
              "group": "group norm (a learnable γ and β per channel) and a ReLU",
              "none": "a ReLU only (no normalisation)"}


def unet3d_parameters(c_in: int, n_classes: int, base: int, depth: int, norm: str | None, *,
                      kernel: tuple[int, ...] = (3, 3, 3), conv_bias: bool | None = None,
                      norm_params: bool = True, skip: bool = True) -> int:
    """Trainable parameters of ``companion.models.UNet(c_in, n_classes, dims=3, ...)``, from the plan core.

    Every block is two 3×3×3 convolutions (bias only without a norm), each followed by the norm
    (``2 C`` parameters: γ and β) and ReLU; 2×2×2 transposed convolutions with bias halve the
    channels; a 1×1×1 head with bias (:func:`companion.unet.plan_parameters`). The keyword
    arguments switch on the typical mistakes; a 2-D `kernel` ``(3, 3)`` has the weights of a
    ``(1, 3, 3)`` one.
    """
    kernel = (1,) * (3 - len(kernel)) + tuple(kernel)
    plan = make_plan([kernel] * (depth + 1), [2] * depth, base, max_channels=base * 2**depth)
    has_norm = norm not in (None, "none")
    return plan_parameters(plan, c_in, n_classes, norm=has_norm, conv_bias=conv_bias,
                           norm_affine=norm_params, skip=skip)


def _unet_params(rng: np.random.Generator) -> dict:
    return {"c_in": int(rng.choice([1, 2, 4])), "k": int(rng.choice([2, 3, 4, 8])),
            "base": int(rng.choice([8, 16, 24, 32])), "depth": int(rng.integers(3, 6)),
            "norm": str(rng.choice(["batch", "instance", "group", "none"]))}


def _unet_solve(p: dict, **kw) -> int:
    return unet3d_parameters(p["c_in"], p["k"], p["base"], p["depth"], p["norm"], **kw)


def _unet_prompt_params(rng: np.random.Generator) -> dict:
    p = _unet_params(rng)
    p["norm_text"] = _NORM_TEXT[p["norm"]]
    return p


register(Exercise(
    id="practice.unet-params",
    title="Parameters of a 3-D U-Net for CT",
    prompt=("A 3-D U-Net segments CT volumes with {c_in} input channel(s) into {k} classes. Level l has "
            "{base}·2^l channels; there are {depth} poolings (2×2×2 max pooling), so the bottleneck is level "
            "{depth}. Every encoder level, the bottleneck and every decoder level hold two 3×3×3 convolutions, "
            "each followed by {norm_text}; a convolution has a bias only when no normalisation "
            "follows it. Each decoder level starts with a 2×2×2 transposed convolution (stride 2, with bias) "
            "that halves the channels, then concatenates the encoder's map of the same level. A 1×1×1 "
            "convolution (with bias) gives the logits. How many trainable parameters does the network have?"),
    make_params=_distinct_mistakes("practice.unet-params", _unet_prompt_params),
    solve=_unet_solve,
    integer=True,
    rtol=0.0,
    atol=0.5,
    hint=("Sum level by level: C_out·C_in·27 per 3×3×3 convolution (+ C_out if it has a bias), 2C per "
          "normalisation layer, C_in·C_out·8 + C_out per transposed convolution, and the head."),
    misconceptions=(
        Misconception("bias-before-norm", lambda p: _unet_solve(p, conv_bias=True),
                      "A convolution followed by a normalisation has no bias (it would be cancelled by the "
                      "mean subtraction), so it is not counted."),
        Misconception("no-norm-params", lambda p: _unet_solve(p, norm_params=False),
                      "Each normalisation layer learns a scale γ and a shift β per channel: 2C parameters."),
        Misconception("2d-kernels", lambda p: _unet_solve(p, kernel=(1, 3, 3)),
                      "This is a 3-D network: a 3×3×3 kernel has 27 weights per pair of channels, not 9."),
        Misconception("no-skip-channels", lambda p: _unet_solve(p, skip=False),
                      "After the concatenation the first convolution of a decoder level takes twice the "
                      "level's channels: the skip plus the up-sampled map."),
    ),
))


# ---- practice.unet-batch -----------------------------------------------------------------------
_PATCHES = ((64, 128, 128), (80, 160, 160), (96, 160, 160), (128, 128, 128), (64, 192, 192), (112, 128, 128))
_MAPS = 4  # stored maps per sample at level 0: the two conv outputs and the two (in-place) ReLU outputs


def first_level_bytes(patch: tuple[int, int, int], base: int, *, maps: int = _MAPS, itemsize: int = 4) -> int:
    """Bytes kept for the backward pass by the first U-Net level, per sample: `maps` tensors (1, C, D, H, W)."""
    return maps * tensor_nbytes((1, base) + tuple(patch), itemsize)


def _batch_solve(p: dict, *, unit: float = 2.0**30, maps: int = _MAPS, itemsize: int = 4,
                 rounding=math.floor) -> int:
    return int(rounding(p["budget"] * unit / first_level_bytes(tuple(p["patch"]), p["base"], maps=maps,
                                                                itemsize=itemsize)))


def _batch_params(rng: np.random.Generator) -> dict:
    for _ in range(1000):  # a bounded redraw: a bank that never accepts fails its tests
        patch = _PATCHES[int(rng.integers(len(_PATCHES)))]
        p = {"patch": list(patch), "d": patch[0], "h": patch[1], "w": patch[2],
             "base": int(rng.choice([16, 24, 32])), "budget": int(rng.choice([4, 6, 8, 10, 12, 16, 20, 24]))}
        if 2 <= _batch_solve(p) <= 64:
            return p
    raise RuntimeError("redraw: no acceptable parameters in 1000 draws")


register(Exercise(
    id="practice.unet-batch",
    title="The largest batch that fits",
    prompt=("The first level of a 3-D U-Net works on CT patches of {d}×{h}×{w} voxels with {base} channels, in "
            "float32. For the backward pass it keeps, per sample, four feature maps of that full size: the "
            "outputs of its two convolutions and of its two ReLUs (the normalised values are overwritten in "
            "place). You set aside {budget} GiB (1 GiB = 2^30 bytes) of GPU memory for these maps. What is "
            "the largest batch size N that fits?"),
    make_params=_distinct_mistakes("practice.unet-batch", _batch_params),
    solve=_batch_solve,
    integer=True,
    rtol=0.0,
    atol=0.5,
    hint="One map is C·D·H·W·4 bytes per sample; multiply by the number of maps, then see how many samples fit.",
    misconceptions=(
        Misconception("gigabyte", lambda p: _batch_solve(p, unit=1e9),
                      "A GiB is 2^30 = 1,073,741,824 bytes, not 10^9."),
        Misconception("float64", lambda p: _batch_solve(p, itemsize=8),
                      "float32 takes 4 bytes per value, not 8."),
        Misconception("one-map", lambda p: _batch_solve(p, maps=1),
                      "Four maps per sample are kept, not one."),
        Misconception("two-maps", lambda p: _batch_solve(p, maps=2),
                      "Both the convolution outputs and the ReLU outputs are kept: four maps per sample."),
        Misconception("round-up", lambda p: _batch_solve(p, rounding=math.ceil),
                      "The batch must fit in the budget: round down, not up."),
    ),
))


# ---- practice.unet-patch -----------------------------------------------------------------------
def bottleneck_layers(depth: int, convs: int = 2, *, bottleneck: bool = True) -> list[tuple[int, int]]:
    """The (kernel, stride) list of a U-Net encoder (3×3 convolutions, 2×2 pooling) up to its
    bottleneck, along one axis (:func:`companion.unet.plan_layers`)."""
    plan = make_plan([3] * (depth + 1), [2] * depth, 1, max_channels=2**depth, convs=convs, dims=1)
    return plan_layers(plan, bottleneck=bottleneck)


def _patch_solve(p: dict, *, multiple: int | None = None, rounding=math.ceil, bottleneck: bool = True) -> int:
    rf = layers.receptive_field(bottleneck_layers(p["depth"], p["convs"], bottleneck=bottleneck))
    m = 2 ** p["depth"] if multiple is None else multiple
    return int(rounding(rf / m) * m)


register(Exercise(
    id="practice.unet-patch",
    title="The smallest patch that is valid and holds the context",
    prompt=("A 3-D U-Net with 'same' padding has depth {depth}: {depth} times 2×2×2 max pooling (stride 2), "
            "with {convs} convolutions of 3×3×3 (stride 1) at every level and at the bottleneck. Its input side "
            "must be a multiple of 2^depth, and you want one bottleneck unit to see a whole patch side "
            "(its receptive field fits in the patch). What is the smallest cubic patch side, in voxels, "
            "that meets both conditions?"),
    make_params=_distinct_mistakes("practice.unet-patch", lambda rng: {"depth": int(rng.integers(2, 6)),
                                                                       "convs": int(rng.choice([2, 3]))}),
    solve=_patch_solve,
    integer=True,
    rtol=0.0,
    atol=0.5,
    unit="voxels",
    hint=("First the receptive field r = 1 + Σ (k − 1)·j with the jump j doubling after each pooling, then the "
          "first multiple of 2^depth that is at least r."),
    misconceptions=(
        Misconception("rf-only", lambda p: _patch_solve(p, multiple=1),
                      "That is the receptive field itself; the side must also be a multiple of 2^depth."),
        Misconception("round-down", lambda p: _patch_solve(p, rounding=math.floor),
                      "That multiple is smaller than the receptive field: round up to the next multiple."),
        Misconception("no-bottleneck", lambda p: _patch_solve(p, bottleneck=False),
                      "The bottleneck's own convolutions widen the field too, by the largest steps of all "
                      "(j = 2^depth)."),
        Misconception("double-multiple", lambda p: _patch_solve(p, multiple=2 ** (p["depth"] + 1)),
                      "The side must be a multiple of 2^depth (one factor 2 per pooling), not 2^(depth+1)."),
    ),
))


# ============================================================================ problem 2: gradients by hand
def _wgrad(p: dict) -> np.ndarray:
    x, w, g = (np.array(p[k], dtype=np.float64)[None, None] for k in ("x", "w", "g"))
    return correlate_backward(g, x, w, stride=p["s"])[1][0, 0]


def _wgrad_params(rng: np.random.Generator) -> dict:
    for _ in range(1000):  # a bounded redraw: a bank that never accepts fails its tests
        n, s = int(rng.integers(7, 10)), int(rng.choice([1, 2]))
        x = rng.integers(-3, 4, size=n)
        w = rng.integers(-2, 3, size=3)
        g = rng.integers(-2, 3, size=(n - 3) // s + 1)
        p = {"x": x.tolist(), "w": w.tolist(), "g": g.tolist(), "s": s, "k": int(rng.integers(0, 3))}
        grad = _wgrad(p)
        if grad[p["k"]] != 0 and grad[p["k"]] != grad[2 - p["k"]]:
            return p
    raise RuntimeError("redraw: no acceptable parameters in 1000 draws")


def _wgrad_no_stride(p: dict) -> float:
    x, g, k = p["x"], p["g"], p["k"]
    return float(sum(gi * x[i + k] for i, gi in enumerate(g)))


register(Exercise(
    id="practice.corr-weight-grad",
    title="One entry of a weight gradient",
    prompt=("A 1-D layer reads a CT intensity profile (in units of 100 HU) x = {x} with the kernel w = {w}: "
            "y_i = Σ_k w_k x_(s·i+k), stride s = {s}, no padding, k = 0, 1, 2 (a cross-correlation, as in "
            "every deep-learning library). Back-propagation has delivered g = ∂L/∂y = {g}. What is ∂L/∂w_{k}?"),
    make_params=_distinct_mistakes("practice.corr-weight-grad", _wgrad_params),
    solve=lambda p: float(_wgrad(p)[p["k"]]),
    integer=True,
    rtol=0.0,
    atol=1e-9,
    hint="w_k multiplies x_(s·i+k) in every output y_i: ∂L/∂w_k = Σ_i g_i x_(s·i+k), a correlation of x with g.",
    misconceptions=(
        Misconception("flipped", lambda p: float(_wgrad(p)[2 - p["k"]]),
                      "That is the entry of the flipped kernel (index 2 − k): in a cross-correlation w_k meets "
                      "x_(s·i+k), counted from the window's left end."),
        Misconception("no-stride", _wgrad_no_stride,
                      "With stride s the window of output i starts at s·i, not at i."),
        Misconception("bias-gradient", lambda p: float(sum(p["g"])),
                      "Σ_i g_i is the gradient of a bias; the weight gradient multiplies each g_i by the "
                      "input value that w_k met."),
    ),
))


# ---- practice.transposed-grad -------------------------------------------------------------------
def _xgrad(p: dict) -> np.ndarray:
    """∂L/∂x of the strided correlation: the transposed convolution of g with w (length n)."""
    w, g = (np.array(p[k], dtype=np.float64)[None, None] for k in ("w", "g"))
    return conv_transpose(g, w, stride=p["s"], output_padding=p["n"] - ((len(p["g"]) - 1) * p["s"] + 3))[0, 0]


def _xgrad_terms(p: dict, *, stride: int | None = None, flip: bool = False, nearest: bool = False) -> float:
    s = p["s"] if stride is None else stride
    w, g, j = p["w"], p["g"], p["j"]
    if nearest:  # only the output whose window starts closest at or before j
        i = min(j // s, len(g) - 1)
        k = j - s * i
        return float(g[i] * w[k]) if 0 <= k < 3 else 0.0
    total = 0.0
    for i, gi in enumerate(g):
        k = j - s * i
        if 0 <= k < 3:
            total += gi * (w[2 - k] if flip else w[k])
    return float(total)


def _xgrad_params(rng: np.random.Generator) -> dict:
    for _ in range(1000):  # a bounded redraw: a bank that never accepts fails its tests
        s, n = 2, int(rng.choice([7, 9, 11]))   # (n - 3) divisible by 2: every input reached by a window
        w = rng.integers(-2, 3, size=3)
        g = rng.integers(-2, 3, size=(n - 3) // s + 1)
        j = int(rng.choice(np.arange(2, n - 2, 2)))   # an even inner input: two windows overlap on it
        p = {"n": n, "w": w.tolist(), "g": g.tolist(), "s": s, "j": j}
        if _xgrad(p)[j] != 0 and _xgrad_terms(p, nearest=True) != _xgrad(p)[j]:
            return p
    raise RuntimeError("redraw: no acceptable parameters in 1000 draws")


register(Exercise(
    id="practice.transposed-grad",
    title="One entry of an input gradient: the transposed convolution",
    prompt=("A 1-D layer reads a CT intensity profile x of length {n} with the kernel w = {w} and stride s = {s}, "
            "no padding: y_i = Σ_k w_k x_(s·i+k), k = 0, 1, 2. Back-propagation has delivered g = ∂L/∂y = {g}. "
            "What is ∂L/∂x_{j} (indices from 0)?"),
    make_params=_distinct_mistakes("practice.transposed-grad", _xgrad_params),
    solve=lambda p: float(_xgrad(p)[p["j"]]),
    integer=True,
    rtol=0.0,
    atol=1e-9,
    hint=("x_j is read by every output whose window covers it, y_i with 0 ≤ j − s·i ≤ 2, through the weight "
          "w_(j − s·i): ∂L/∂x_j = Σ_i g_i w_(j − s·i), the transposed convolution of g with w."),
    misconceptions=(
        Misconception("flipped", lambda p: _xgrad_terms(p, flip=True),
                      "That uses the flipped kernel: in a cross-correlation x_j meets w_(j − s·i), counted from "
                      "the left end of window i."),
        Misconception("no-stride", lambda p: _xgrad_terms(p, stride=1),
                      "With stride s the window of output i starts at s·i, not at i."),
        Misconception("one-window", lambda p: _xgrad_terms(p, nearest=True),
                      "Only one window counted: with a kernel wider than the stride, neighbouring windows "
                      "overlap, and every window that covers x_j adds its term (the overlaps behind the "
                      "checkerboard artefact)."),
    ),
))


# ============================================================================ problem 3: model properties
SHIFT_CHOICES = (
    "a copy of the original output, shifted by the same t pixels",
    "a copy of the original output, shifted by t/2 pixels",
    "not a shifted copy of the original output",
)
_OPS = {"none": "nothing (stride 1 throughout)", "maxpool": "2×2 max pooling with stride 2",
        "stride2": "a 3×3 convolution with stride 2 (circular padding)"}


def _wrap(x: np.ndarray) -> np.ndarray:
    return np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)], mode="wrap")


def shift_response(op: str, t: int, *, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Outputs of conv → ReLU → `op` → conv on a phantom slice and on the slice rolled by `t` pixels (width).

    The convolutions are 3×3 with circular padding (:func:`companion.convolution.correlate` on a
    wrap-padded input); `op` is ``"none"``, ``"maxpool"`` (:func:`companion.pooling.max_pool`, 2, stride 2)
    or ``"stride2"`` (a 3×3 convolution with stride 2). Returns ``(out, out_shifted)``.
    """
    from companion.data import phantom_2d

    image, _ = phantom_2d(size, seed=seed)
    rng = np.random.default_rng(seed)
    w1, w2, w3 = rng.standard_normal((4, 1, 3, 3)), rng.standard_normal((4, 4, 3, 3)), rng.standard_normal((2, 4, 3, 3))

    def net(x: np.ndarray) -> np.ndarray:
        h = np.maximum(correlate(_wrap(x), w1), 0)
        if op == "maxpool":
            h = max_pool(h, 2)
        elif op == "stride2":
            h = correlate(_wrap(h), w2, stride=2)
        return correlate(_wrap(h), w3)

    x = image.astype(np.float64)[None, None]
    return net(x), net(np.roll(x, t, axis=-1))


def _shift_solve(p: dict) -> str:
    out, out_shifted = shift_response(p["op"], p["t"])
    if np.allclose(out_shifted, np.roll(out, p["t"], axis=-1), atol=1e-10):
        return SHIFT_CHOICES[0]
    if p["t"] % 2 == 0 and np.allclose(out_shifted, np.roll(out, p["t"] // 2, axis=-1), atol=1e-10):
        return SHIFT_CHOICES[1]
    return SHIFT_CHOICES[2]


def _shift_params(rng: np.random.Generator) -> dict:
    op = str(rng.choice(list(_OPS)))
    return {"op": op, "op_text": _OPS[op], "t": int(rng.integers(1, 7))}


register(Exercise(
    id="practice.equivariance",
    title="Shift a slice: what happens to the output?",
    prompt=("A 32×32 CT slice goes through a small network: a 3×3 convolution (stride 1, circular padding), "
            "a ReLU, then {op_text}, then another 3×3 convolution (stride 1, circular padding). The slice is "
            "shifted circularly by t = {t} pixels along its width. What is the network's new output?"),
    make_params=_shift_params,
    solve=_shift_solve,
    kind="choice",
    choices=SHIFT_CHOICES,
    hint=("Stride-1 layers with circular padding commute with shifts. A stride of 2 keeps every other position: "
          "a shift of the input survives only if the sampling grid lands on the same positions."),
    misconceptions=(
        Misconception("ignores-stride", lambda p: SHIFT_CHOICES[0],
                      "After a stride of 2 one output pixel spans two input pixels: the output cannot move by "
                      "as many pixels as the input."),
        Misconception("halves-any-shift", lambda p: SHIFT_CHOICES[1],
                      "Halving the shift works only when the sub-sampling grid lands on the same positions "
                      "again; check whether the shift is a whole number of output pixels, and whether the "
                      "network down-samples at all."),
        Misconception("breaks-always", lambda p: SHIFT_CHOICES[2],
                      "A stride-1 correlation with circular padding and a pointwise ReLU commute with circular "
                      "shifts, and so does their composition; a stride of 2 keeps its sampling grid when the "
                      "shift is a whole number of output pixels."),
    ),
))


# ---- practice.bn-batch -------------------------------------------------------------------------
def _bn_solve(p: dict, *, m1: float | None = None, power: int = 2) -> int:
    if m1 is None:
        m1 = effective_sample_size((p["d"],) * 3, p["s"], 1)
    return int(math.ceil(1.0 / (p["tau"] ** power * m1) - 1e-9))


def _bn_approx_m1(p: dict, axes: int = 3) -> float:
    return p["d"] ** 3 / (2 * math.sqrt(math.pi) * p["s"]) ** axes


def _bn_params(rng: np.random.Generator) -> dict:
    for _ in range(1000):  # a bounded redraw: a bank that never accepts fails its tests
        p = {"d": int(rng.choice([16, 20, 24, 32])), "s": float(rng.choice([1.0, 1.5, 2.0, 2.5, 3.0])),
             "tau": float(rng.choice([0.005, 0.01, 0.015, 0.02, 0.03, 0.05]))}
        n = _bn_solve(p)
        if 2 <= n <= 256 and n == _bn_solve(p, m1=_bn_approx_m1(p)):
            return p
    raise RuntimeError("redraw: no acceptable parameters in 1000 draws")


register(Exercise(
    id="practice.bn-batch",
    title="How large a batch for a precise batch-norm mean?",
    prompt=("A batch-norm layer of a 3-D CT network sees, per channel, N independent feature maps of "
            "{d}×{d}×{d} voxels. Each map behaves like unit-variance white noise smoothed by a Gaussian filter "
            "of s = {s} voxels along every axis (periodic boundaries); summed over all offsets, the voxel "
            "correlation is 2√π·s per axis. What is the smallest N for which the standard deviation of the "
            "channel's batch mean μ_B is at most τ = {tau} (in units of the voxel standard deviation)?"),
    make_params=_distinct_mistakes("practice.bn-batch", _bn_params),
    solve=_bn_solve,
    integer=True,
    rtol=0.0,
    atol=0.5,
    hint=("Var(μ_B) = 1 / M_eff with M_eff = N·D·H·W / (Σ correlation over all 3-D offsets); ask for "
          "Var(μ_B) ≤ τ² and round N up."),
    misconceptions=(
        Misconception("independent-voxels", lambda p: _bn_solve(p, m1=float(p["d"] ** 3)),
                      "That treats every voxel as independent; neighbouring voxels of a smooth map carry nearly "
                      "the same value."),
        Misconception("std-not-var", lambda p: _bn_solve(p, power=1),
                      "τ bounds the standard deviation: the variance 1/M_eff must be at most τ², not τ."),
        Misconception("one-axis", lambda p: _bn_solve(p, m1=_bn_approx_m1(p, axes=1)),
                      "The correlation extends along all three axes: divide by the per-axis sum once per axis."),
    ),
))


# ---- practice.ece-voxels -----------------------------------------------------------------------
_EDGES = (0.2, 0.4, 0.6, 0.8)


def _ece_arrays(p: dict) -> tuple[np.ndarray, np.ndarray]:
    return np.array(p["conf"], dtype=np.float64), np.array(p["correct"], dtype=np.int64)


def _ece_left_closed(p: dict) -> float:
    conf, correct = _ece_arrays(p)
    on_edge = np.isclose(conf[:, None], np.array(_EDGES)[None]).any(axis=1)
    return expected_calibration_error(np.where(on_edge, conf + 1e-9, conf), correct, n_bins=5)


def _ece_unweighted(p: dict) -> float:
    from companion.calibration import reliability_bins

    counts, conf, acc = reliability_bins(*_ece_arrays(p), n_bins=5)
    return float(np.mean(np.abs(acc - conf)[counts > 0]))


def _ece_params(rng: np.random.Generator) -> dict:
    grid = np.round(np.arange(0.55, 1.0001, 0.05), 2)
    for _ in range(1000):  # a bounded redraw: a bank that never accepts fails its tests
        conf = np.concatenate([[0.6, 0.8], rng.choice(grid, size=10)])
        conf = rng.permutation(conf)
        correct = (rng.random(12) < conf - 0.15).astype(np.int64)  # an over-confident model
        p = {"conf": conf.round(2).tolist(), "correct": correct.tolist()}
        ref = expected_calibration_error(*_ece_arrays(p), n_bins=5)
        if abs(_ece_left_closed(p) - ref) > 2e-3 * ref and ref > 0.02:
            return p
    raise RuntimeError("redraw: no acceptable parameters in 1000 draws")


register(Exercise(
    id="practice.ece-voxels",
    title="Bin it yourself: the ECE of twelve voxels",
    prompt=("A lesion detector gives twelve voxels the top-label confidences {conf}; whether each prediction "
            "was right is {correct} (1 = right). Sort them into 5 equal-width bins on [0, 1], each bin "
            "(lo, hi] as in Guo et al. 2017, and compute the expected calibration error "
            "ECE = Σ_b (n_b / n)·|accuracy_b − mean confidence_b|."),
    make_params=_distinct_mistakes("practice.ece-voxels", _ece_params),
    solve=lambda p: expected_calibration_error(*_ece_arrays(p), n_bins=5),
    rtol=1e-3,
    atol=1e-6,
    hint="The bins are (0.4, 0.6], (0.6, 0.8], (0.8, 1.0] here: a confidence of exactly 0.6 belongs to the lower one.",
    misconceptions=(
        Misconception("left-closed", _ece_left_closed,
                      "A confidence exactly on an edge belongs to the bin below it here: bins are (lo, hi], "
                      "not [lo, hi)."),
        Misconception("unweighted", _ece_unweighted,
                      "That averages the bins equally; ECE weights each bin by its share of the predictions."),
        Misconception("mce", lambda p: maximum_calibration_error(*_ece_arrays(p), n_bins=5),
                      "That is the largest gap (the maximum calibration error), not the weighted mean."),
        Misconception("no-bins", lambda p: float(np.mean(np.abs(np.array(p["correct"]) - np.array(p["conf"])))),
                      "That compares each voxel's confidence with its own 0/1 outcome; ECE compares averages "
                      "within bins."),
        Misconception("one-bin", lambda p: float(abs(np.mean(p["correct"]) - np.mean(p["conf"]))),
                      "That is the gap of a single bin holding everything: over- and under-confidence cancel."),
    ),
))
