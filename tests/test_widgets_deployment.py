"""companion.widgets.deployment: the seeded shifts against hand formulas, z-score invariance, and the
widget driven headlessly with a fixed, hand-set threshold model (no training)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from companion.data import phantom_2d  # noqa: E402
from companion.train import AugmentedDataset, dice_score, predict, predict_resampled, predict_tta  # noqa: E402
from companion.widgets.deployment import (SHIFTS, shift_grid, shift_image, shift_widget,  # noqa: E402
                                          shifted_prediction, zscore)


def threshold_model(level: float = 0.75) -> torch.nn.Module:
    """A fixed 1x1 'segmenter': lesion where x > level (z_1 - z_0 = 20 (x - level))."""
    net = torch.nn.Conv2d(1, 2, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([-10.0, 10.0]).reshape(2, 1, 1, 1))
        net.bias.copy_(torch.tensor([10.0 * level, -10.0 * level]))
    return net.eval()


@pytest.fixture(scope="module")
def case():
    return phantom_2d(48, n_lesions=2, seed=3)


# ---------------------------------------------------------------- the shifts live in companion.intensity
def test_shift_functions_are_reexported():
    import companion.intensity as intensity

    assert shift_image is intensity.shift_image and zscore is intensity.zscore and SHIFTS is intensity.SHIFTS


def test_training_helpers_live_in_models_train_and_are_reexported():
    import companion.models.train as train
    import companion.widgets.deployment as widget

    for name in ("AugmentedDataset", "predict_resampled", "predict_tta"):
        assert getattr(widget, name) is getattr(train, name)


# ---------------------------------------------------------------- prediction under shift
def test_shifted_prediction_scores_its_own_prediction(case):
    image, mask = case
    net = threshold_model()
    r0 = shifted_prediction(net, image, mask, "gain", 0.0)
    np.testing.assert_array_equal(r0.pred, (image > 0.75).astype(np.int64))  # the threshold, by hand
    assert r0.dice == pytest.approx(dice_score(r0.pred, mask, 2)[0]) and r0.dice > 0.9
    r1 = shifted_prediction(net, image, mask, "gain", 1.0)
    assert r1.dice < r0.dice - 0.1  # the body (0.45 -> 0.9) crosses the threshold
    rz = shifted_prediction(net, image, mask, "spacing", 1.0, normalise=True)
    np.testing.assert_array_equal(rz.pred, predict(net, zscore(rz.image)[None]))


def test_static_grid(case):
    image, mask = case
    fig = shift_grid(threshold_model(), image, mask, [("gain", 0.0), ("blur", 1.0), ("spacing", 1.0)])
    assert len(fig.axes) == 6
    assert "Dice" in fig.axes[0].get_title()


def test_widget_updates_on_controls(case):
    image, mask = case
    ui = shift_widget(threshold_model(), image, mask).controller
    before, png = ui.result, ui.pictures["prediction"].value
    assert before.kind == "gain" and before.strength == 0.0
    ui.strength.value = 1.0
    assert ui.result.dice < before.dice - 0.1 and ui.pictures["prediction"].value != png
    ui.kind.value = "spacing"
    assert ui.result.kind == "spacing" and ui.result.image.shape == (24, 24)
    assert ui.result.dice == pytest.approx(dice_score(ui.result.pred, ui.result.mask, 2)[0])
    assert "Dice" in ui.caption.value and ui.last_update_s > 0


# ---------------------------------------------------------------- test-time remedies
def test_predict_resampled_restores_the_training_scale(case):
    # the phantom at half resolution (2 mm pixels for a model trained at 1 mm): resampled up, predicted,
    # and read back on the 2 mm grid
    image, mask = case
    net = threshold_model()
    small, small_mask = shift_image(image, mask, "spacing", 1.0, multiple=1)      # 24x24 at 2 mm
    pred = predict_resampled(net, small, (2.0, 2.0), (1.0, 1.0))
    assert pred.shape == small.shape and pred.dtype == np.int64
    # identity spacing: exactly the plain prediction
    np.testing.assert_array_equal(predict_resampled(net, image, (1.0, 1.0), (1.0, 1.0)), predict(net, image[None]))
    # by hand: resample up with companion.geometry, threshold, take every second pixel
    from companion.geometry import resample

    up = resample(small, (2.0, 2.0), (1.0, 1.0))
    np.testing.assert_array_equal(pred, (up > 0.75).astype(np.int64)[::2, ::2][: small.shape[0], : small.shape[1]])


def test_predict_resampled_helps_a_scale_dependent_model(case):
    # a model that has learnt a size: lesion where a 5x5 box mean is bright (only blobs of >= 5 px).
    image, mask = phantom_2d(64, n_lesions=3, seed=2)
    net = torch.nn.Conv2d(1, 2, 5, padding=2, bias=True)
    with torch.no_grad():
        net.weight.zero_()
        net.weight[1] = 1 / 25
        net.bias.copy_(torch.tensor([0.0, -0.8]))
    small, small_mask = shift_image(image, mask, "spacing", 1.0, multiple=1)
    plain = dice_score(predict(net, small[None]), small_mask, 2)[0]
    fixed = dice_score(predict_resampled(net, small, (2.0, 2.0), (1.0, 1.0)), small_mask, 2)[0]
    assert fixed > plain + 0.1


def test_predict_tta_averages_flipped_predictions(case):
    image, _ = case
    x = np.stack([image, image.T])[:, None].astype(np.float32)
    sym = threshold_model()                           # 1x1 conv: flip-equivariant -> TTA changes nothing
    from companion.losses import softmax
    from companion.train import predict_logits

    np.testing.assert_allclose(predict_tta(sym, x), softmax(predict_logits(sym, x).astype(np.float64)), atol=1e-6)
    torch.manual_seed(0)
    net = torch.nn.Conv2d(1, 2, 3, padding=1).eval()  # not flip-equivariant: average of the four by hand
    by_hand = 0
    for axes in ((), (2,), (3,), (2, 3)):
        z = net(torch.from_numpy(np.flip(x, axes).copy())).detach().double().softmax(1).numpy()
        by_hand = by_hand + np.flip(z, axes) / 4
    p = predict_tta(net, x)
    np.testing.assert_allclose(p, by_hand, atol=1e-6)
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-12)


def test_augmented_dataset_is_seeded_fresh_per_item_and_normalises():
    from companion.data import segmentation_dataset
    from companion.intensity import augment

    base = segmentation_dataset(3, 16, seed=0)
    a, b = AugmentedDataset(base, seed=5), AugmentedDataset(base, seed=5)
    first = [a[i] for i in (0, 1, 0)]
    np.testing.assert_array_equal(first[0][0].numpy(), b[0][0].numpy())          # same seed, same draws
    assert not np.array_equal(first[0][0].numpy(), first[2][0].numpy())            # a fresh draw each time
    # by hand: the same generator sequence through companion.intensity.augment
    rng = np.random.default_rng(5)
    x0, y0 = augment(base[0][0].numpy()[0], base[0][1].numpy(), rng)
    np.testing.assert_array_equal(first[0][0].numpy()[0], x0)
    np.testing.assert_array_equal(first[0][1].numpy(), y0)
    assert first[0][0].dtype == torch.float32 and first[0][1].dtype == base[0][1].dtype and len(a) == 3
    z = AugmentedDataset(base, seed=1, normalise=True)[2][0].numpy()
    assert abs(z.mean()) < 1e-5 and abs(z.std() - 1) < 1e-4


# ---------------------------------------------------------------- bad calls
_IMG, _MASK = np.zeros((16, 16), np.float32), np.zeros((16, 16), np.int64)
BAD_CALLS = [
    pytest.param(lambda: shift_image(_IMG, _MASK, "contrast", 0.5), ValueError, r"^kind: expected one of", id="kind"),
    pytest.param(lambda: shift_image(_IMG, _MASK, "noise", 1.5), ValueError, r"^strength: expected a number in \[0, 1\]", id="strength"),
    pytest.param(lambda: shift_image(_IMG, _MASK, "noise", "high"), ValueError, r"^strength: expected a number", id="strength-str"),
    pytest.param(lambda: shift_image(_IMG[None], _MASK, "noise", 0.5), ValueError, r"^image: expected 2 dims", id="image-ndim"),
    pytest.param(lambda: shift_image(_IMG, _MASK[:8], "noise", 0.5), ValueError, r"^mask: expected the image's shape", id="mask-shape"),
    pytest.param(lambda: shift_image(_IMG, _MASK.astype(float), "noise", 0.5), TypeError, r"^mask: expected an integer", id="mask-float"),
    pytest.param(lambda: shift_image(_IMG, _MASK, "noise", 0.5, seed=-1), ValueError, r"^seed: expected an int >= 0", id="seed"),
    pytest.param(lambda: zscore("image"), TypeError, r"^image: expected a float array", id="zscore-str"),
    pytest.param(lambda: shift_widget("net", _IMG, _MASK), TypeError, r"^model: expected a torch.nn.Module", id="widget-model"),
    pytest.param(lambda: predict_resampled(threshold_model(), _IMG, (0.0, 1.0), (1.0, 1.0)), ValueError, r"^spacing: expected two spacings > 0", id="resampled-spacing"),
    pytest.param(lambda: predict_resampled(threshold_model(), _IMG, (1.0, 1.0), (1.0,)), ValueError, r"^train_spacing: expected two", id="resampled-train"),
    pytest.param(lambda: predict_tta(threshold_model(), _IMG), ValueError, r"^images: expected 4 dims", id="tta-ndim"),
    pytest.param(lambda: predict_tta("net", _IMG[None, None]), TypeError, r"^model: expected a torch.nn.Module", id="tta-model"),
    pytest.param(lambda: AugmentedDataset(5, seed=0), TypeError, r"^dataset: expected a sequence", id="aug-dataset"),
    pytest.param(lambda: AugmentedDataset([], seed=0, p_noise=2), ValueError, r"^p_noise: expected a probability", id="aug-kwargs"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_calls(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_static_explorer(case):
    from _static_check import check_static

    image, mask = case
    box = shift_widget(threshold_model(), image, mask, static=True)
    r = check_static(box, alt_words=("shift of strength",))
    assert r["combinations"] == len(SHIFTS) * 5 and r["images"] == 3 * r["combinations"]
