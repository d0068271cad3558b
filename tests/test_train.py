"""Tests of companion.train: hard Dice vs MONAI, deterministic fit, predict, sliding windows vs MONAI."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from companion.data import segmentation_dataset
from companion.models import UNet
from companion.models.losses import get_loss
from companion.train import (
    History,
    dice_score,
    fit,
    gaussian_importance_map,
    pick_device,
    predict,
    predict_logits,
    sliding_window_logits,
    sliding_window_predict,
    window_starts,
)

torch.set_num_threads(1)


# --------------------------------------------------------------------------- dice_score
def monai_dice(pred, target, k, include_background, ignore_empty):
    from monai.metrics import compute_dice

    onehot = lambda a: F.one_hot(torch.as_tensor(a).reshape(1, -1), k).permute(0, 2, 1).float()  # (1, K, P)
    return compute_dice(onehot(pred), onehot(target), include_background=include_background,
                        ignore_empty=ignore_empty).numpy()[0]


rng = np.random.default_rng(0)
DICE_CASES = [  # pred, target, K  (label maps of any shape)
    pytest.param(rng.integers(0, 2, (8, 8)), rng.integers(0, 2, (8, 8)), 2, id="binary-random"),
    pytest.param(rng.integers(0, 4, (2, 5, 6, 7)), rng.integers(0, 4, (2, 5, 6, 7)), 4, id="4-class-3d-batch"),
    pytest.param(np.array([0, 1, 1, 2, 0]), np.array([0, 1, 0, 0, 0]), 4, id="class2-predicted-only-class3-absent"),
    pytest.param(np.zeros((4, 4), int), np.zeros((4, 4), int), 3, id="all-background-nan"),
    pytest.param(np.eye(5, dtype=int), np.eye(5, dtype=int), 2, id="perfect"),
]


@pytest.mark.parametrize("include_background", [False, True])
@pytest.mark.parametrize("pred, target, k", DICE_CASES)
def test_dice_score_matches_monai(pred, target, k, include_background):
    ours = dice_score(pred, target, k, include_background=include_background)
    assert ours.dtype == np.float64 and ours.shape == (k - (0 if include_background else 1),)
    # a class absent from both maps: nan for us; MONAI gives nan only with ignore_empty=True
    both_absent = np.array([not (pred == c).any() and not (target == c).any()
                            for c in range(0 if include_background else 1, k)])
    np.testing.assert_array_equal(np.isnan(ours), both_absent)
    ref = monai_dice(pred, target, k, include_background, ignore_empty=False)
    np.testing.assert_allclose(ours[~both_absent], ref[~both_absent], rtol=1e-6)
    assert np.all(np.isnan(monai_dice(pred, target, k, include_background, ignore_empty=True)[both_absent]))


def test_dice_score_by_hand():
    # |P1| = 2, |G1| = 1, overlap 1 -> 2/3; class 2 predicted once, absent from target -> 0; class 3 -> nan
    d = dice_score(np.array([0, 1, 1, 2]), torch.tensor([0, 1, 0, 0]), 4)
    np.testing.assert_allclose(d[:2], [2 / 3, 0.0])
    assert np.isnan(d[2])
    np.testing.assert_allclose(dice_score(np.array([0, 1, 1, 0]), np.array([0, 1, 1, 1]), 2, include_background=True),
                               [2 * 1 / 3, 2 * 2 / 5])


DICE_BAD = [
    (lambda: dice_score(np.zeros(3), np.zeros(3, int), 2), TypeError, r"^pred: expected an integer label map"),
    (lambda: dice_score(np.zeros(3, int), np.zeros(4, int), 2), ValueError, r"^target: expected the shape of pred"),
    (lambda: dice_score(np.array([0, 2]), np.array([0, 1]), 2), ValueError, r"^pred: expected labels in \[0, 2\)"),
    (lambda: dice_score(np.array([0, 1]), np.array([-1, 1]), 2), ValueError, r"^target: expected labels"),
    (lambda: dice_score(np.array([0]), np.array([0]), 1), ValueError, r"^num_classes: expected >= 2"),
]


@pytest.mark.parametrize("call, exc, match", DICE_BAD)
def test_dice_score_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --------------------------------------------------------------------------- fit
@pytest.fixture(scope="module")
def tiny_data():
    return segmentation_dataset(6, 16, seed=0), segmentation_dataset(3, 16, seed=1)


def tiny_fit(data, seed=0, model_seed=0, **kw):
    torch.manual_seed(model_seed)
    net = UNet(1, 2, base_channels=4, depth=1)
    kw = dict(epochs=2, batch_size=4, progress=False) | kw
    return net, fit(net, data[0], data[1], seed=seed, **kw)


def test_fit_is_deterministic_on_cpu(tiny_data):
    net_a, h_a = tiny_fit(tiny_data)
    net_b, h_b = tiny_fit(tiny_data)
    assert h_a == h_b and h_a.train_loss == h_b.train_loss and h_a.val_dice == h_b.val_dice
    for p, q in zip(net_a.parameters(), net_b.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    _, h_c = tiny_fit(tiny_data, seed=1)  # another shuffling order changes the losses
    assert h_c.train_loss != h_a.train_loss
    # determinism is switched on only during the fit
    assert not torch.are_deterministic_algorithms_enabled()


def test_fit_history_fields(tiny_data):
    _, h = tiny_fit(tiny_data, epochs=3, loss="ce")
    assert isinstance(h, History)
    assert len(h.train_loss) == len(h.val_dice) == len(h.seconds) == 3
    assert h.seed == 0 and h.device == "cpu" and h.loss == "ce" and h.epochs == 3
    assert all(0 <= d <= 1 for d in h.val_dice)


def test_fit_uses_the_book_losses(tiny_data):
    # the first recorded loss equals the book's loss on the first batches, evaluated before each step
    calls = []
    ce = get_loss("ce")

    def recording(logits, target):
        value = ce(logits, target)
        calls.append(float(value.detach()))
        return value

    _, h = tiny_fit(tiny_data, epochs=1, loss=recording, batch_size=4)
    assert len(calls) == 2  # 6 samples in batches of 4 -> 2 steps
    np.testing.assert_allclose(h.train_loss[0], (4 * calls[0] + 2 * calls[1]) / 6, rtol=1e-12)


def test_fit_reduces_loss_and_learns(tiny_data):
    _, h = tiny_fit(tiny_data, epochs=6, lr=1e-2)
    assert h.train_loss[-1] < 0.8 * h.train_loss[0]


def test_fit_valid_padding_crops_labels():
    data = segmentation_dataset(2, 28, seed=0)
    torch.manual_seed(0)
    net = UNet(1, 2, base_channels=2, depth=1, norm=None, padding="valid")  # 28 -> 12
    h = fit(net, data, data, epochs=1, batch_size=2, progress=False)
    assert np.isfinite(h.train_loss[0])


def test_pick_device_prefers_cuda(monkeypatch):
    assert pick_device("cpu").type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device(None).type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device(None).type == "cuda"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here: the GPU path runs where one is")
def test_fit_and_predict_on_cuda_follow_the_cpu_path(tiny_data):
    # the same code path on both devices: same history fields, a model left on CUDA, and
    # losses equal to the CPU run up to floating-point reordering (cuDNN sums in another order)
    torch.backends.cudnn.benchmark = False
    net_gpu, h_gpu = tiny_fit(tiny_data, epochs=3, device="cuda")
    net_cpu, h_cpu = tiny_fit(tiny_data, epochs=3, device="cpu")
    assert h_gpu.device.startswith("cuda") and h_cpu.device == "cpu"
    assert next(net_gpu.parameters()).device.type == "cuda"
    np.testing.assert_allclose(h_gpu.train_loss, h_cpu.train_loss, rtol=1e-3)
    image = tiny_data[1][0][0]
    assert (predict(net_gpu, image, device="cuda") == predict(net_cpu, image, device="cpu")).mean() > 0.99


FIT_BAD = [
    (lambda d: fit("net", d[0]), TypeError, r"^model: expected a torch.nn.Module"),
    (lambda d: fit(nn.Conv2d(1, 2, 1), d[0], epochs=0), ValueError, r"^epochs: expected an int >= 1"),
    (lambda d: fit(nn.Conv2d(1, 2, 1), d[0], lr=-1.0), ValueError, r"^lr: expected a finite number > 0"),
    (lambda d: fit(nn.Conv2d(1, 2, 1), [], progress=False), ValueError, r"^train_set: expected at least one sample"),
    (lambda d: fit(nn.Conv2d(1, 2, 1), 3), TypeError, r"^train_set: expected a map-style Dataset"),
    (lambda d: fit(nn.Conv2d(1, 2, 1), d[0], loss="focal"), ValueError, r"^loss: expected 'ce', 'composite', 'dice' or a callable.*'focal'"),
]


@pytest.mark.parametrize("call, exc, match", FIT_BAD)
def test_fit_bad_calls(tiny_data, call, exc, match):
    with pytest.raises(exc, match=match):
        call(tiny_data)


# --------------------------------------------------------------------------- predict
def test_predict_shapes_and_argmax():
    torch.manual_seed(0)
    net = UNet(1, 3, base_channels=4, depth=1).train()
    x = torch.randn(2, 1, 8, 8)
    net.eval()
    with torch.no_grad():
        expected = net(x).argmax(1).numpy()
    net.train()
    out = predict(net, x)
    assert out.dtype == np.int64 and out.shape == (2, 8, 8)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(predict(net, x[1].numpy()), expected[1])  # (C, *S) -> (*S), NumPy in
    assert net.training  # mode restored
    assert predict_logits(net, x[0]).shape == (3, 8, 8)


def test_predict_bad_input():
    net = nn.Conv2d(1, 2, 1)
    with pytest.raises(ValueError, match=r"^image: expected \(C, \*S\) or \(N, C, \*S\) with 2 spatial dims"):
        predict(net, np.zeros((8,), np.float32))
    with pytest.raises(TypeError, match=r"^image: expected a NumPy array or a torch.Tensor"):
        predict(net, [[0.0]])
    with pytest.raises(TypeError, match=r"^image: expected a float array"):
        predict(net, np.zeros((1, 4, 4), int))
    unet = UNet(1, 2, base_channels=2, depth=2)  # "same" padding: sizes divisible by 4
    with pytest.raises(ValueError, match=r"^image: input size 15: expected a multiple of 2\*\*depth = 4"):
        predict(unet, np.zeros((1, 15, 16), np.float32))


# --------------------------------------------------------------------------- sliding windows
@pytest.mark.parametrize("shape, roi, overlap", [
    pytest.param((1, 23, 31), (8, 8), 0.5, id="2d"),
    pytest.param((2, 9, 20, 17), (4, 8, 8), 0.25, id="3d-2ch"),
    pytest.param((1, 10, 12, 12), (10, 6, 5), 0.6, id="3d-roi-equals-axis"),
])
def test_sliding_window_equals_whole_volume_for_pointwise_model(shape, roi, overlap):
    # a 1x1 convolution is exactly translation-equivariant: blending windows changes nothing
    torch.manual_seed(0)
    net = (nn.Conv2d if len(shape) == 3 else nn.Conv3d)(shape[0], 3, 1)
    vol = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(sliding_window_logits(net, vol, roi, overlap=overlap), predict_logits(net, vol),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(sliding_window_predict(net, vol, roi, overlap=overlap), predict(net, vol))


@pytest.mark.parametrize("gaussian", [True, False])
@pytest.mark.parametrize("shape, roi, overlap", [
    pytest.param((1, 1, 30, 27), (12, 12), 0.5, id="2d"),
    pytest.param((2, 1, 10, 21, 19), (6, 8, 8), 0.25, id="3d"),
    pytest.param((1, 1, 16, 40), (16, 10), 0.7, id="2d-roi-equals-axis"),
])
def test_sliding_window_matches_monai(shape, roi, overlap, gaussian):
    # a 3x3 zero-padded convolution is NOT equivariant at window borders, so the blending weights matter
    from monai.inferers import sliding_window_inference

    torch.manual_seed(0)
    net = (nn.Conv2d if len(shape) == 4 else nn.Conv3d)(1, 2, 3, padding=1)
    vol = torch.randn(shape)
    with torch.no_grad():
        ref = sliding_window_inference(vol, roi, 4, net, overlap=overlap,
                                       mode="gaussian" if gaussian else "constant").numpy()
        whole = net(vol).numpy()
    ours = sliding_window_logits(net, vol, roi, overlap=overlap, gaussian=gaussian)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    assert np.abs(ours - whole).max() > 1e-3  # the case can tell blending schemes apart


@pytest.mark.parametrize("roi", [(8,), (12, 7), (5, 6, 9)])
def test_gaussian_importance_map_matches_monai(roi):
    from monai.data.utils import compute_importance_map

    ref = compute_importance_map(roi, mode="gaussian", sigma_scale=0.125).numpy()
    np.testing.assert_allclose(gaussian_importance_map(roi), ref, rtol=1e-6)


@pytest.mark.parametrize("size, roi, overlap", [(10, 4, 0.5), (31, 8, 0.5), (20, 20, 0.5), (17, 5, 0.25), (9, 3, 0.9)])
def test_window_starts_match_monai(size, roi, overlap):
    from monai.data.utils import dense_patch_slices
    from monai.inferers.utils import _get_scan_interval

    interval = _get_scan_interval((size,), (roi,), 1, (overlap,))
    ref = sorted({s[0].start for s in dense_patch_slices((size,), (roi,), interval)})
    assert window_starts(size, roi, overlap) == ref


SW_BAD = [
    (lambda: sliding_window_predict(UNet(1, 2, base_channels=2, depth=2), np.zeros((1, 16, 16), np.float32), (6, 6)),
     ValueError, r"^roi_size: the model refuses a window of \(6, 6\): input size 6: expected a multiple of 2\*\*depth = 4"),
    (lambda: gaussian_importance_map((8, 8), sigma_scale=0.0), ValueError, r"^sigma_scale: expected a finite number > 0"),
    (lambda: gaussian_importance_map((8, 0)), ValueError, r"^roi_size: expected an int >= 1"),
    (lambda: window_starts(4, 8, 0.5), ValueError, r"^roi: expected at most size = 4, got 8"),
    (lambda: window_starts(8, 4, 1.5), ValueError, r"^overlap: expected a number in \[0, 1\)"),
    (lambda: sliding_window_logits(nn.Conv2d(1, 2, 1), np.zeros((1, 8, 8), np.float32), (9, 8)), ValueError,
     r"^roi_size: expected each size <= the volume's \(8, 8\)"),
    (lambda: sliding_window_logits(nn.Conv2d(1, 2, 1), np.zeros((1, 8, 8), np.float32), (4, 4), overlap=1.0),
     ValueError, r"^overlap: expected a number in \[0, 1\)"),
    (lambda: sliding_window_logits(nn.Conv2d(1, 2, 1), np.zeros((1, 8, 8), np.float32), (4, 4, 4)), ValueError,
     r"^roi_size: expected 2 sizes"),
    (lambda: sliding_window_logits(nn.Conv2d(1, 2, 3), np.zeros((1, 8, 8), np.float32), (4, 4)), ValueError,
     r"^model: expected logits of the window's size"),
]


@pytest.mark.parametrize("call, exc, match", SW_BAD)
def test_sliding_window_bad_calls(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_fit_progress_bar_goes_to_stderr(tiny_data, capsys):
    _, h = tiny_fit(tiny_data, epochs=2, progress=True)
    err = capsys.readouterr().err
    # a tqdm bar over the 2 epochs: "fit:   0%|   | 0/2 [..., dice=..., loss=<last train loss>]"
    assert re.search(r"fit: +\d+%\|.*\| \d/2 \[", err), err
    assert f"loss={h.train_loss[-1]:.4f}" in err and f"dice={h.val_dice[-1]:.3f}" in err
    tiny_fit(tiny_data, epochs=1, progress=False)
    assert capsys.readouterr().err == ""
