"""companion.explain: saliency, SmoothGrad, Integrated Gradients, Grad-CAM and occlusion against closed forms,
autograd, centred differences and captum (the oracle)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import numerical_vjp, relative_error  # the one centred-difference oracle
from torch import nn

from companion.explain import (cascading_randomisation, class_score, grad_cam, integrated_gradients, map_similarity,
                               occlusion_sensitivity, randomised_copy, saliency, smoothgrad)


class Diagonal(nn.Module):
    """A linear model with one weight per pixel and class: ``z_c(p) = w_c(p) x(p) + b_c``."""

    def __init__(self, w: np.ndarray, b=(0.3, -0.2)):
        super().__init__()
        self.w = nn.Parameter(torch.from_numpy(w))            # (K, H, W)
        self.b = nn.Parameter(torch.tensor(b, dtype=self.w.dtype))

    def forward(self, x):
        return self.w[None] * x[:, :1] + self.b[None, :, None, None]


class CamNet(nn.Module):
    """Features ``A = tanh(conv3x3(x))``, optionally 2x average-pooled, a 1x1 head, then 2x nearest up."""

    def __init__(self, pool: bool = False, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.features = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Tanh())
        self.pool = nn.AvgPool2d(2) if pool else nn.Identity()
        self.head = nn.Conv2d(3, 2, 1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest") if pool else nn.Identity()
        self.double()

    def forward(self, x):
        return self.up(self.head(self.pool(self.features(x))))


def _tiny_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.Tanh(), nn.Conv2d(4, 3, 3, padding=1)).double()


def _x(shape=(2, 2, 6, 7), seed=1, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- saliency
SALIENCY_CASES = [  # target class, mask (None = all output pixels)
    pytest.param(0, None, id="class0-all-pixels"),
    pytest.param(2, None, id="class2-all-pixels"),
    pytest.param(1, "half", id="class1-region"),
]


@pytest.mark.parametrize("target_class, mask", SALIENCY_CASES)
def test_saliency_matches_autograd_and_centred_differences(target_class, mask):
    # shape: x (2, 2, 6, 7) -> logits (2, 3, 6, 7); smooth (tanh) so differences see no kinks
    net, x = _tiny_net(), _x()
    m = None
    if mask == "half":
        m = np.zeros((2, 6, 7), bool)
        m[:, :3, 2:] = True
    g = saliency(net, x, target_class, mask=m, absolute=False)
    xt = torch.from_numpy(x).requires_grad_(True)
    z = net(xt)[:, target_class]
    s = (z * torch.from_numpy(m.astype(np.float64))).sum() if m is not None else z.sum()
    (expected,) = torch.autograd.grad(s, xt)
    np.testing.assert_allclose(g, expected.numpy(), rtol=1e-10, atol=1e-12)

    def f(v):
        with torch.no_grad():
            zz = net(torch.from_numpy(v))[:, target_class].numpy()
        return float((zz * m).sum() if m is not None else zz.sum())

    err = relative_error(g, numerical_vjp(f, x))
    assert err < 1e-6, err
    np.testing.assert_array_equal(saliency(net, x, target_class, mask=m), np.abs(g))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saliency_of_linear_model_is_abs_weight(dtype):
    # z_c(p) = w_c(p) x(p) + b_c, S_c = sum_p z_c(p)  =>  dS_c/dx(p) = w_c(p), whatever x
    w = np.random.default_rng(2).standard_normal((2, 5, 4))
    net = Diagonal(w)
    x = _x((3, 1, 5, 4), dtype=dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    for c in (0, 1):
        g = saliency(net, x, c)
        assert g.dtype == dtype and g.shape == x.shape
        np.testing.assert_allclose(g, np.broadcast_to(np.abs(w[c]), g.shape), rtol=tol)
    region = np.zeros((5, 4), int)
    region[1:3, 2:] = 1  # a mask of the output: only those pixels' logits count
    np.testing.assert_allclose(saliency(net, x, 1, mask=region)[0, 0], np.abs(w[1]) * region, rtol=tol)


def test_saliency_restores_mode_and_leaves_input_alone():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.Conv2d(2, 2, 1)).double()
    net.train()
    x = _x((2, 1, 4, 4))
    before = x.copy()
    saliency(net, x, 0)
    assert net.training
    np.testing.assert_array_equal(x, before)
    assert net[1].num_batches_tracked.item() == 0  # ran in eval mode: no running-statistics update


# ---------------------------------------------------------------- Grad-CAM
def test_grad_cam_of_1x1_head_is_relu_of_class_logit_minus_bias():
    # A = features(x), z_c = sum_k w_ck A_k + b_c  =>  dS/dA_k(p) = w_ck, alpha_k = w_ck,
    # CAM = ReLU(sum_k w_ck A_k) = ReLU(z_c - b_c)
    net, x = CamNet(), _x((2, 2, 6, 6))
    with torch.no_grad():
        z = net(torch.from_numpy(x)).numpy()
    b = net.head.bias.detach().numpy()
    for c in (0, 1):
        cam = grad_cam(net, net.features, x, c)
        assert cam.shape == (2, 6, 6) and cam.dtype == np.float64
        np.testing.assert_allclose(cam, np.maximum(z[:, c] - b[c], 0), rtol=1e-10, atol=1e-12)
        assert (cam == 0).any() and (cam > 0).any()  # the ReLU is really at work in this case


def test_grad_cam_with_region_scales_weights_by_its_share():
    # S = sum_{p in M} z_c(p): alpha_k = w_ck |M| / |S|, so the CAM is ReLU(z_c - b_c) |M| / |S|
    net, x = CamNet(seed=3), _x((1, 2, 6, 6), seed=4)
    m = np.zeros((6, 6), bool)
    m[1:4, 1:3] = True
    with torch.no_grad():
        z = net(torch.from_numpy(x)).numpy()[0, 1]
    expected = np.maximum(z - net.head.bias[1].item(), 0) * m.sum() / m.size
    np.testing.assert_allclose(grad_cam(net, net.features, x, 1, mask=m)[0], expected, rtol=1e-10, atol=1e-12)


def test_grad_cam_coarse_layer_is_upsampled_bilinearly():
    # A = avgpool(features) (3 x 3 from 6 x 6), each coarse pixel feeds 4 outputs: alpha_k = 4 w_ck
    net, x = CamNet(pool=True), _x((1, 2, 6, 6), seed=5)
    with torch.no_grad():
        a = net.pool(net.features(torch.from_numpy(x)))
    w = net.head.weight.detach()[0, :, 0, 0]
    coarse = torch.relu((4 * w[None, :, None, None] * a).sum(1, keepdim=True))
    np.testing.assert_allclose(grad_cam(net, net.pool, x, 0, upsample=False)[0], coarse[0, 0].numpy(), rtol=1e-10)
    up = torch.nn.functional.interpolate(coarse, size=(6, 6), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(grad_cam(net, net.pool, x, 0)[0], up[0, 0].numpy(), rtol=1e-10)


# ---------------------------------------------------------------- occlusion
def test_occlusion_of_linear_model_equals_weighted_patch_sum():
    # score "logit": Delta_P = sum_{i in P} w_c(i) (x_i - baseline); stride = patch tiles 6 x 4 with 2 x 2 blocks
    w = np.random.default_rng(6).standard_normal((2, 6, 4))
    net, x, base = Diagonal(w), _x((2, 1, 6, 4), seed=7), 0.25
    occ = occlusion_sensitivity(net, x, 1, 2, baseline=base, score="logit")
    blocks = (w[1] * (x[:, 0] - base)).reshape(2, 3, 2, 2, 2).sum(axis=(2, 4))  # (N, 3, 2) block sums
    expected = np.repeat(np.repeat(blocks, 2, axis=1), 2, axis=2)
    np.testing.assert_allclose(occ, expected, rtol=1e-10, atol=1e-12)


def test_occlusion_with_output_region_counts_only_its_pixels():
    # S = sum_{p in M} z_1(p): Delta_P = sum_{i in P and M} w_1(i) (x_i - baseline)
    w = np.random.default_rng(11).standard_normal((2, 4, 4))
    net, x = Diagonal(w), _x((1, 1, 4, 4), seed=12)
    m = np.zeros((4, 4), int)
    m[1:3, :3] = 1
    occ = occlusion_sensitivity(net, x, 1, 2, score="logit", mask=m)[0]
    blocks = (w[1] * x[0, 0] * m).reshape(2, 2, 2, 2).sum(axis=(1, 3))
    np.testing.assert_allclose(occ, np.kron(blocks, np.ones((2, 2))), rtol=1e-10, atol=1e-12)


def test_occlusion_overlapping_windows_average_the_drops():
    # 1 x 5 image, patch (1, 3), stride 1: windows start at 0, 1, 2; pixel p averages the windows covering it
    w = np.array([[[1.0, -2.0, 3.0, 0.5, 4.0]]] * 2)
    net, x = Diagonal(w), np.ones((1, 1, 1, 5))
    occ = occlusion_sensitivity(net, x, 0, (1, 3), stride=1, score="logit")
    d = [1 - 2 + 3, -2 + 3 + 0.5, 3 + 0.5 + 4]  # drops of the windows at 0, 1, 2 (baseline 0)
    expected = [d[0], (d[0] + d[1]) / 2, sum(d) / 3, (d[1] + d[2]) / 2, d[2]]
    np.testing.assert_allclose(occ[0, 0], expected, rtol=1e-12)


def test_occlusion_of_conv_model_agrees_with_signed_saliency():
    # a linear conv model: Delta_P = sum_{i in P} g_i (x_i - baseline), g the signed saliency (autograd)
    torch.manual_seed(8)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.Conv2d(3, 2, 3, padding=1)).double()
    x = _x((1, 1, 8, 8), seed=9)
    g = saliency(net, x, 1, absolute=False)[0, 0]
    occ = occlusion_sensitivity(net, x, 1, 4, baseline=-0.5, score="logit")[0]
    blocks = (g * (x[0, 0] + 0.5)).reshape(2, 4, 2, 4).sum(axis=(1, 3))
    np.testing.assert_allclose(occ, np.kron(blocks, np.ones((4, 4))), rtol=1e-9, atol=1e-12)


def test_occlusion_area_scores_count_pixels():
    # hard area: class 1 wherever x > 0 (z_1 - z_0 = 2x); occluding a patch with 0 removes its positive pixels
    w = np.stack([-np.ones((4, 4)), np.ones((4, 4))])
    net, x = Diagonal(w, b=(0.0, 0.0)), _x((1, 1, 4, 4), seed=10)
    occ = occlusion_sensitivity(net, x, 1, 2, score="area")[0]
    positive = (x[0, 0] > 0).reshape(2, 2, 2, 2).sum(axis=(1, 3))
    np.testing.assert_array_equal(occ, np.kron(positive, np.ones((2, 2))))
    z = torch.from_numpy(np.stack([-x[:, 0], x[:, 0]], 1))
    assert class_score(z, 1, score="area").item() == (x > 0).sum()


def test_occlusion_keeps_dtype_and_3d():
    net = nn.Conv3d(1, 2, 1)
    x = _x((1, 1, 4, 4, 4), dtype=np.float32)
    occ = occlusion_sensitivity(net, x, 0, 2, score="logit")
    assert occ.dtype == np.float32 and occ.shape == (1, 4, 4, 4)
    w = net.weight[0].item()  # class 0; its bias cancels in the drop
    blocks = (w * x[0, 0]).reshape(2, 2, 2, 2, 2, 2).sum(axis=(1, 3, 5))
    np.testing.assert_allclose(occ[0], np.kron(blocks, np.ones((2, 2, 2))), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- captum oracles (pinned API)
def _scalar(model, c, mask=None):
    """captum needs one number per sample: the summed class logit over the region."""
    m = None if mask is None else torch.from_numpy(mask.astype(np.float64))

    def f(inp):  # captum stacks the inputs of all steps: [step 0: N images, step 1: N images, ...]
        return class_score(model(inp), c, None if m is None else m.repeat(inp.shape[0] // m.shape[0], 1, 1))
    return f


@pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients:UserWarning")
def test_saliency_equals_captum_saliency_abs():
    from captum.attr import Saliency

    net, x = _tiny_net(), _x()
    for c in (0, 2):
        expected = Saliency(_scalar(net, c)).attribute(torch.from_numpy(x), abs=True).numpy()
        np.testing.assert_allclose(saliency(net, x, c), expected, rtol=1e-12, atol=1e-14)


def test_grad_cam_equals_captum_layer_grad_cam():
    from captum.attr import LayerGradCam

    net, x = CamNet(pool=True), _x((2, 2, 6, 8))
    expected = LayerGradCam(_scalar(net, 1), net.features).attribute(torch.from_numpy(x), relu_attributions=True)
    np.testing.assert_allclose(grad_cam(net, net.features, x, 1, upsample=False), expected[:, 0].detach().numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("steps", [2, 7, 50])
def test_integrated_gradients_equals_captum_riemann_middle(steps):
    from captum.attr import IntegratedGradients

    net, x = _tiny_net(), _x()
    base = np.full_like(x, 0.2)
    mask = np.zeros((2, 6, 7), bool)
    mask[:, 2:5, 1:4] = True
    for kwargs, m in ((dict(), None), (dict(mask=mask), mask)):
        expected = IntegratedGradients(_scalar(net, 1, m)).attribute(
            torch.from_numpy(x), baselines=torch.from_numpy(base), method="riemann_middle", n_steps=steps).numpy()
        out = integrated_gradients(net, x, 1, baseline=base, steps=steps, batch_size=3, **kwargs)
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-10)  # captum: alphas from a float32 linspace


def test_integrated_gradients_completeness():
    # attributions sum to S(x) - S(baseline): exactly for a linear model, up to quadrature for tanh
    net, x = _tiny_net(), _x()
    f = _scalar(net, 2)
    gap = (f(torch.from_numpy(x)) - f(torch.zeros_like(torch.from_numpy(x)))).detach().numpy()
    coarse = integrated_gradients(net, x, 2, steps=4).sum((1, 2, 3))
    fine = integrated_gradients(net, x, 2, steps=200).sum((1, 2, 3))
    assert np.all(np.abs(fine - gap) < np.abs(coarse - gap) + 1e-12)
    np.testing.assert_allclose(fine, gap, rtol=1e-3)
    lin = Diagonal(np.random.default_rng(2).standard_normal((2, 6, 7)))
    xl = _x((2, 1, 6, 7))
    g = (_scalar(lin, 1)(torch.from_numpy(xl)) - _scalar(lin, 1)(torch.zeros(2, 1, 6, 7, dtype=torch.float64))).detach().numpy()
    np.testing.assert_allclose(integrated_gradients(lin, xl, 1, steps=1).sum((1, 2, 3)), g, rtol=1e-12)
    assert integrated_gradients(net, x.astype(np.float32), 0, steps=3).dtype == np.float32



def _classifier(seed=0):
    """A small ReLU classifier (N, 1, 8, 8) -> (N, 3) logits, as in the chapter (conv, ReLU, pool, linear)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 3)).double()


@pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients:UserWarning")
def test_saliency_of_classifier_equals_captum_target():
    from captum.attr import Saliency

    net, x = _classifier(), _x((3, 1, 8, 8))
    for c in (0, 2):
        expected = Saliency(net).attribute(torch.from_numpy(x), target=c, abs=True).numpy()
        np.testing.assert_allclose(saliency(net, x, c), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients:UserWarning")
@pytest.mark.parametrize("absolute", [True, False])
def test_smoothgrad_equals_captum_noise_tunnel_with_the_same_draws(absolute):
    # captum draws torch.normal(0, sigma) of shape (N * samples, ...) from the global RNG; we draw the
    # same float32 numbers from a Generator seeded alike, so the averages agree to rounding
    from captum.attr import NoiseTunnel, Saliency

    net, x = _classifier(1), _x((2, 1, 8, 8), seed=3)
    torch.manual_seed(7)
    expected = NoiseTunnel(Saliency(net)).attribute(torch.from_numpy(x), nt_type="smoothgrad", nt_samples=9,
                                                    stdevs=0.3, target=2, abs=absolute).numpy()
    out = smoothgrad(net, x, 2, sigma=0.3, samples=9, seed=7, absolute=absolute, batch_size=4)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-14)
    # a segmentation score (summed logit over a region) goes through the same noise
    seg, xs = _tiny_net(), _x()
    mask = np.zeros((2, 6, 7), bool)
    mask[:, 1:4, 2:6] = True
    torch.manual_seed(2)
    expected = NoiseTunnel(Saliency(_scalar(seg, 1, mask))).attribute(
        torch.from_numpy(xs), nt_type="smoothgrad", nt_samples=5, stdevs=0.2, abs=absolute).numpy()
    np.testing.assert_allclose(smoothgrad(seg, xs, 1, sigma=0.2, samples=5, seed=2, mask=mask, absolute=absolute),
                               expected, rtol=1e-10, atol=1e-14)


def test_smoothgrad_properties():
    # linear model: every noisy gradient is the weight; the global RNG is untouched; float32 kept
    w = np.random.default_rng(4).standard_normal((2, 5, 4))
    net, x = Diagonal(w), _x((2, 1, 5, 4))
    state = torch.get_rng_state()
    np.testing.assert_allclose(smoothgrad(net, x, 1, samples=3), np.broadcast_to(np.abs(w[1]), x.shape), rtol=1e-12)
    assert torch.equal(torch.get_rng_state(), state)
    assert smoothgrad(_classifier(), _x((1, 1, 8, 8), dtype=np.float32), 0, samples=2).dtype == np.float32
    # the mean of n noisy gradients: its deviation from the expectation shrinks like 1/sqrt(n)
    net, x = _classifier(2), _x((1, 1, 8, 8), seed=5)
    ref = smoothgrad(net, x, 1, sigma=0.5, samples=4000, seed=1, absolute=False)
    err = [np.abs(smoothgrad(net, x, 1, sigma=0.5, samples=n, seed=9, absolute=False) - ref).mean() for n in (16, 1024)]
    assert err[1] < err[0] / 4                                              # sqrt(1024 / 16) = 8


def test_grad_cam_upsampled_equals_captum_layer_grad_cam_interpolated():
    from captum.attr import LayerAttribution, LayerGradCam

    net, x = CamNet(pool=True), _x((2, 2, 6, 8))
    coarse = LayerGradCam(_scalar(net, 0), net.pool).attribute(torch.from_numpy(x), relu_attributions=True)
    expected = LayerAttribution.interpolate(coarse, (6, 8), interpolate_mode="bilinear")[:, 0].detach().numpy()
    np.testing.assert_allclose(grad_cam(net, net.pool, x, 0), expected, rtol=1e-10, atol=1e-12)
    clf, xc = _classifier(3), _x((2, 1, 8, 8), seed=6)      # a classifier: the class logit, captum's target
    cam = LayerGradCam(clf, clf[2]).attribute(torch.from_numpy(xc), target=1, relu_attributions=True)
    np.testing.assert_allclose(grad_cam(clf, clf[2], xc, 1, upsample=False), cam[:, 0].detach().numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("patch, stride, score", [(2, 2, "logit"), (4, 2, "probability"), (3, 1, "logit")])
def test_occlusion_equals_captum_occlusion(patch, stride, score):
    # captum slides windows at multiples of the stride that fit; on 8 x 8 these cover the edge
    # exactly ((8 - patch) % stride == 0), where our extra edge window is not needed
    from captum.attr import Occlusion

    net, x = _classifier(4), _x((2, 1, 8, 8), seed=7)

    def f(inp):
        return class_score(net(inp), 2, score=score)

    expected = Occlusion(f).attribute(torch.from_numpy(x), sliding_window_shapes=(1, patch, patch),
                                      strides=(1, stride, stride), baselines=0.25).numpy()[:, 0]
    out = occlusion_sensitivity(net, x, 2, patch, stride=stride, baseline=0.25, score=score)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-10)  # captum mixes in float32 (measured 4e-8 relative)


@pytest.mark.parametrize("steps", [16, 64])
def test_integrated_gradients_of_classifier_equals_captum_and_is_complete(steps):
    from captum.attr import IntegratedGradients

    net, x = _classifier(5), _x((2, 1, 8, 8), seed=8)
    expected = IntegratedGradients(net).attribute(torch.from_numpy(x), target=1, method="riemann_middle",
                                                  n_steps=steps).numpy()
    ig = integrated_gradients(net, x, 1, steps=steps)
    np.testing.assert_allclose(ig, expected, rtol=1e-6, atol=1e-10)
    with torch.no_grad():
        gap = (net(torch.from_numpy(x)) - net(torch.zeros_like(torch.from_numpy(x))))[:, 1].numpy()
    # completeness: the attributions sum to S(x) - S(0) up to the quadrature error of a ReLU path
    np.testing.assert_allclose(ig.sum((1, 2, 3)), gap, rtol=0.05, atol=1e-3 * np.abs(gap).max())

# ---------------------------------------------------------------- sanity checks (Adebayo et al.)
def _bn_net(seed=0):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Conv2d(3, 2, 1))
    net[1].running_mean.fill_(0.5)  # as if trained
    return net.eval()


def test_randomised_copy_changes_only_the_chosen_layers():
    net = _bn_net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    state_rng = torch.get_rng_state()
    r = randomised_copy(net, [net[3]], seed=3)
    assert torch.equal(torch.get_rng_state(), state_rng)                     # global RNG untouched
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k])                                      # original untouched
    assert torch.equal(r[0].weight, net[0].weight) and torch.equal(r[1].running_mean, net[1].running_mean)
    assert not torch.equal(r[3].weight, net[3].weight) and not r.training
    # torch's own default initialisation under the stated seed (layer 4 of net.modules())
    torch.manual_seed(3 + 4)
    fresh = nn.Conv2d(3, 2, 1)
    assert torch.equal(r[3].weight, fresh.weight) and torch.equal(r[3].bias, fresh.bias)
    full = randomised_copy(net, seed=3)
    assert torch.equal(full[1].running_mean, torch.zeros(3))                 # BN statistics reset too
    assert torch.equal(full[3].weight, r[3].weight)                          # same values whatever else is randomised


def test_cascading_randomisation_goes_from_the_output_down():
    net = _bn_net()
    stages = cascading_randomisation(net, seed=1)
    assert [name for name, _ in stages] == ["3", "1", "0"]                  # ReLU has no parameters
    first, last = stages[0][1], stages[-1][1]
    assert torch.equal(first[0].weight, net[0].weight) and not torch.equal(first[3].weight, net[3].weight)
    assert torch.equal(first[3].weight, last[3].weight)                      # kept in the later stages
    assert not torch.equal(last[0].weight, net[0].weight)


def test_map_similarity_equals_scipy_and_skimage():
    from scipy.stats import spearmanr
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    a = rng.random((3, 12, 10))
    b = a + 0.5 * rng.random((3, 12, 10))
    rho, ssim = map_similarity(a, -b)                                         # signs are ignored
    for i in range(3):
        assert rho[i] == pytest.approx(spearmanr(a[i].ravel(), b[i].ravel()).statistic, abs=1e-12)
        assert ssim[i] == pytest.approx(structural_similarity(a[i] / a[i].max(), b[i] / b[i].max(), data_range=1.0))
    same = map_similarity(a, 5 * a)                                          # scale-free: identical maps
    np.testing.assert_allclose(same, 1.0, atol=1e-12)
    rho0, ssim0 = map_similarity(rng.random((20, 16, 16)), rng.random((20, 16, 16)))
    assert abs(rho0.mean()) < 0.05 and abs(ssim0.mean()) < 0.1                # independent maps: near 0
    const = map_similarity(np.ones((1, 8, 8)), a[:1, :8, :8])
    assert np.isnan(const[0][0])


# ---------------------------------------------------------------- bad calls
_NET = nn.Conv2d(1, 2, 1)
_X = np.zeros((1, 1, 4, 4), np.float32)
BAD_CALLS = [
    pytest.param(lambda: saliency("net", _X, 0), TypeError, r"^model: expected a torch.nn.Module", id="model-not-module"),
    pytest.param(lambda: saliency(_NET, [[0.0]], 0), TypeError, r"^x: expected a NumPy array", id="x-list"),
    pytest.param(lambda: saliency(_NET, _X.astype(int), 0), TypeError, r"^x: expected a float32 or float64", id="x-int"),
    pytest.param(lambda: saliency(_NET, _X[0, 0], 0), ValueError, r"^x: expected 3 to 5 dims", id="x-ndim"),
    pytest.param(lambda: saliency(_NET, _X, 2), ValueError, r"^target_class: expected a class index in \[0, 2\)", id="class-range"),
    pytest.param(lambda: saliency(_NET, _X, 0.5), TypeError, r"^target_class: expected an int", id="class-float"),
    pytest.param(lambda: saliency(_NET, _X, 0, mask=np.ones((3, 3), bool)), ValueError, r"^mask: expected shape", id="mask-shape"),
    pytest.param(lambda: saliency(_NET, _X, 0, mask=np.ones((4, 4))), TypeError, r"^mask: expected a boolean", id="mask-float"),
    pytest.param(lambda: grad_cam(_NET, nn.Conv2d(1, 1, 1), _X, 0), ValueError, r"^layer: expected a submodule", id="layer-foreign"),
    pytest.param(lambda: grad_cam(_NET, "head", _X, 0), TypeError, r"^layer: expected a torch.nn.Module", id="layer-str"),
    pytest.param(lambda: occlusion_sensitivity(_NET, _X, 0, 5), ValueError, r"^patch: expected sizes <=", id="patch-large"),
    pytest.param(lambda: occlusion_sensitivity(_NET, _X, 0, 0), ValueError, r"^patch: expected an int >= 1", id="patch-zero"),
    pytest.param(lambda: occlusion_sensitivity(_NET, _X, 0, 2, stride=(1, 2, 3)), ValueError, r"^stride: expected an int or 2 ints", id="stride-len"),
    pytest.param(lambda: occlusion_sensitivity(_NET, _X, 0, 2, baseline="air"), TypeError, r"^baseline: expected a finite real", id="baseline-str"),
    pytest.param(lambda: occlusion_sensitivity(_NET, _X, 0, 2, score="dice"), ValueError, r"^score: expected one of", id="score"),
    pytest.param(lambda: smoothgrad(_NET, _X, 0, sigma=0), ValueError, r"^sigma: expected a number > 0", id="sg-sigma"),
    pytest.param(lambda: smoothgrad(_NET, _X, 0, samples=0), ValueError, r"^samples: expected an int >= 1", id="sg-samples"),
    pytest.param(lambda: smoothgrad(_NET, _X, 0, sigma="0.1"), TypeError, r"^sigma: expected a real number", id="sg-sigma-str"),
    pytest.param(lambda: integrated_gradients(_NET, _X, 0, steps=0), ValueError, r"^steps: expected an int >= 1", id="ig-steps"),
    pytest.param(lambda: integrated_gradients(_NET, _X, 0, baseline=np.zeros((2, 3))), ValueError, r"^baseline: expected a shape broadcastable", id="ig-baseline"),
    pytest.param(lambda: randomised_copy("net"), TypeError, r"^model: expected a torch.nn.Module", id="random-model"),
    pytest.param(lambda: randomised_copy(_NET, [nn.Conv2d(1, 1, 1)]), ValueError, r"^layer: expected a submodule", id="random-layer"),
    pytest.param(lambda: cascading_randomisation(nn.ReLU()), ValueError, r"^model: expected child modules with parameters", id="cascade-empty"),
    pytest.param(lambda: map_similarity(np.ones((1, 8, 8)), np.ones((1, 8, 9))), ValueError, r"^b: expected the shape of a", id="sim-shape"),
    pytest.param(lambda: map_similarity(np.ones((1, 5, 5)), np.ones((1, 5, 5))), ValueError, r"^a: expected maps of at least 7x7", id="sim-small"),
    pytest.param(lambda: map_similarity(np.ones((8, 8)), np.ones((8, 8))), ValueError, r"^a: expected 3 dims", id="sim-ndim"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
