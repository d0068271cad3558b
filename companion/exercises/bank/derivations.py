"""Write-the-function exercises, one per Principles chapter (kind "function").

The learner writes a small NumPy function and passes it to ``check(id, my_function,
learner=...)``. The checker runs it on the learner's own random inputs (several shapes, float64),
compares it with the companion implementation (the oracle, tested against torch), and for
gradients also with centred finite differences. Calling the companion implementation the exercise
asks for is detected and refused. Each exercise has a written-out ``solution`` (what ``answer``
returns): the book shows it, folded, and the tests check that it passes.

The ids carry the topic of their chapter (``conv.write-correlate``, ``bn.write-backward`` …), so
the progress table counts them with their chapter.
"""

from __future__ import annotations

import numpy as np

from companion.exercises._engine import Exercise, Misconception, register
from companion.gradcheck import numerical_grad


def _no_params(rng: np.random.Generator) -> dict:
    return {}


# ----------------------------------------------------------------------------- conv.write-correlate
def _correlate_oracle(p: dict):
    from companion.convolution import correlate
    return lambda x, w: correlate(x[None, None], w[None, None])[0, 0]


def _correlate_solution(x, w):
    kh, kw = w.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(kh):           # one shifted copy of x per kernel tap: kh * kw array operations
        for j in range(kw):
            out += w[i, j] * x[i:i + out.shape[0], j:j + out.shape[1]]
    return out


def _correlate_inputs(rng, p):
    return [(rng.standard_normal((h, w)), rng.standard_normal((kh, kw)))
            for h, w, kh, kw in ((6, 7, 3, 3), (9, 5, 2, 4), (12, 12, 5, 3), (4, 4, 1, 1))]


register(Exercise(
    id="conv.write-correlate",
    title="Write a 2-D cross-correlation",
    prompt=("Write `correlate2d(x, w)`: the 'valid' cross-correlation of one image `x` (H, W) with one kernel "
            "`w` (kH, kW), the operation a deep-learning 'convolution' layer computes, "
            "out[i, j] = Σ_u Σ_v w[u, v] · x[i + u, j + v], of shape (H − kH + 1, W − kW + 1). Use NumPy only."),
    make_params=_no_params,
    solve=_correlate_oracle,
    kind="function",
    make_inputs=_correlate_inputs,
    arg_names=("x", "w"),
    forbidden=("companion.convolution.correlate", "companion.convolution.correlate_naive",
               "companion.convolution.convolve", "scipy.signal.correlate2d", "scipy.signal.correlate",
               "scipy.ndimage.correlate"),
    solution=_correlate_solution,
    rtol=1e-9, atol=1e-9,
    hint="Loop over the kernel taps (few) rather than the output pixels (many): add w[u, v] times a shifted slice of x.",
    misconceptions=(
        Misconception("flipped", lambda a: _correlate_solution(a[0], a[1][::-1, ::-1]),
                      "Your result is the true convolution: the kernel is flipped. A CNN layer does not flip it."),
    ),
))


# ----------------------------------------------------------------------------- tensors.write-index-to-world
def _i2w_oracle(p: dict):
    from companion.geometry import index_to_world
    return lambda index, spacing, origin, direction: index_to_world(index, spacing, origin, direction)


def _i2w_solution(index, spacing, origin, direction):
    index = np.atleast_2d(index)
    # array order (d, h, w) and spacing (s_d, s_h, s_w) -> the (x, y, z)-ordered step (w s_w, h s_h, d s_d)
    steps = index[:, ::-1] * np.asarray(spacing)[::-1]
    return np.asarray(origin) + steps @ np.asarray(direction).T


def _random_direction(rng):
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    return q * np.sign(np.diag(r))


def _i2w_inputs(rng, p):
    out = []
    for m in (1, 5, 12):
        out.append((rng.integers(0, 200, size=(m, 3)).astype(float), tuple(rng.uniform(0.4, 5.0, 3)),
                    tuple(rng.uniform(-200, 200, 3)), _random_direction(rng)))
    return out


register(Exercise(
    id="tensors.write-index-to-world",
    title="Write index → world",
    prompt=("Write `index_to_world(index, spacing, origin, direction)`: `index` is (M, 3) voxel indices in the "
            "array's order (d, h, w), `spacing` (s_d, s_h, s_w) in mm in the same order, `origin` (3,) and "
            "`direction` (3, 3) as in the DICOM/ITK header (the columns are the world directions of the w, h and "
            "d axes). Return the (M, 3) world points (x, y, z) in mm."),
    make_params=_no_params,
    solve=_i2w_oracle,
    kind="function",
    make_inputs=_i2w_inputs,
    arg_names=("index", "spacing", "origin", "direction"),
    forbidden=("companion.geometry.index_to_world", "companion.geometry.affine"),
    solution=_i2w_solution,
    rtol=1e-9, atol=1e-7,
    hint="Reverse the index and the spacing to (w, h, d) order before multiplying by the direction matrix.",
    misconceptions=(
        Misconception("no-reverse", lambda a: np.asarray(a[2]) + (np.atleast_2d(a[0]) * np.asarray(a[1])) @ np.asarray(a[3]).T,
                      "You used the index in array order (d, h, w); the direction's columns are ordered (w, h, d)."),
        Misconception("no-direction", lambda a: np.asarray(a[2]) + np.atleast_2d(a[0])[:, ::-1] * np.asarray(a[1])[::-1],
                      "You left out the direction matrix: it rotates the voxel axes into the patient's world axes."),
    ),
))


# ----------------------------------------------------------------------------- layer.write-receptive-field
def _rf_oracle(p: dict):
    from companion.layers import receptive_field
    return lambda layers: receptive_field(layers)


def _rf_solution(layers):
    rf, jump = 1, 1
    for kernel, stride in layers:
        rf += (kernel - 1) * jump     # each new tap reaches `jump` input pixels further
        jump *= stride
    return rf


def _rf_inputs(rng, p):
    out = []
    for n in (3, 6, 10):
        out.append(([(int(rng.choice([1, 2, 3, 5, 7])), int(rng.choice([1, 1, 2]))) for _ in range(n)],))
    out.append(([(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)],))
    return out


register(Exercise(
    id="layer.write-receptive-field",
    title="Write the receptive-field recursion",
    prompt=("Write `receptive_field(layers)`: `layers` is a list of (kernel, stride) pairs, first layer first. "
            "Return the receptive field (in input pixels, along one axis) of one output pixel of the last layer."),
    make_params=_no_params,
    solve=_rf_oracle,
    kind="function",
    make_inputs=_rf_inputs,
    arg_names=("layers",),
    forbidden=("companion.layers.receptive_field", "companion.layers.receptive_field_curve"),
    solution=_rf_solution,
    rtol=0.0, atol=0.5,
    hint="Keep two numbers: the receptive field so far and the 'jump' (product of the strides so far).",
    misconceptions=(
        Misconception("own-stride", lambda a: 1 + sum((k - 1) * s for k, s in a[0]),
                      "Each layer's kernel reaches further by the product of the strides *before* it, not its own stride."),
        Misconception("sum-kernels", lambda a: sum(k for k, s in a[0]),
                      "Kernels do not simply add: a k-tap layer adds k − 1, scaled by the strides before it."),
    ),
))


# ----------------------------------------------------------------------------- act.write-elu-grad
def _elu_oracle(p: dict):
    from companion.activations import elu_grad
    return lambda x, alpha: elu_grad(x, alpha)


def _elu_grad_solution(x, alpha):
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def _elu_inputs(rng, p):
    out = []
    for shape, alpha in (((7,), 1.0), ((3, 5), 0.5), ((2, 3, 4, 4), 2.0)):
        x = rng.standard_normal(shape) * 2
        x[np.abs(x) < 1e-3] = 0.5            # away from the kink at 0
        out.append((x, alpha))
    return out


def _elu_fd(args):
    from companion.activations import elu
    x, alpha = args
    return numerical_grad(lambda v: elu(v, alpha), x, np.ones_like(x))


register(Exercise(
    id="act.write-elu-grad",
    title="Write the derivative of ELU",
    prompt=("Write `elu_grad(x, alpha)`: the element-wise derivative of ELU(x) = x for x > 0 and "
            "α (eˣ − 1) otherwise, for an array `x` of any shape."),
    make_params=_no_params,
    solve=_elu_oracle,
    kind="function",
    make_inputs=_elu_inputs,
    arg_names=("x", "alpha"),
    forbidden=("companion.activations.elu_grad", "companion.activations.activation_grad"),
    finite_difference=_elu_fd,
    solution=_elu_grad_solution,
    rtol=1e-9, atol=1e-12,
    hint="For x ≤ 0 the derivative is α eˣ, which is ELU(x) + α.",
    misconceptions=(
        Misconception("relu-grad", lambda a: (a[0] > 0).astype(float),
                      "That is ReLU's derivative: ELU's is α eˣ for negative inputs, not 0."),
        Misconception("elu-itself", lambda a: np.where(a[0] > 0, a[0], a[1] * np.expm1(a[0])),
                      "You returned ELU itself, not its derivative."),
    ),
))


# ----------------------------------------------------------------------------- bn.write-backward
def _bn_oracle(p: dict):
    from companion.normalization import batch_norm, batch_norm_backward

    def f(grad_y, x, gamma, eps):
        _, cache = batch_norm(x, gamma, np.zeros_like(gamma), eps)
        return batch_norm_backward(grad_y, cache)
    return f


def _bn_solution(grad_y, x, gamma, eps):
    axes = (0,) + tuple(range(2, x.ndim))                       # every axis but the channels
    shape = [1, -1] + [1] * (x.ndim - 2)
    m = x.size // x.shape[1]
    mean = x.mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)   # biased variance, as in training
    x_hat = (x - mean) * inv_std
    grad_gamma = np.sum(grad_y * x_hat, axis=axes)
    grad_beta = np.sum(grad_y, axis=axes)
    g = grad_y * gamma.reshape(shape)                                # dL/dx_hat
    grad_x = inv_std / m * (m * g - g.sum(axis=axes, keepdims=True)
                            - x_hat * np.sum(g * x_hat, axis=axes, keepdims=True))
    return grad_x, grad_gamma, grad_beta


def _bn_inputs(rng, p):
    out = []
    for shape in ((8, 3), (4, 2, 5, 5), (2, 3, 3, 4, 4)):
        c = shape[1]
        x = rng.standard_normal(shape) * rng.uniform(0.5, 3, c).reshape([1, -1] + [1] * (len(shape) - 2)) + 1.0
        out.append((rng.standard_normal(shape), x, rng.uniform(0.5, 2.0, c), 1e-5))
    return out


def _bn_constant_stats(a):
    grad_y, x, gamma, eps = a
    axes = (0,) + tuple(range(2, x.ndim))
    shape = [1, -1] + [1] * (x.ndim - 2)
    gx = grad_y * gamma.reshape(shape) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    _, gg, gb = _bn_solution(*a)
    return gx, gg, gb


def _bn_fd(args):
    from companion.normalization import batch_norm
    grad_y, x, gamma, eps = args
    return numerical_grad(lambda v: batch_norm(v, gamma, np.zeros_like(gamma), eps)[0], x, grad_y)


register(Exercise(
    id="bn.write-backward",
    title="Write the backward pass of batch normalisation",
    prompt=("Write `bn_backward(grad_y, x, gamma, eps)` for batch normalisation in training mode "
            "(statistics over every axis but the channel axis 1, biased variance, β = 0): given the upstream "
            "gradient `grad_y` (same shape as `x`, (N, C, *S)), return the tuple (grad_x, grad_gamma, grad_beta)."),
    make_params=_no_params,
    solve=_bn_oracle,
    kind="function",
    make_inputs=_bn_inputs,
    arg_names=("grad_y", "x", "gamma", "eps"),
    forbidden=("companion.normalization.batch_norm_backward", "companion.layers.conv_bn_act_backward"),
    finite_difference=lambda args: (_bn_fd(args),) + tuple(_bn_solution(*args)[1:]),
    solution=_bn_solution,
    rtol=1e-7, atol=1e-9,
    hint=("The mean and the variance depend on every x of the channel: grad_x has three terms, "
          "(γ/σ)(g − mean(g) − x̂ · mean(g · x̂))."),
    misconceptions=(
        Misconception("constant-stats", _bn_constant_stats,
                      "You treated the batch mean and variance as constants: they depend on x too, which adds "
                      "the two terms that subtract mean(g) and x̂ · mean(g · x̂)."),
    ),
))


# ----------------------------------------------------------------------------- pool.write-max-backward
def _maxpool_oracle(p: dict):
    from companion.pooling import max_pool_backward
    return lambda grad_out, x: max_pool_backward(grad_out[None, None], x[None, None], 2)[0, 0]


def _maxpool_solution(grad_out, x):
    h, w = grad_out.shape
    windows = x[:2 * h, :2 * w].reshape(h, 2, w, 2).transpose(0, 2, 1, 3).reshape(h, w, 4)
    winner = windows.argmax(axis=-1)                      # which of the 4 entries was the maximum
    grad = np.zeros((h, w, 4))
    np.put_along_axis(grad, winner[..., None], grad_out[..., None], axis=-1)
    out = np.zeros_like(x)
    out[:2 * h, :2 * w] = grad.reshape(h, w, 2, 2).transpose(0, 2, 1, 3).reshape(2 * h, 2 * w)
    return out


def _maxpool_inputs(rng, p):
    out = []
    for h, w in ((4, 4), (6, 8), (7, 5)):
        x = rng.permutation(h * w).reshape(h, w).astype(float) + rng.uniform(0, 0.5, (h, w))  # no ties
        out.append((rng.standard_normal((h // 2, w // 2)), x))
    return out


register(Exercise(
    id="pool.write-max-backward",
    title="Write the backward pass of 2×2 max pooling",
    prompt=("Write `max_pool_backward(grad_out, x)` for 2×2 max pooling with stride 2 of one image `x` (H, W) "
            "(an odd last row or column is dropped by the pooling): return dL/dx, the shape of `x`, given "
            "`grad_out` = dL/d(pooled), (H // 2, W // 2)."),
    make_params=_no_params,
    solve=_maxpool_oracle,
    kind="function",
    make_inputs=_maxpool_inputs,
    arg_names=("grad_out", "x"),
    forbidden=("companion.pooling.max_pool_backward",),
    solution=_maxpool_solution,
    rtol=1e-12, atol=1e-12,
    hint="Each window's gradient goes, whole, to the one entry that was the maximum; the other three get 0.",
    misconceptions=(
        Misconception("spread", lambda a: np.pad(np.kron(a[0], np.ones((2, 2))) / 4,
                                                 ((0, a[1].shape[0] % 2), (0, a[1].shape[1] % 2))),
                      "You spread each gradient evenly over the window: that is average pooling's backward pass."),
    ),
))


# ----------------------------------------------------------------------------- res.write-bn-block-backward
def _resbn_oracle(p: dict):
    bn = _bn_oracle(p)
    return lambda grad_y, x, gamma, eps: grad_y + bn(grad_y, x, gamma, eps)[0]


def _resbn_solution(grad_y, x, gamma, eps):
    grad_branch, _, _ = _bn_solution(grad_y, x, gamma, eps)
    return grad_y + grad_branch          # the identity path passes grad_y through unchanged


def _resbn_fd(args):
    from companion.normalization import batch_norm
    grad_y, x, gamma, eps = args
    return numerical_grad(lambda v: v + batch_norm(v, gamma, np.zeros_like(gamma), eps)[0], x, grad_y)


register(Exercise(
    id="res.write-bn-block-backward",
    title="Write the backward pass of a residual block with batch norm",
    prompt=("A residual block y = x + BN(x) (batch norm in training mode, per channel, β = 0, scale `gamma`). "
            "Write `block_backward(grad_y, x, gamma, eps)`: return dL/dx, the shape of `x` (N, C, *S), given "
            "the upstream gradient `grad_y`."),
    make_params=_no_params,
    solve=_resbn_oracle,
    kind="function",
    make_inputs=_bn_inputs,
    arg_names=("grad_y", "x", "gamma", "eps"),
    forbidden=("companion.normalization.batch_norm_backward",),
    finite_difference=_resbn_fd,
    solution=_resbn_solution,
    rtol=1e-7, atol=1e-9,
    hint="Two paths reach x: the skip (its Jacobian is the identity) and the batch norm; add their gradients.",
    misconceptions=(
        Misconception("no-identity", lambda a: _bn_solution(*a)[0],
                      "You left out the skip path: y = x + BN(x), so grad_y also reaches x unchanged."),
        Misconception("constant-stats", lambda a: a[0] + _bn_constant_stats(a)[0],
                      "Inside the branch, the batch mean and variance depend on x: their gradient terms are missing."),
    ),
))


# ----------------------------------------------------------------------------- unet.write-conv-transpose
def _convt_oracle(p: dict):
    from companion.convolution import correlate_backward

    def f(x, w, stride):
        c_in, length = x.shape
        out_len = (length - 1) * stride + w.shape[2]
        grad_x, _, _ = correlate_backward(x[None], np.zeros((1, w.shape[1], out_len)), w, stride=stride)
        return grad_x[0]
    return f


def _convt_solution(x, w, stride):
    c_in, length = x.shape
    _, c_out, k = w.shape
    out = np.zeros((c_out, (length - 1) * stride + k))
    for i in range(length):          # each input sample paints a scaled copy of the kernel, stride apart
        out[:, i * stride:i * stride + k] += np.einsum("c,cok->ok", x[:, i], w)
    return out


def _convt_inputs(rng, p):
    return [(rng.standard_normal((ci, length)), rng.standard_normal((ci, co, k)), s)
            for ci, co, length, k, s in ((1, 1, 5, 3, 2), (2, 3, 6, 2, 2), (3, 2, 4, 4, 3), (2, 2, 7, 3, 1))]


register(Exercise(
    id="unet.write-conv-transpose",
    title="Write a transposed convolution as the gradient of a strided one",
    prompt=("A 1-D strided correlation maps x (C_out, L_in) to y (C_in, L) with weights w (C_in, C_out, k) and "
            "stride s (no padding). Its transposed convolution maps a y-shaped array back: write "
            "`conv_transpose1d(y, w, stride)` returning dL/dx for L = Σ y · correlate(x), of shape "
            "(C_out, (L − 1)·s + k) — the up-sampling layer of a U-Net decoder."),
    make_params=_no_params,
    solve=_convt_oracle,
    kind="function",
    make_inputs=_convt_inputs,
    arg_names=("y", "w", "stride"),
    forbidden=("companion.convolution.correlate_backward", "companion.convolution.conv_transpose"),
    solution=_convt_solution,
    rtol=1e-9, atol=1e-9,
    hint="Every input sample i adds y[:, i] times the kernel into the output at positions i·s … i·s + k − 1.",
    misconceptions=(
        Misconception("flipped", lambda a: _convt_solution(a[0], a[1][:, :, ::-1], a[2]),
                      "Your kernel is flipped: the gradient of a correlation places the kernel as it is."),
    ),
))


# ----------------------------------------------------------------------------- loss.write-dice-grad
def _dice_oracle(p: dict):
    from companion.losses import dice_loss_grad
    return lambda logits, target: dice_loss_grad(logits, target)


def _dice_probs_and_grad_p(logits, target, eps=1e-5):
    """softmax(logits) and d(1 - mean soft Dice)/dp, written out for the worked solution."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)                # softmax over classes
    k = logits.shape[1]
    y = (np.arange(k).reshape([1, k] + [1] * (target.ndim - 1)) == target[:, None]).astype(float)
    axes = tuple(range(2, logits.ndim))
    inter = (p * y).sum(axis=axes, keepdims=True)
    denom = p.sum(axis=axes, keepdims=True) + y.sum(axis=axes, keepdims=True) + eps
    dice = (2 * inter + eps) / denom
    return p, -(2 * y / denom - dice / denom) / (logits.shape[0] * k)     # quotient rule


def _dice_solution(logits, target, eps=1e-5):
    p, grad_p = _dice_probs_and_grad_p(logits, target, eps)
    # through the softmax Jacobian: dL/dz_j = p_j (dL/dp_j - sum_i p_i dL/dp_i)
    return p * (grad_p - (p * grad_p).sum(axis=1, keepdims=True))


def _dice_inputs(rng, p):
    out = []
    for n, k, shape in ((1, 2, (5, 5)), (2, 3, (4, 6)), (1, 4, (3, 3, 3))):
        out.append((rng.standard_normal((n, k) + shape) * 2, rng.integers(0, k, size=(n,) + shape)))
    return out


def _dice_fd(args):
    from companion.losses import dice_loss
    logits, target = args
    return numerical_grad(lambda z: dice_loss(z, target), logits)


register(Exercise(
    id="loss.write-dice-grad",
    title="Write the gradient of the soft Dice loss with respect to the logits",
    prompt=("The soft Dice loss L = 1 − mean over (sample, class) of (2 Σ p·y + ε) / (Σ p + Σ y + ε), with "
            "p = softmax(logits) over axis 1, y the one-hot target and ε = 1e-5 (sums over the spatial axes). "
            "Write `dice_grad(logits, target)`: `logits` (N, K, *S), integer `target` (N, *S); return dL/dlogits, "
            "going through the softmax Jacobian."),
    make_params=_no_params,
    solve=_dice_oracle,
    kind="function",
    make_inputs=_dice_inputs,
    arg_names=("logits", "target"),
    forbidden=("companion.losses.dice_loss_grad", "companion.losses.soft_dice_grad",
               "companion.losses.composite_loss_grad"),
    finite_difference=_dice_fd,
    solution=_dice_solution,
    rtol=1e-6, atol=1e-10,
    hint="First dL/dp per class (quotient rule), then the softmax: dL/dz_j = p_j (dL/dp_j − Σ_i p_i dL/dp_i).",
    misconceptions=(
        Misconception("no-softmax-jacobian", lambda a: _dice_probs_and_grad_p(a[0], a[1])[1],
                      "That is dL/dp, the gradient with respect to the probabilities: it still has to go through "
                      "the softmax's Jacobian to reach the logits."),
    ),
))


# ----------------------------------------------------------------------------- calib.write-ece
def _ece_oracle(p: dict):
    from companion.calibration import expected_calibration_error
    return lambda confidence, correct, n_bins: expected_calibration_error(confidence, correct, n_bins)


def _ece_solution(confidence, correct, n_bins):
    # equal-width bins (lo, hi], the first one including 0
    which = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        inside = which == b
        if inside.any():
            gap = abs(correct[inside].mean() - confidence[inside].mean())
            total += inside.mean() * gap                    # weighted by the share of samples in the bin
    return total


def _ece_inputs(rng, p):
    out = []
    for n, bins in ((50, 10), (400, 15), (1000, 5)):
        conf = rng.beta(5, 1.5, n)
        conf[:3] = (0.0, 1.0, 0.5)             # the edges of the range belong to the first and last bins
        out.append((conf, (rng.uniform(size=n) < conf ** 1.3).astype(float), bins))
    return out


def _ece_unweighted(a):
    confidence, correct, n_bins = a
    which = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    gaps = [abs(correct[which == b].mean() - confidence[which == b].mean()) for b in range(n_bins) if (which == b).any()]
    return float(np.mean(gaps))


register(Exercise(
    id="calib.write-ece",
    title="Write the expected calibration error",
    prompt=("Write `ece(confidence, correct, n_bins)`: `confidence` (M,) in [0, 1], `correct` (M,) of 0/1. "
            "Use n_bins equal-width bins (lo, hi] on [0, 1] (a confidence of exactly 0 goes to the first bin) "
            "and return Σ_b (|B_b| / M) · |accuracy(B_b) − mean confidence(B_b)| over the non-empty bins "
            "(Guo et al. 2017)."),
    make_params=_no_params,
    solve=_ece_oracle,
    kind="function",
    make_inputs=_ece_inputs,
    arg_names=("confidence", "correct", "n_bins"),
    forbidden=("companion.calibration.expected_calibration_error", "companion.calibration.reliability_bins",
               "companion.calibration.reliability_diagram"),
    solution=_ece_solution,
    rtol=1e-9, atol=1e-12,
    hint="Assign each confidence to ceil(c · n_bins) − 1 (clipped to 0 … n_bins − 1), then weight each bin's gap by its share.",
    misconceptions=(
        Misconception("unweighted", _ece_unweighted,
                      "You averaged the bins' gaps equally: ECE weighs each bin by the fraction of samples in it."),
    ),
))
