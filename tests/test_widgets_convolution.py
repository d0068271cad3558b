"""Headless tests of companion.widgets.convolution: the pure demo, the static views and the widget.

Oracles: ``torch.nn.functional.conv2d`` (the correlation), ``scipy.ndimage`` (Sobel, Laplacian
with constant zero borders) and hand-checkable sums of products on tiny images.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

from companion.widgets.convolution import (
    KERNELS,
    ConvDemo,
    convolution_demo,
    convolution_grid,
    convolution_widget,
    draw_demo,
    make_kernel,
    parse_kernel,
)


def torch_correlate(image, kernel, **kw):
    x = torch.from_numpy(np.asarray(image, dtype=np.float64))[None, None]
    w = torch.from_numpy(np.asarray(kernel, dtype=np.float64))[None, None]
    return F.conv2d(x, w, **kw)[0, 0].numpy()


IMAGE = np.random.default_rng(0).standard_normal((13, 11))

DEMO_CASES = [  # kernel, padding, stride, dilation, position
    pytest.param("box", 0, 1, 1, (0, 0), id="box-valid"),
    pytest.param("gaussian", 2, 1, 1, (6, 5), id="gauss-same"),
    pytest.param("sobel_x", 1, 2, 1, (0, 3), id="sobel-stride-border"),  # reads the padding
    pytest.param("sobel_y", 2, 1, 2, (-1, -1), id="sobel-dilation-last"),
    pytest.param("laplacian", 3, 3, 2, (2, 1), id="lap-all"),
    pytest.param(np.arange(6.0).reshape(2, 3), 1, 1, 1, (4, 4), id="asymmetric-array"),  # a flip would show
]


@pytest.mark.parametrize("kernel, padding, stride, dilation, position", DEMO_CASES)
def test_convolution_demo_matches_torch_and_terms_sum_to_value(kernel, padding, stride, dilation, position):
    demo = convolution_demo(IMAGE, kernel, padding=padding, stride=stride, dilation=dilation,
                            position=position)
    k = make_kernel(kernel)
    expected = torch_correlate(IMAGE, k, padding=padding, stride=stride, dilation=dilation)
    np.testing.assert_allclose(demo.output, expected, rtol=1e-10, atol=1e-10)
    assert demo.output.dtype == np.float64
    assert demo.size == expected.shape == demo.formula_size
    i, j = (p % n for p, n in zip(position, expected.shape))
    assert demo.position == (i, j)
    assert demo.value == pytest.approx(expected[i, j], abs=1e-12)
    assert demo.terms_sum == pytest.approx(demo.value, abs=1e-10)
    assert len(demo.terms) == k.size
    # each term reads the input where the dilated, strided kernel tap lands (0 on the padding)
    for (wt, x, r, c), (u, v) in zip(demo.terms, np.ndindex(k.shape)):
        assert wt == k[u, v]
        assert (r, c) == (stride * i + dilation * u - padding, stride * j + dilation * v - padding)
        inside = 0 <= r < IMAGE.shape[0] and 0 <= c < IMAGE.shape[1]
        assert x == (IMAGE[r, c] if inside else 0.0)


def test_convolution_demo_by_hand_and_keeps_float32():
    img = np.arange(16, dtype=np.float32).reshape(4, 4)
    demo = convolution_demo(img, "box", position=(1, 1))
    # window rows 1-3, cols 1-3 of 0..15: mean of 5, 6, 7, 9, 10, 11, 13, 14, 15 = 10
    assert demo.value == pytest.approx(10.0, rel=1e-6)
    assert demo.output.dtype == np.float32
    assert "= 10" in demo.expression()


def test_padding_taps_read_zero():
    demo = convolution_demo(np.full((5, 5), 7.0), "box", padding=1, position=(0, 0))
    outside = [x for _, x, r, c in demo.terms if r < 0 or c < 0]
    assert len(outside) == 5 and all(x == 0.0 for x in outside)
    assert demo.value == pytest.approx(7.0 * 4 / 9)  # 4 of 9 taps on the image


@pytest.mark.parametrize("name, scipy_filter", [
    pytest.param("sobel_x", lambda a: ndimage.sobel(a, axis=1, mode="constant"), id="sobel-x"),
    pytest.param("sobel_y", lambda a: ndimage.sobel(a, axis=0, mode="constant"), id="sobel-y"),
    pytest.param("laplacian", lambda a: ndimage.laplace(a, mode="constant"), id="laplacian"),
    pytest.param("box", lambda a: ndimage.uniform_filter(a, 3, mode="constant"), id="box"),
])
def test_named_kernels_match_scipy_ndimage(name, scipy_filter):
    demo = convolution_demo(IMAGE, name, padding=1)
    np.testing.assert_allclose(demo.output, scipy_filter(IMAGE), rtol=1e-10, atol=1e-10)


def test_gaussian_kernel_normalised_and_symmetric():
    g = KERNELS["gaussian"]
    assert g.shape == (5, 5)
    assert g.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(g, g.T)
    np.testing.assert_allclose(g, g[::-1, ::-1])


def test_make_kernel_returns_copies():
    k = make_kernel("box")
    k[:] = 0
    assert make_kernel("box").sum() == pytest.approx(1.0)


@pytest.mark.parametrize("text, expected", [
    pytest.param("1 0 -1; 2 0 -2; 1 0 -1", [[1, 0, -1], [2, 0, -2], [1, 0, -1]], id="semicolons"),
    pytest.param("1,2\n3,4", [[1, 2], [3, 4]], id="commas-newline"),
    pytest.param("1/9 1/9", [[1 / 9, 1 / 9]], id="fractions"),
    pytest.param("  0.5  ;  -2e-1 ", [[0.5], [-0.2]], id="column"),
])
def test_parse_kernel(text, expected):
    np.testing.assert_allclose(parse_kernel(text), expected)


# ------------------------------------------------------------------------------------------
# Static views
# ------------------------------------------------------------------------------------------

def test_static_views_build_figures():
    import matplotlib.pyplot as plt

    fig = convolution_grid(IMAGE)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 6
    assert any("s=2" in t and "7×6 (formula 7×6)" in t for t in titles)  # (13+2-3)//2+1, (11+2-3)//2+1
    plt.close(fig)
    fig = draw_demo(convolution_demo(IMAGE, "sobel_x", padding=1, position=(3, 4)), IMAGE)
    assert len(fig.axes) == 2
    assert "11" in fig.axes[0].get_title()


def test_static_views_show_ct_through_a_window():
    """With window=..., HU-preserving panels and the demo's input are drawn through the CT window."""
    import matplotlib.pyplot as plt

    from companion.intensity import apply_window

    hu = np.linspace(-1200.0, 400.0, 13 * 11).reshape(13, 11)
    fig = convolution_grid(hu, window="lung")
    images = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    np.testing.assert_allclose(images[0].get_array(), apply_window(hu[1:-1, 1:-1], "lung"))  # identity, p=0
    assert images[0].get_clim() == (0.0, 1.0)
    assert images[2].get_clim() != (0.0, 1.0)  # Sobel-x: HU per pixel, automatic scale
    plt.close(fig)
    fig = draw_demo(convolution_demo(hu, "sobel_x", padding=1, position=(3, 4)), hu, window="soft tissue")
    np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array(), apply_window(hu, "soft tissue"))


# ------------------------------------------------------------------------------------------
# The widget, headless
# ------------------------------------------------------------------------------------------

@pytest.fixture
def state():
    img = np.random.default_rng(1).standard_normal((20, 24))
    return convolution_widget(img, kernel="box").controller


def test_widget_initial_state(state):
    assert state.error == ""
    assert isinstance(state.result, ConvDemo)
    assert state.result.size == (20, 24)  # box 3x3 with padding 1 keeps the size
    assert state.input_picture.value[:4] == b"\x89PNG"
    assert "20&times;24" in state.output_caption.value


def test_widget_kernel_change_updates_output(state):
    before = state.result.output.copy()
    state.kernel.value = "laplacian"
    np.testing.assert_allclose(state.result.output, torch_correlate(state.image, KERNELS["laplacian"], padding=1),
                               rtol=1e-10, atol=1e-10)
    assert not np.allclose(state.result.output, before)


def test_widget_stride_dilation_change_size_and_clamp_position(state):
    state.row.value, state.col.value = 19, 23
    state.stride.value = 2
    assert state.result.size == state.result.formula_size == (10, 12)
    assert state.row.max == 9 and state.col.max == 11
    assert state.result.position == (9, 11)
    state.dilation.value = 3  # extent 7: (20 + 2 - 7)//2 + 1 = 8, (24 + 2 - 7)//2 + 1 = 10
    assert state.result.size == (8, 10)
    expected = torch_correlate(state.image, KERNELS["box"], padding=1, stride=2, dilation=3)
    np.testing.assert_allclose(state.result.output, expected, rtol=1e-10, atol=1e-10)


def test_widget_position_change_explains_that_value(state):
    state.kernel.value = "sobel_x"
    state.row.value, state.col.value = 7, 3
    expected = torch_correlate(state.image, KERNELS["sobel_x"], padding=1)[7, 3]
    assert state.result.position == (7, 3)
    assert state.result.value == pytest.approx(expected, abs=1e-12)
    assert state.result.terms_sum == pytest.approx(expected, abs=1e-12)
    assert f"{expected:.6g}" in state.text.value


def test_widget_custom_kernel_and_bad_text(state):
    state.custom.value = "0 0; 0 1"
    state.kernel.value = "custom"
    np.testing.assert_allclose(state.result.kernel, [[0, 0], [0, 1]])
    assert state.result.size == (21, 25)  # 20 + 2 - 2 + 1
    good = state.result
    state.custom.value = "1 x"
    assert state.error.startswith("text: expected numbers")
    assert state.result is good  # the last good result stays on screen
    state.custom.value = "1 2"
    assert state.error == "" and state.result.kernel.shape == (1, 2)


def test_widget_reports_kernel_too_large(state):
    state.padding.value = 0
    state.kernel.value = "gaussian"
    state.dilation.value = 4  # extent 17 fits 20 x 24
    assert state.error == ""
    state.stride.value = 1
    state.custom.value = " ".join(["1"] * 30)  # 1 x 30 kernel: wider than 24 + 0
    state.kernel.value = "custom"
    assert state.error.startswith("kernel: expected a (dilated) kernel no larger")


def test_widget_update_time_recorded(state):
    state.kernel.value = "gaussian"
    assert 0 < state.last_update_s < 5  # recorded, not a timing assertion: the limit is generous


# ------------------------------------------------------------------------------------------
# Bad calls
# ------------------------------------------------------------------------------------------

BAD_CALLS = [
    pytest.param(lambda: convolution_demo(np.ones(5), "box"), ValueError, r"^image: expected 2 dims", id="image-1d"),
    pytest.param(lambda: convolution_demo(np.ones((5, 5)), "sharpen"), ValueError, r"^kernel: expected one of", id="kernel-name"),
    pytest.param(lambda: convolution_demo(np.ones((5, 5)), "custom"), ValueError, r"^custom: expected the kernel's numbers", id="custom-missing"),
    pytest.param(lambda: convolution_demo(np.ones((5, 5)), np.ones(3)), ValueError, r"^kernel: expected 2 dims", id="kernel-1d"),
    pytest.param(lambda: convolution_demo(np.ones((5, 5)), "box", stride=0), ValueError, r"^stride: expected an int >= 1", id="stride-0"),
    pytest.param(lambda: convolution_demo(np.ones((5, 5)), "box", padding=-1), ValueError, r"^padding: expected an int >= 0", id="padding-neg"),
    pytest.param(lambda: convolution_demo(np.ones((5, 5)), "box", position=(3, 0)), ValueError, r"^position: expected an index inside the output of shape \(3, 3\)", id="position-out"),
    pytest.param(lambda: convolution_demo(np.ones((5, 5)), "box", position=3), ValueError, r"^position: expected \(i, j\)", id="position-int"),
    pytest.param(lambda: convolution_demo(np.ones((5, 5)), "gaussian", dilation=2), ValueError, r"^kernel: expected a \(dilated\) kernel no larger", id="too-large"),
    pytest.param(lambda: parse_kernel("1 2; 3"), ValueError, r"^text: expected rows of equal length", id="ragged"),
    pytest.param(lambda: parse_kernel(""), ValueError, r"^text: expected at least one row", id="empty"),
    pytest.param(lambda: parse_kernel("1/0"), ValueError, r"^text: expected numbers, got '1/0'", id="div-zero"),
    pytest.param(lambda: parse_kernel(3), TypeError, r"^text: expected a string", id="not-text"),
    pytest.param(lambda: convolution_widget(np.ones((8, 8)), kernel="nope"), ValueError, r"^kernel: expected one of", id="widget-kernel"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD_CALLS)
def test_bad_calls_raise_named_errors(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_widget_shows_a_ct_input_through_a_window():
    from companion.intensity import window_bounds
    ui = convolution_widget(np.linspace(-1000, 1000, 64 * 64).reshape(64, 64), window="lung")
    state = ui.controller
    assert (state._lo, state._hi) == window_bounds(center=-600.0, width=1500.0)
    default = convolution_widget(np.linspace(-1000, 1000, 64 * 64).reshape(64, 64)).controller
    assert (default._lo, default._hi) != (state._lo, state._hi)   # percentiles without a window
    with pytest.raises(ValueError, match=r"^window: expected one of"):
        convolution_widget(np.zeros((8, 8)), window="liver")


def test_static_explorer():
    from _static_check import check_static

    img = np.linspace(-1000, 1000, 48 * 48).reshape(48, 48) + 100 * np.sin(np.arange(48))[:, None]
    box = convolution_widget(img, kernel="sobel_x", static=True)
    r = check_static(box, alt_words=("kernel",))
    assert r["combinations"] == len(KERNELS) * 3 * 2 and r["images"] == 2 * r["combinations"]
    assert box.controller.controls["kernel"].value == sorted(KERNELS).index("sobel_x")
    assert [w.description for w in box.controller.fixed] == ["custom", "dilation", "output i", "output j"]
