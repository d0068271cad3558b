"""The Part-3 practice exercises (``practice.*``) against independent oracles.

The generic engine tests (``tests/test_exercises.py``) already fuzz every id; here each reference
answer is checked against something that is not the code that computed it: torch's parameter
count of ``companion.models.UNet``, torch tensor sizes, the gradient support of a real U-Net,
torch autograd (of a strided conv1d and its transposed convolution), the same network written with torch modules,
an independent closed form of the correlation sum, and torchmetrics' calibration error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import numerical_vjp  # the one centred-difference oracle
from companion.exercises import EXERCISES, answer, check, exercise
from companion.exercises.bank import practice
from companion.layers import receptive_field

IDS = sorted(i for i in EXERCISES if i.startswith("practice."))
LEARNERS = [str(i) for i in range(12)] + ["ada", "李雷"]


def test_practice_bank_has_six_to_eight_exercises():
    assert 6 <= len(IDS) <= 8
    assert {EXERCISES[i].kind for i in IDS} >= {"number", "choice"}


@pytest.mark.parametrize("exercise_id", IDS)
def test_misconceptions_that_miss_give_distinct_feedback(exercise_id):
    """Each mistake that misses the answer is recognised as itself (not as an earlier one), for many learners."""
    ex = EXERCISES[exercise_id]
    for learner in LEARNERS:
        params = exercise(exercise_id, learner=learner).params
        ref = answer(exercise_id, learner=learner)
        for mis in ex.misconceptions:
            wrong = mis.value(params)
            same = (str(wrong) == str(ref) if ex.kind == "choice"
                    else math.isclose(float(wrong), float(ref), rel_tol=ex.rtol, abs_tol=ex.atol))
            if not same:
                assert check(exercise_id, wrong, learner=learner).message == mis.message, (learner, mis.name)
        assert "{" not in exercise(exercise_id, learner=learner).prompt


# ---------------------------------------------------------------- problem 1: the 3-D U-Net
UNET_CASES = [  # c_in, classes, base, depth, norm, skip
    pytest.param(1, 2, 8, 3, "batch", True, id="batch-d3"),
    pytest.param(2, 3, 16, 4, "instance", True, id="instance-d4"),
    pytest.param(4, 4, 24, 3, "group", True, id="group-d3"),
    pytest.param(1, 8, 32, 5, None, True, id="nonorm-d5-bias"),
    pytest.param(1, 2, 16, 4, "batch", False, id="no-skip"),
]


@pytest.mark.parametrize("c_in, k, base, depth, norm, skip", UNET_CASES)
def test_unet3d_parameters_match_torch_unet(c_in, k, base, depth, norm, skip):
    from companion.models import UNet, count_parameters

    with torch.device("meta"):  # no memory, no initialisation: only the parameter shapes
        net = UNet(c_in, k, dims=3, base_channels=base, depth=depth, norm=norm, skip=skip)
    assert practice.unet3d_parameters(c_in, k, base, depth, norm, skip=skip) == count_parameters(net)


@pytest.mark.parametrize("learner", LEARNERS[:6])
def test_unet_params_answer_is_torch_count(learner):
    from companion.models import UNet, count_parameters

    p = exercise("practice.unet-params", learner=learner).params
    with torch.device("meta"):
        net = UNet(p["c_in"], p["k"], dims=3, base_channels=p["base"], depth=p["depth"],
                   norm=None if p["norm"] == "none" else p["norm"])
    assert answer("practice.unet-params", learner=learner) == count_parameters(net)


def test_two_d_misconception_is_the_2d_unet():
    """The '9 weights per kernel' mistake is exactly the parameter count of the 2-D U-Net... minus its 2-D up-convs."""
    from companion.models import UNet, count_parameters

    with torch.device("meta"):
        net2d = UNet(1, 2, dims=2, base_channels=16, depth=3, norm=None)
        up2d = sum(count_parameters(m) for m in net2d.up_convs) + count_parameters(net2d.head)
        up3d = sum(count_parameters(m) for m in UNet(1, 2, dims=3, base_channels=16, depth=3, norm=None).up_convs)
        head3d = count_parameters(UNet(1, 2, dims=3, base_channels=16, depth=3, norm=None).head)
    wrong = practice.unet3d_parameters(1, 2, 16, 3, None, kernel=(3, 3))
    assert wrong == count_parameters(net2d) - up2d + up3d + head3d


@pytest.mark.parametrize("learner", LEARNERS)
def test_unet_batch_is_largest_that_fits(learner):
    p = exercise("practice.unet-batch", learner=learner).params
    n = answer("practice.unet-batch", learner=learner)
    one_map = torch.empty((1, p["base"], *p["patch"]), dtype=torch.float32, device="meta")
    per_sample = 4 * one_map.numel() * one_map.element_size()
    assert per_sample == practice.first_level_bytes(tuple(p["patch"]), p["base"])
    assert n * per_sample <= p["budget"] * 2**30 < (n + 1) * per_sample


@pytest.mark.parametrize("learner", LEARNERS)
def test_unet_patch_is_smallest_valid_side_holding_the_field(learner):
    from companion.models.unet import bottleneck_receptive_field, unet_output_size

    p = exercise("practice.unet-patch", learner=learner).params
    side, m = answer("practice.unet-patch", learner=learner), 2 ** p["depth"]
    rf = receptive_field(practice.bottleneck_layers(p["depth"], p["convs"]))
    if p["convs"] == 2:  # the U-Net module's own arithmetic (two convolutions per level)
        assert rf == bottleneck_receptive_field(p["depth"]) == 9 * m - 4
    assert unet_output_size(side, p["depth"], "same") == side and side >= rf
    with pytest.raises(ValueError, match="multiple of 2"):
        unet_output_size(side - 1, p["depth"], "same")
    assert side - m < rf


@pytest.mark.parametrize("depth", [2, 3])
def test_bottleneck_layers_match_measured_receptive_field(depth):
    """The (kernel, stride) list gives the support of the bottleneck's gradient in a real 2-D U-Net."""
    from companion.models import UNet
    from companion.models.unet import measure_bottleneck_receptive_field

    torch.manual_seed(0)
    net = UNet(1, 2, dims=2, base_channels=2, depth=depth, norm=None)
    measured = measure_bottleneck_receptive_field(net, trials=2)
    assert measured == (receptive_field(practice.bottleneck_layers(depth)),) * 2


# ---------------------------------------------------------------- problem 2: gradients by hand
_numerical_grad = numerical_vjp  # centred differences of the scalar f in float64


@pytest.mark.parametrize("learner", LEARNERS)
def test_corr_weight_grad_matches_autograd_and_centred_differences(learner):
    p = exercise("practice.corr-weight-grad", learner=learner).params
    x, w, g = (torch.tensor(p[k], dtype=torch.float64).reshape(1, 1, -1) for k in ("x", "w", "g"))
    w.requires_grad_()
    (F.conv1d(x, w, stride=p["s"]) * g).sum().backward()
    ref = answer("practice.corr-weight-grad", learner=learner)
    assert ref == pytest.approx(w.grad[0, 0, p["k"]].item(), abs=1e-12)
    numeric = _numerical_grad(lambda v: float((F.conv1d(x, torch.from_numpy(v), stride=p["s"]) * g).sum()),
                              w.detach().numpy())
    assert abs(numeric[0, 0, p["k"]] - ref) <= 1e-7 * max(1.0, abs(ref))


@pytest.mark.parametrize("learner", LEARNERS)
def test_transposed_grad_matches_autograd_of_strided_conv1d(learner):
    p = exercise("practice.transposed-grad", learner=learner).params
    x = torch.zeros(1, 1, p["n"], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(p["w"], dtype=torch.float64)[None, None]
    y = F.conv1d(x, w, stride=p["s"])
    assert y.shape[-1] == len(p["g"])  # the prompt's g has the output's length
    (y * torch.tensor(p["g"], dtype=torch.float64)).sum().backward()
    assert answer("practice.transposed-grad", learner=learner) == x.grad[0, 0, p["j"]].item()
    # and the whole gradient is torch's transposed convolution of g with w
    up = F.conv_transpose1d(torch.tensor(p["g"], dtype=torch.float64)[None, None], w, stride=p["s"])
    np.testing.assert_array_equal(up[0, 0].numpy(), x.grad[0, 0, :up.shape[-1]].numpy())


# ---------------------------------------------------------------- problem 3: model properties
@pytest.mark.parametrize("op", ["none", "maxpool", "stride2"])
@pytest.mark.parametrize("t", [1, 2, 3, 4])
def test_shift_response_matches_torch_network_and_theory(op, t):
    out, out_shifted = practice.shift_response(op, t)
    from companion.data import phantom_2d

    # the same network written with torch modules (circular padding), same seeded weights
    rng = np.random.default_rng(0)
    w1, w2, w3 = (torch.from_numpy(rng.standard_normal(s)) for s in ((4, 1, 3, 3), (4, 4, 3, 3), (2, 4, 3, 3)))

    def net(x):
        h = torch.relu(F.conv2d(F.pad(x, (1, 1, 1, 1), mode="circular"), w1))
        if op == "maxpool":
            h = F.max_pool2d(h, 2)
        elif op == "stride2":
            h = F.conv2d(F.pad(h, (1, 1, 1, 1), mode="circular"), w2, stride=2)
        return F.conv2d(F.pad(h, (1, 1, 1, 1), mode="circular"), w3)

    x = torch.from_numpy(phantom_2d(32, seed=0)[0].astype(np.float64))[None, None]
    np.testing.assert_allclose(out, net(x).numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out_shifted, net(torch.roll(x, t, dims=-1)).numpy(), rtol=1e-10, atol=1e-10)
    expected = (practice.SHIFT_CHOICES[0] if op == "none" else
                practice.SHIFT_CHOICES[1] if t % 2 == 0 else practice.SHIFT_CHOICES[2])
    params = {"op": op, "t": t}
    assert EXERCISES["practice.equivariance"].solve(params) == expected


def _correlation_sum_per_axis(sigma: float, length: int) -> float:
    """Σ_k ρ(k) for one axis of smoothed white noise = (Σ g)² / Σ g², g the wrapped filter (scipy)."""
    from scipy.ndimage import gaussian_filter1d

    delta = np.zeros(length)
    delta[0] = 1.0
    g = gaussian_filter1d(delta, sigma, mode="wrap")
    return float(g.sum() ** 2 / np.sum(g**2))


@pytest.mark.parametrize("learner", LEARNERS)
def test_bn_batch_is_smallest_batch_meeting_tau(learner):
    p = exercise("practice.bn-batch", learner=learner).params
    n = answer("practice.bn-batch", learner=learner)
    m1 = p["d"] ** 3 / _correlation_sum_per_axis(p["s"], p["d"]) ** 3
    assert 1 / (n * m1) <= p["tau"] ** 2 * (1 + 1e-9)
    assert 1 / ((n - 1) * m1) > p["tau"] ** 2


def test_bn_batch_variance_by_monte_carlo():
    """Var of the batch mean of smoothed noise, measured on 400 seeded maps, is 1/M_eff (small case)."""
    from companion.normalization import effective_sample_size, smoothed_noise

    maps = smoothed_noise(400, (16, 16, 16), 1.5, seed=1)
    measured = maps.mean(axis=(1, 2, 3)).var()
    assert measured == pytest.approx(1 / effective_sample_size((16, 16, 16), 1.5), rel=0.2)


@pytest.mark.parametrize("learner", LEARNERS)
def test_ece_voxels_matches_torchmetrics(learner):
    from torchmetrics.functional.classification import binary_calibration_error

    p = exercise("practice.ece-voxels", learner=learner).params
    conf, correct = np.array(p["conf"]), np.array(p["correct"])
    on_edge = np.isclose(conf[:, None], np.array([0.2, 0.4, 0.6, 0.8])[None]).any(axis=1)

    def tm(c):
        return float(binary_calibration_error(torch.tensor(c), torch.tensor(correct), n_bins=5, norm="l1"))

    top = conf == 1.0  # torchmetrics puts 1.0 in a bin of its own: nudge it into [0.8, 1.0)
    # torchmetrics bins [lo, hi): nudging the edge values down reproduces (lo, hi]
    assert answer("practice.ece-voxels", learner=learner) == pytest.approx(tm(conf - 1e-9 * (on_edge | top)),
                                                                            abs=1e-6)
    left_closed = EXERCISES["practice.ece-voxels"].misconceptions[0]
    assert left_closed.name == "left-closed"
    assert left_closed.value(p) == pytest.approx(tm(conf - 1e-9 * top), abs=1e-6)
