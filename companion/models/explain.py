"""What a network looks at: gradient saliency, SmoothGrad, Integrated Gradients, Grad-CAM, occlusion.

Each method turns one scalar *score* of the network's output into a map over the input. For a
classifier (logits ``(N, K)``) the score is the class-``c`` logit; for a segmentation network it
is the sum of the class-``c`` outputs over a region ``M`` of the output (all pixels by default):

``S_c(x) = Σ_{p ∈ M} z_c(x)_p``  (logits ``z``), or, for occlusion, optionally the soft or the hard
predicted area of class ``c`` in ``M``.

- :func:`saliency` — ``|∂S_c / ∂x|`` (Simonyan et al. 2014): how much each input pixel moves the
  score, to first order.
- :func:`smoothgrad` — the saliency averaged over noisy copies of ``x`` (Smilkov et al. 2017).
- :func:`grad_cam` — ``ReLU(Σ_k α_k A^k)`` with ``α_k = mean_p ∂S_c / ∂A^k_p`` over the feature
  maps ``A`` of one layer, up-sampled to the input (Selvaraju et al. 2017).
- :func:`occlusion_sensitivity` — the drop of the score when a patch of the input is replaced by
  a baseline value, averaged over the patches covering each pixel (Zeiler & Fergus 2014). It only
  calls the model forward: a model-agnostic check of the two gradient methods.

- :func:`integrated_gradients` — ``(x - x') ∫ ∂S_c / ∂x`` along the straight path from a baseline
  ``x'`` (Sundararajan et al. 2017), midpoint rule; the attributions sum to ``S_c(x) - S_c(x')``.

The model-randomisation sanity check of Adebayo et al. (2018): :func:`randomised_copy` and
:func:`cascading_randomisation` re-initialise a model's layers (from the output down), and
:func:`map_similarity` (from the NumPy core :mod:`companion.attribution`) compares maps of the trained and the randomised model by Spearman rank
correlation (``scipy.stats.spearmanr``) and SSIM (``skimage.metrics.structural_similarity``). A
method whose maps stay similar explains the architecture, not what was learnt.

This module uses torch (it is a models-level module, like :mod:`companion.train`); it is not
imported by ``import companion``. The model is run in eval mode, and its mode is restored.

References: simonyan2014saliency, smilkov2017smoothgrad, selvaraju2017gradcam, zeiler2014visualizing, adebayo2018sanity.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from companion._validation import as_int, as_real, as_tuple
from companion.attribution import map_similarity  # NumPy core; re-exported here (public name)

__all__ = ["class_score", "saliency", "smoothgrad", "grad_cam", "occlusion_sensitivity", "integrated_gradients", "randomised_copy",
           "cascading_randomisation", "map_similarity"]

SCORES = ("logit", "probability", "area")


# --------------------------------------------------------------------------- private checkers
def _check_model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    return model


def _as_input(x: Any) -> tuple[torch.Tensor, np.dtype]:
    """``x`` as a detached float tensor ``(N, C, *S)`` (1 to 3 spatial dims) and its NumPy dtype."""
    if isinstance(x, torch.Tensor):
        t = x.detach()
    elif isinstance(x, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(x))
    else:
        raise TypeError(f"x: expected a NumPy array or a torch.Tensor (N, C, *S), got {type(x).__name__}")
    if t.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"x: expected a float32 or float64 array, got dtype {t.dtype}")
    if not 3 <= t.ndim <= 5:
        raise ValueError(f"x: expected 3 to 5 dims (N, C, *S), got {t.ndim} (shape {tuple(t.shape)})")
    return t.cpu(), np.dtype("float64" if t.dtype == torch.float64 else "float32")


def _placed(model: nn.Module, t: torch.Tensor) -> torch.Tensor:
    """`t` on the model's device and in its dtype (a model without parameters takes `t` as it is)."""
    p = next(model.parameters(), None)
    return t.to(p.device, p.dtype) if p is not None else t


def _check_class(target_class: Any, k: int) -> int:
    c = as_int(target_class, "target_class", minimum=0)
    if c >= k:
        raise ValueError(f"target_class: expected a class index in [0, {k}), got {c}")
    return c


def _as_mask(mask: Any, shape: tuple[int, ...]) -> torch.Tensor | None:
    """Region ``M`` of the output, ``(N, *S_out)`` or ``(*S_out)``, as a float tensor of 0/1."""
    if mask is None:
        return None
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    m = np.asarray(mask)
    if m.dtype.kind not in "biu":
        raise TypeError(f"mask: expected a boolean or integer mask, got dtype {m.dtype}")
    if m.shape == shape[1:]:
        m = np.broadcast_to(m, shape)
    if m.shape != shape:
        raise ValueError(f"mask: expected shape {shape} or {shape[1:]} (the output's N and spatial size), got {m.shape}")
    return torch.from_numpy((m != 0).astype(np.float64))


def _layer_in(model: nn.Module, layer: Any) -> nn.Module:
    if not isinstance(layer, nn.Module):
        raise TypeError(f"layer: expected a torch.nn.Module inside model, got {type(layer).__name__}")
    if not any(m is layer for m in model.modules()):
        raise ValueError("layer: expected a submodule of model (e.g. model.up_blocks[1]), got a module that is not part of it")
    return layer


class _EvalMode:
    """Run the model in eval mode (batch norm with running statistics), restore its mode after."""

    def __init__(self, model: nn.Module) -> None:
        self.model, self.was_training = model, model.training

    def __enter__(self) -> nn.Module:
        self.model.eval()
        return self.model

    def __exit__(self, *exc: Any) -> None:
        self.model.train(self.was_training)


def _summed(values: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
    """Per-sample sum of ``values (N, *S)`` over the region ``m`` (everything when None): ``(N,)``."""
    if m is not None:
        values = values * m.to(values)  # the values' device and dtype
    return values.reshape(values.shape[0], -1).sum(dim=1)


# --------------------------------------------------------------------------- public functions
def class_score(logits: torch.Tensor, target_class: int, mask: torch.Tensor | None = None,
                score: str = "logit") -> torch.Tensor:
    """The scalar per sample that the maps explain: ``S_c = Σ_{p ∈ M} s_c(p)``.

    ``s_c`` is the logit ``z_c`` (``score="logit"``), the softmax probability of class ``c``
    (``"probability"``, the soft predicted area) or the indicator ``argmax_k z_k == c``
    (``"area"``, the hard predicted area in pixels).

    Shapes
    ------
    logits : (N, K, *S);  mask : (N, *S) of 0/1 or None;  result : (N,)
    """
    if score == "logit":
        values = logits[:, target_class]
    elif score == "probability":
        values = torch.softmax(logits, dim=1)[:, target_class]
    elif score == "area":
        values = (logits.argmax(dim=1) == target_class).to(logits.dtype)
    else:
        raise ValueError(f"score: expected one of {SCORES}, got {score!r}")
    return _summed(values, mask)


def saliency(model: nn.Module, x: Any, target_class: int, *, mask: Any = None,
             absolute: bool = True) -> np.ndarray:
    """Gradient saliency: ``|∂S_c / ∂x|`` with ``S_c = Σ_{p ∈ M} z_c(x)_p``.

    The gradient of the class-``c`` logit summed over the region `mask` (every output pixel by
    default) with respect to every input pixel, taken in eval mode (Simonyan et al. 2014). For a
    model that is linear in ``x`` the gradient is the weight itself, whatever ``x``; for a ReLU
    network it is the weight of the linear piece that ``x`` falls on.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, *S)`` to logits ``(N, K, *S_out)``.
    x : ndarray or Tensor of float32 or float64
        Input batch.
    target_class : int
        The class ``c`` in ``[0, K)``.
    mask : array_like of bool or int, optional
        Output region ``M``, ``(N, *S_out)`` or ``(*S_out)``; None = all output pixels.
    absolute : bool, default True
        Return ``|∂S/∂x|``; False returns the signed gradient.

    Returns
    -------
    ndarray
        The (absolute) gradient, in the dtype of `x`.

    Shapes
    ------
    x : (N, C, *S);  result : (N, C, *S)

    Raises
    ------
    TypeError
        If `model` is not a Module, or `x` or `mask` are not arrays of the right kind.
    ValueError
        If `x` has the wrong number of dims, `target_class` is out of range or `mask` has the
        wrong shape.

    References
    ----------
    simonyan2014saliency

    Examples
    --------
    >>> net = torch.nn.Conv2d(1, 2, 1)                 # z_c = w_c x + b_c at every pixel
    >>> g = saliency(net, np.ones((1, 1, 2, 2), np.float32), 1)
    >>> np.allclose(g, abs(net.weight[1, 0, 0, 0].item()))
    True
    """
    model = _check_model(model)
    t, dtype = _as_input(x)
    with _EvalMode(model):
        xin = _placed(model, t).clone().requires_grad_(True)
        logits = model(xin)
        c = _check_class(target_class, logits.shape[1])
        m = _as_mask(mask, (logits.shape[0],) + tuple(logits.shape[2:]))
        (grad,) = torch.autograd.grad(class_score(logits, c, m).sum(), xin)
    g = grad.detach().cpu().numpy().astype(dtype, copy=False)
    return np.abs(g) if absolute else g


def smoothgrad(model: nn.Module, x: Any, target_class: int, *, sigma: float = 0.15, samples: int = 25,
               seed: int = 0, mask: Any = None, absolute: bool = True, batch_size: int = 32) -> np.ndarray:
    """SmoothGrad: the saliency averaged over noisy copies of the input (Smilkov et al. 2017).

    ``SG(x) = (1/n) Σ_k |∂S_c(x + ε_k) / ∂x|`` with ``ε_k ~ N(0, σ²)`` drawn independently for
    every pixel, ``n = samples`` and ``S_c`` as in :func:`saliency`. A ReLU network's gradient
    jumps from one linear piece to the next; averaging over a neighbourhood of ``x`` smooths
    those jumps away. Smilkov et al. recommend ``σ`` of 10–20 % of the input's range.

    The noise is drawn in float32 from ``torch.Generator().manual_seed(seed)`` as one tensor
    ``(N, samples, C, *S)`` (image by image, sample by sample): the draws of captum's
    ``NoiseTunnel(Saliency(f)).attribute(x, nt_type="smoothgrad", nt_samples=samples,
    stdevs=sigma)`` after ``torch.manual_seed(seed)``, so the two agree to rounding.

    Parameters
    ----------
    model, x, target_class, mask
        As in :func:`saliency`.
    sigma : float, default 0.15
        Noise standard deviation, in the units of `x` (> 0).
    samples : int, default 25
        Noisy copies per image (>= 1).
    seed : int, default 0
        Seeds the noise (the global torch RNG is left alone).
    absolute : bool, default True
        Average ``|gradient|`` (captum's ``Saliency(abs=True)``); False averages the signed gradient.
    batch_size : int, default 32
        Noisy copies per forward/backward pass.

    Returns
    -------
    ndarray
        In the dtype of `x`.

    Shapes
    ------
    x : (N, C, *S);  result : (N, C, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`saliency`; `sigma` not a positive number, `samples`, `seed` or `batch_size` not
        valid ints.

    References
    ----------
    smilkov2017smoothgrad

    Examples
    --------
    >>> net = torch.nn.Conv2d(1, 2, 1)                 # linear: every noisy gradient is the weight
    >>> g = smoothgrad(net, np.ones((1, 1, 3, 3), np.float32), 1, samples=4)
    >>> np.allclose(g, abs(net.weight[1, 0, 0, 0].item()))
    True
    """
    model = _check_model(model)
    t, dtype = _as_input(x)
    sigma = as_real(sigma, "sigma", positive=True)
    samples = as_int(samples, "samples", minimum=1)
    seed = as_int(seed, "seed", minimum=0)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    gen = torch.Generator().manual_seed(seed)
    noise = torch.normal(0.0, sigma, size=(t.shape[0], samples) + tuple(t.shape[1:]), generator=gen)
    total = torch.zeros(t.shape, dtype=torch.float64)
    with _EvalMode(model):
        xin = _placed(model, t)
        for i in range(t.shape[0]):
            for lo in range(0, samples, batch_size):
                eps = _placed(model, noise[i, lo:lo + batch_size].to(t.dtype))
                noisy = (xin[i:i + 1] + eps).requires_grad_(True)
                logits = model(noisy)
                c = _check_class(target_class, logits.shape[1])
                m = _as_mask(mask, (t.shape[0],) + tuple(logits.shape[2:]))
                mi = None if m is None else m[i:i + 1].expand(len(eps), *m.shape[1:])
                (grad,) = torch.autograd.grad(class_score(logits, c, mi).sum(), noisy)
                grad = grad.detach().double().cpu()
                total[i] += (grad.abs() if absolute else grad).sum(0)
    return (total / samples).numpy().astype(dtype, copy=False)


def grad_cam(model: nn.Module, layer: nn.Module, x: Any, target_class: int, *, mask: Any = None,
             upsample: bool = True) -> np.ndarray:
    """Grad-CAM: ``ReLU(Σ_k α_k A^k)`` with ``α_k = mean_p ∂S_c / ∂A^k_p``, up-sampled to the input.

    ``A`` is the output of `layer`, ``(N, K_l, *S_l)``; ``S_c = Σ_{p ∈ M} z_c(x)_p`` as in
    :func:`saliency`. The weights ``α_k`` average the score's gradient over the feature map's
    pixels, so the map is a class-weighted sum of the layer's channels, kept where it is positive
    (Selvaraju et al. 2017; for segmentation the score sums the class logit over a region,
    Vinogradova et al. 2020). With `upsample`, a map coarser than the input is interpolated
    bilinearly (trilinearly in 3-D, ``align_corners=False``) to the input's spatial size.

    Parameters
    ----------
    model : torch.nn.Module
    layer : torch.nn.Module
        A submodule of `model` whose output is the feature map ``A`` (a decoder block, say).
    x, target_class, mask
        As in :func:`saliency`.
    upsample : bool, default True
        Interpolate the map to the input size; False returns it at the layer's resolution.

    Returns
    -------
    ndarray
        The non-negative map, in the dtype of `x`.

    Shapes
    ------
    x : (N, C, *S);  result : (N, *S) (or (N, *S_l) without `upsample`)

    Raises
    ------
    TypeError, ValueError
        As :func:`saliency`; `layer` not a Module or not part of `model`; a layer that is not
        run in the forward pass or returns no tensor.

    References
    ----------
    selvaraju2017gradcam, vinogradova2020towards

    Examples
    --------
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.Conv2d(3, 2, 1))
    >>> x = np.random.default_rng(0).standard_normal((1, 1, 6, 6)).astype(np.float32)
    >>> cam = grad_cam(net, net[0], x, 1)          # 1x1 head: CAM = ReLU(z_1 - b_1)
    >>> z1 = net(torch.from_numpy(x))[0, 1].detach().numpy()
    >>> np.allclose(cam[0], np.maximum(z1 - net[1].bias[1].item(), 0), atol=1e-5)
    True
    """
    model = _check_model(model)
    layer = _layer_in(model, layer)
    t, dtype = _as_input(x)
    captured: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            captured.append(output)

    handle = layer.register_forward_hook(hook)
    try:
        with _EvalMode(model):
            xin = _placed(model, t).clone().requires_grad_(True)  # a graph to the layer
            logits = model(xin)
    finally:
        handle.remove()
    if not captured:
        raise ValueError("layer: expected a submodule that the forward pass runs and that returns a tensor, got none")
    feats = captured[-1]
    c = _check_class(target_class, logits.shape[1])
    m = _as_mask(mask, (logits.shape[0],) + tuple(logits.shape[2:]))
    (grad,) = torch.autograd.grad(class_score(logits, c, m).sum(), feats)
    spatial = tuple(range(2, feats.ndim))
    alpha = grad.mean(dim=spatial, keepdim=True)                      # (N, K_l, 1, ...)
    cam = torch.relu((alpha * feats).sum(dim=1, keepdim=True)).detach()  # (N, 1, *S_l)
    if upsample and tuple(cam.shape[2:]) != tuple(t.shape[2:]):
        mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[cam.ndim - 2]
        cam = torch.nn.functional.interpolate(cam, size=tuple(t.shape[2:]), mode=mode, align_corners=False)
    return cam[:, 0].cpu().numpy().astype(dtype, copy=False)


def _starts(size: int, patch: int, stride: int) -> list[int]:
    """Patch positions along one axis: every `stride`, plus the last one so the edge is covered."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def occlusion_sensitivity(model: nn.Module, x: Any, target_class: int, patch: int | Sequence[int],
                          stride: int | Sequence[int] | None = None, baseline: float = 0.0, *,
                          score: str = "probability", mask: Any = None, batch_size: int = 64) -> np.ndarray:
    """Occlusion sensitivity: the drop of the class score when a patch is set to `baseline`.

    For each patch position ``P`` (every `stride` pixels, plus the last position along each axis so
    that the edges are covered), ``Δ_P = S_c(x) - S_c(x with x_P := baseline)`` with ``S_c`` the
    class score of :func:`class_score` (``score``: soft area = summed probability, hard area =
    pixel count, or summed logit) over the output region `mask`. Each pixel gets the mean ``Δ_P``
    of the patches that cover it (Zeiler & Fergus 2014 slide a grey square; the averaging of
    overlapping windows follows Captum's ``Occlusion``). Positive = occluding that pixel lowers
    the score. For a model linear in ``x`` and ``score="logit"``, ``Δ_P = Σ_{i ∈ P} g_i (x_i -
    baseline)`` with ``g`` the signed :func:`saliency`.

    Parameters
    ----------
    model : torch.nn.Module
    x, target_class, mask
        As in :func:`saliency` (all channels of a patch are occluded).
    patch : int or tuple of int
        Patch size per spatial axis (at most the input's size).
    stride : int or tuple of int, optional
        Step between patch positions; default `patch` (non-overlapping patches).
    baseline : float, default 0.0
        The value written into the patch (0 = the phantoms' air).
    score : {"probability", "area", "logit"}, default "probability"
    batch_size : int, default 64
        Occluded copies per forward pass.

    Returns
    -------
    ndarray
        The mean drop per input pixel, in the dtype of `x`.

    Shapes
    ------
    x : (N, C, *S);  result : (N, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`saliency`; `patch` or `stride` not positive ints (or `patch` larger than the
        input), `baseline` not a finite number, `score` unknown.

    References
    ----------
    zeiler2014visualizing

    Examples
    --------
    >>> net = torch.nn.Conv2d(1, 2, 1)                 # z_c = w_c x + b_c
    >>> x = np.ones((1, 1, 4, 4), np.float32)
    >>> occ = occlusion_sensitivity(net, x, 1, 2, score="logit")   # each 2x2 patch: 4 w_1 (1 - 0)
    >>> np.allclose(occ, 4 * net.weight[1, 0, 0, 0].item())
    True
    """
    model = _check_model(model)
    t, dtype = _as_input(x)
    dims = t.ndim - 2
    spatial = tuple(t.shape[2:])
    patch_t = as_tuple(patch, dims, "patch", minimum=1)
    if any(p > s for p, s in zip(patch_t, spatial)):
        raise ValueError(f"patch: expected sizes <= the input's spatial size {spatial}, got {patch_t}")
    stride_t = patch_t if stride is None else as_tuple(stride, dims, "stride", minimum=1)
    if isinstance(baseline, bool) or not isinstance(baseline, numbers.Real) or not np.isfinite(baseline):
        raise TypeError(f"baseline: expected a finite real number, got {type(baseline).__name__} {baseline!r}")
    if score not in SCORES:
        raise ValueError(f"score: expected one of {SCORES}, got {score!r}")
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    starts = [_starts(s, p, st) for s, p, st in zip(spatial, patch_t, stride_t)]
    regions = [tuple(slice(a, a + p) for a, p in zip(corner, patch_t))
               for corner in np.array(np.meshgrid(*starts, indexing="ij")).reshape(dims, -1).T]
    total = torch.zeros((t.shape[0],) + spatial, dtype=torch.float64)
    count = torch.zeros(spatial, dtype=torch.float64)
    for region in regions:
        count[region] += 1
    with _EvalMode(model), torch.no_grad():
        xin = _placed(model, t)
        logits = model(xin)
        c = _check_class(target_class, logits.shape[1])
        m = _as_mask(mask, (logits.shape[0],) + tuple(logits.shape[2:]))
        s0 = class_score(logits.double(), c, m, score).cpu()                           # (N,)
        for i in range(xin.shape[0]):
            mi = None if m is None else m[i:i + 1]
            for lo in range(0, len(regions), batch_size):
                chunk = regions[lo:lo + batch_size]
                occluded = xin[i:i + 1].repeat(len(chunk), *([1] * (dims + 1)))
                for j, region in enumerate(chunk):
                    occluded[(j, slice(None)) + region] = baseline
                drops = s0[i] - class_score(model(occluded).double(), c,
                                            None if mi is None else mi.expand(len(chunk), *mi.shape[1:]), score).cpu()
                for region, d in zip(chunk, drops):
                    total[(i,) + region] += d
    return (total / count).numpy().astype(dtype, copy=False)


def integrated_gradients(model: nn.Module, x: Any, target_class: int, *, baseline: Any = None, steps: int = 50,
                         mask: Any = None, batch_size: int = 32) -> np.ndarray:
    """Integrated gradients (Sundararajan et al. 2017) by the midpoint rule.

    ``IG_i(x) = (x_i - x'_i) ∫_0^1 ∂S_c(x' + α (x - x')) / ∂x_i dα`` with the baseline ``x'``
    (zeros by default) and ``S_c = Σ_{p ∈ M} z_c(x)_p`` as in :func:`saliency`; the integral is
    approximated by the midpoint rule, ``α_k = (k + 1/2) / steps`` with weights ``1 / steps``
    (captum's ``IntegratedGradients.attribute(method="riemann_middle", n_steps=steps)``; its
    "riemann_trapezoid" weights sum to ``(steps - 1) / steps``). Completeness: the attributions
    of one image sum to ``S_c(x) - S_c(x')`` up to the quadrature error (exactly for a model
    linear in ``x``).

    Parameters
    ----------
    model : torch.nn.Module
    x : ndarray or Tensor of float32 or float64, (N, C, *S)
    target_class : int
    baseline : array_like, optional
        Same shape as `x` (or broadcastable to it); default zeros.
    steps : int, default 50
        Number of midpoints (>= 1).
    mask : array_like of bool or int, optional
        Output region ``M`` as in :func:`saliency`.
    batch_size : int, default 32
        Interpolated inputs per forward/backward pass.

    Returns
    -------
    ndarray
        Attributions, in the dtype of `x`.

    Shapes
    ------
    x : (N, C, *S);  result : (N, C, *S)

    Raises
    ------
    TypeError, ValueError
        As :func:`saliency`; `steps` or `batch_size` not positive ints, `baseline` of another
        shape.

    References
    ----------
    sundararajan2017axiomatic

    Examples
    --------
    >>> net = torch.nn.Conv2d(1, 2, 1)                 # linear: IG = w_1 (x - 0) exactly
    >>> x = np.full((1, 1, 2, 2), 3.0, np.float32)
    >>> np.allclose(integrated_gradients(net, x, 1, steps=4), 3 * net.weight[1, 0, 0, 0].item())
    True
    """
    model = _check_model(model)
    t, dtype = _as_input(x)
    steps = as_int(steps, "steps", minimum=1)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    if baseline is None:
        b = torch.zeros_like(t)
    else:
        b_arr = np.asarray(baseline.detach().cpu().numpy() if isinstance(baseline, torch.Tensor) else baseline)
        if b_arr.dtype.kind not in "fiu":
            raise TypeError(f"baseline: expected a numeric array, got dtype {b_arr.dtype}")
        try:
            b = torch.from_numpy(np.array(np.broadcast_to(b_arr, tuple(t.shape)))).to(t.dtype)
        except ValueError:
            raise ValueError(f"baseline: expected a shape broadcastable to x's {tuple(t.shape)}, got {b_arr.shape}") from None
    alphas = (torch.arange(steps, dtype=torch.float64) + 0.5) / steps
    total = torch.zeros(t.shape, dtype=torch.float64)
    with _EvalMode(model):
        xin, bin_ = _placed(model, t), _placed(model, b)
        for i in range(t.shape[0]):
            for lo in range(0, steps, batch_size):
                a = alphas[lo:lo + batch_size].to(xin.dtype).to(xin.device)
                shape = (len(a),) + (1,) * (xin.ndim - 1)
                points = (bin_[i:i + 1] + a.reshape(shape) * (xin[i:i + 1] - bin_[i:i + 1])).requires_grad_(True)
                logits = model(points)
                c = _check_class(target_class, logits.shape[1])
                m = _as_mask(mask, (t.shape[0],) + tuple(logits.shape[2:]))
                mi = None if m is None else m[i:i + 1].expand(len(a), *m.shape[1:])
                (grad,) = torch.autograd.grad(class_score(logits, c, mi).sum(), points)
                total[i] += grad.detach().double().sum(0).cpu()
    ig = (t.double() - b.double()) * total / steps
    return ig.numpy().astype(dtype, copy=False)


# --------------------------------------------------------------------------- sanity checks (Adebayo et al.)
def randomised_copy(model: nn.Module, layers: Sequence[nn.Module] | None = None, *, seed: int = 0) -> nn.Module:
    """A deep copy of `model` whose `layers` (all of it by default) are re-initialised at random.

    Every submodule of the copied layers that has a ``reset_parameters()`` method (convolutions,
    batch norm — whose running statistics are reset too) draws new parameters from torch's
    default initialisation. The layer at position ``i`` of ``model.modules()`` draws under
    ``torch.manual_seed(seed + i)`` in a forked RNG (the global RNG is left alone), so it gets
    the same values whichever other layers are randomised with it. The original model is not
    touched; the copy is in eval mode.

    Parameters
    ----------
    model : torch.nn.Module
    layers : sequence of torch.nn.Module, optional
        Submodules of `model` to randomise; None = the whole model.
    seed : int, default 0

    Returns
    -------
    torch.nn.Module

    Raises
    ------
    TypeError
        If `model` is not a Module.
    ValueError
        If a layer is not a submodule of `model`.

    References
    ----------
    adebayo2018sanity

    Examples
    --------
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Conv2d(2, 2, 1))
    >>> r = randomised_copy(net, [net[1]], seed=1)
    >>> bool(torch.equal(r[0].weight, net[0].weight)), bool(torch.equal(r[1].weight, net[1].weight))
    (True, False)
    """
    import copy

    model = _check_model(model)
    seed = as_int(seed, "seed", minimum=0)
    targets = [model] if layers is None else [_layer_in(model, layer) for layer in layers]
    position = {id(m): i for i, m in enumerate(model.modules())}
    chosen = {id(sub) for target in targets for sub in target.modules()}
    clone = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        for original, sub in zip(model.modules(), clone.modules()):
            if id(original) not in chosen:
                continue
            torch.manual_seed(seed + position[id(original)])
            if hasattr(sub, "reset_parameters"):
                sub.reset_parameters()
            if hasattr(sub, "reset_running_stats"):
                sub.reset_running_stats()
    return clone.eval()


def cascading_randomisation(model: nn.Module, *, seed: int = 0) -> list[tuple[str, nn.Module]]:
    """Adebayo et al.'s cascading randomisation: copies with more and more top-level blocks
    re-initialised, from the output (the last child module with parameters) down to the input.

    Returns ``[(name, copy), ...]``; the ``k``-th copy has the last ``k + 1`` parameterised
    children of `model` randomised (``name`` is the child just added). The last copy is fully
    random. Each copy is made by :func:`randomised_copy` with the same `seed`, so the layers
    randomised in one stage keep their random values in the next ones.

    Parameters
    ----------
    model : torch.nn.Module
    seed : int, default 0

    Returns
    -------
    list of (str, torch.nn.Module)

    Raises
    ------
    TypeError
        If `model` is not a Module.
    ValueError
        If `model` has no child module with parameters.

    References
    ----------
    adebayo2018sanity

    Examples
    --------
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Conv2d(2, 2, 1))
    >>> [name for name, _ in cascading_randomisation(net)]
    ['2', '0']
    """
    model = _check_model(model)
    children = [(name, child) for name, child in model.named_children()
                if any(True for _ in child.parameters())]
    if not children:
        raise ValueError("model: expected child modules with parameters to randomise, got none")
    stages, chosen = [], []
    for name, child in reversed(children):
        chosen.insert(0, child)
        stages.append((name, randomised_copy(model, list(chosen), seed=seed)))
    return stages
