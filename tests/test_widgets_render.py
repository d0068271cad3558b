"""companion.widgets._render: sharp PNGs and explorers that switch pictures without a kernel."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import ipywidgets as widgets  # noqa: E402

from companion.widgets._render import combinations, figure_png, png_html, static_explorer  # noqa: E402


def _fake_render(**values):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.set_title(str(values))
    return figure_png(fig), f"picture for {values}"


def test_figure_png_is_twice_the_css_size():
    from PIL import Image
    import io
    fig = plt.figure(figsize=(3, 2))
    png = figure_png(fig)
    assert Image.open(io.BytesIO(png)).size == (600, 400)


def test_png_html_has_alt_and_inline_data():
    html = png_html(b"\x89PNG", alt='a "quoted" <b> picture', width=300)
    assert 'alt="a &quot;quoted&quot; &lt;b> picture"' in html and "width:300px" in html
    assert base64.b64encode(b"\x89PNG").decode() in html
    with pytest.raises(ValueError, match="^alt:"):
        png_html(b"", alt=" ")


def test_explorer_has_one_picture_per_combination_and_links_every_control():
    controls = {"T": [0.5, 1.0, 2.0], "loss": ["CE", "Dice"]}
    box = static_explorer(_fake_render, controls, labels={"T": "temperature"})
    row, pictures = box.children
    slider, dropdown = row.children
    assert isinstance(slider, widgets.SelectionSlider) and slider.description == "temperature"
    assert isinstance(dropdown, widgets.Dropdown) and dropdown.description == "loss"
    assert isinstance(pictures, widgets.Stack) and len(pictures.children) == 3
    leaves = [leaf for inner in pictures.children for leaf in inner.children]
    assert len(leaves) == 6 and all(isinstance(leaf, widgets.HTML) for leaf in leaves)
    alts = [leaf.value.split('alt="')[1].split('"')[0] for leaf in leaves]
    assert len(set(alts)) == 6                                   # one distinct picture each
    # 1 link for the outer stack, 3 for the inner ones: every stack follows its control, in JS
    assert len(box._links) == 4
    sources = {(id(l.source[0]), l.source[1]) for l in box._links}
    assert sources == {(id(slider), "index"), (id(dropdown), "index")}
    assert all(isinstance(l, widgets.widget_link.Link) and l.target[1] == "selected_index" for l in box._links)
    assert [c for c in combinations(controls)][1] == {"T": 0.5, "loss": "Dice"}


def test_explorer_refuses_what_it_cannot_show():
    with pytest.raises(ValueError, match="^controls: expected at least one"):
        static_explorer(_fake_render, {})
    with pytest.raises(ValueError, match="needs at least 2"):
        static_explorer(_fake_render, {"T": [1.0]})
    with pytest.raises(ValueError, match="more than max_images"):
        static_explorer(_fake_render, {"a": list(range(10)), "b": list(range(10))})


def test_sharp_figures_sends_twice_the_pixels_tagged_with_the_css_size():
    from IPython.core.interactiveshell import InteractiveShell
    from PIL import Image
    import io

    from companion.widgets import sharp_figures

    sharp_figures()                                   # outside IPython: nothing happens
    shell = InteractiveShell.instance()
    try:
        sharp_figures()
        fig, ax = plt.subplots(figsize=(3, 2), dpi=100)
        ax.plot([0, 1])                                  # an empty figure is not printed at all
        png, meta = shell.display_formatter.formatters["image/png"](fig)    # the retina printer
        png = png if isinstance(png, bytes) else base64.b64decode(png)
        w, h = Image.open(io.BytesIO(png)).size
        assert abs(meta["width"] * 2 - w) <= 1 and w >= 500   # bbox_inches="tight" trims a little
        plt.close(fig)
    finally:
        InteractiveShell.clear_instance()


def test_show_array_keeps_the_pixels_for_the_static_page():
    import numpy as np

    picture = widgets.Image(format="png")
    from companion.widgets._render import show_array

    show_array(picture, np.zeros((10, 12, 3)), scale=3)
    assert picture.layout.width == "36px" and picture._companion_pixels.shape == (10, 12, 3)
    from PIL import Image
    import io
    assert Image.open(io.BytesIO(picture.value)).size == (72, 60)      # 2 x 3 device pixels per pixel
