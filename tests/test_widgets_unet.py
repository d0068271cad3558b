"""Headless tests of companion.widgets.unet: pure slice views, the static grid and the viewer."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from companion.train import dice_score  # noqa: E402
from companion.widgets.unet import COLOURS, PANELS, slice_grid, slice_viewer, slice_views  # noqa: E402


@pytest.fixture
def case():
    rng = np.random.default_rng(0)
    image = rng.standard_normal((6, 12, 10)).astype(np.float32)
    truth = np.zeros((6, 12, 10), np.int64)
    truth[2:5, 3:8, 2:7] = 1
    pred = np.roll(truth, 1, axis=2)
    return image, truth, pred


def test_slice_views_counts_and_dice(case):
    image, truth, pred = case
    v = slice_views(image, truth, pred, 3)
    t, p = truth[3] > 0, pred[3] > 0
    assert (v.tp, v.fp, v.fn) == ((t & p).sum(), (p & ~t).sum(), (t & ~p).sum()) == (20, 5, 5)
    np.testing.assert_allclose(v.dice, dice_score(pred[3], truth[3], 2)[0])  # the book's hard Dice
    assert set(v.pictures) == set(PANELS)
    assert all(pic.shape == (12, 10, 3) and 0 <= pic.min() and pic.max() <= 1 for pic in v.pictures.values())
    assert np.isnan(slice_views(image, truth, pred, 0).dice)  # an empty slice


def test_slice_views_colours_and_opacity(case):
    image, truth, pred = case
    v = slice_views(image, truth, pred, 3, opacity=1.0)
    err = v.pictures["errors"]
    np.testing.assert_allclose(err[3, 7], COLOURS["fp"])  # predicted at column 7, not in truth
    np.testing.assert_allclose(err[3, 2], COLOURS["fn"])  # in truth at column 2, missed
    np.testing.assert_allclose(err[3, 4], COLOURS["tp"])
    np.testing.assert_allclose(err[0, 0], v.pictures["image"][0, 0])  # background stays grey
    v0 = slice_views(image, truth, pred, 3, opacity=0.0)
    np.testing.assert_allclose(v0.pictures["errors"], v0.pictures["image"])
    half = slice_views(image, truth, pred, 3, opacity=0.5)
    np.testing.assert_allclose(half.pictures["ground truth"][3, 4],
                               0.5 * half.pictures["image"][3, 4] + 0.5 * COLOURS["truth"])


def test_slice_views_2d_and_axis(case):
    image, truth, pred = case
    v2 = slice_views(image[3], truth[3], pred[3])
    np.testing.assert_allclose(v2.pictures["errors"], slice_views(image, truth, pred, 3).pictures["errors"])
    assert slice_views(image, truth, pred, 4, axis=2).pictures["image"].shape == (6, 12, 3)


BAD = [
    (lambda c: slice_views(c[0], c[1][:3], c[2]), ValueError, r"^truth: expected the image's shape"),
    (lambda c: slice_views(c[0], c[1].astype(float), c[2]), TypeError, r"^truth: expected an integer or boolean"),
    (lambda c: slice_views(c[0], c[1], c[2], 6), ValueError, r"^index: expected a slice in \[0, 5\]"),
    (lambda c: slice_views(c[0], c[1], c[2], opacity=1.5), ValueError, r"^opacity: expected a number in \[0, 1\]"),
    (lambda c: slice_views(c[0][0, 0], c[1][0, 0], c[2][0, 0]), ValueError, r"^image: expected 2 or 3 dims"),
    (lambda c: slice_viewer(c[0], c[1], c[2], axis=3), ValueError, r"^axis: expected 0, 1 or 2"),
]


@pytest.mark.parametrize("call, exc, match", BAD)
def test_slice_views_bad_calls(case, call, exc, match):
    with pytest.raises(exc, match=match):
        call(case)


def test_slice_grid_static_view(case):
    fig = slice_grid(*case)
    assert len(fig.axes) == 3 * 4 and fig.axes[0].get_title() == "image"
    plt.close(fig)
    fig = slice_grid(case[0][3], case[1][3], case[2][3])
    assert len(fig.axes) == 4
    plt.close(fig)


def test_slice_viewer_reacts_to_controls(case):
    ui = slice_viewer(*case)
    state = ui.controller
    assert state.result.index == 3 and state.index.max == 5
    before = state.pictures["errors"].value
    state.opacity.value = 1.0
    assert state.pictures["errors"].value != before
    np.testing.assert_allclose(state.result.pictures["errors"][3, 7], COLOURS["fp"])
    state.index.value = 0
    assert state.result.index == 0 and np.isnan(state.result.dice)
    assert "n/a" in state.caption.value
    state.index.value = 2
    assert state.result.tp == 20 and "Dice 0.800" in state.caption.value


def test_static_explorer(case):
    from _static_check import check_static

    box = slice_viewer(*case, static=True)
    r = check_static(box, alt_words=("opacity",))
    assert box.controller.values["index"] == [0, 1, 2, 3, 4, 5]          # 6 slices: all of them
    assert r["combinations"] == 6 * 3 and r["images"] == 4 * 18
    assert all("image-rendering:pixelated" in leaf.value for leaf in box.controller.leaves)
    flat = slice_viewer(case[0][3], case[1][3], case[2][3], static=True)
    assert check_static(flat)["combinations"] == 3
    assert [w.description for w in flat.controller.fixed] == ["slice"]
