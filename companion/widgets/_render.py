"""Figures to images, and widgets that still move on the static page.

Two things every chapter widget needs:

* :func:`figure_png` turns a matplotlib figure into PNG bytes at the size it will be shown
  (device-pixel ratio 2, so it is sharp on high-density screens);
* :func:`static_explorer` precomputes a widget's picture for every combination of a few control
  values and returns an ipywidgets box whose controls switch between them **in the browser**,
  through JavaScript links (``jslink``) from each control to a ``Stack`` of HTML images. The links
  and the images are saved in the notebook's widget state, so the rendered book's page moves
  them with no kernel running, offline; in a live notebook it works the same way.

The pictures are ``<img>`` elements with alt text, and each control carries a description, so
the static page stays accessible.
"""

from __future__ import annotations

import base64
import io
import itertools
from typing import Any, Callable, Sequence

__all__ = ["figure_png", "png_html", "static_explorer"]


def figure_png(fig: Any, *, dpi_scale: float = 2.0) -> bytes:
    """PNG bytes of a matplotlib figure, rendered at `dpi_scale` × 100 dots per inch.

    The figure is shown at its size in inches × 100 CSS pixels (``png_html`` sets the width), so
    the image holds `dpi_scale` device pixels per CSS pixel. The figure is closed.
    """
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100 * dpi_scale)
    plt.close(fig)
    return buffer.getvalue()


def png_html(png: bytes, *, alt: str, width: int | None = None) -> str:
    """An ``<img>`` element holding `png` inline (base64), with alt text and a CSS width."""
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt: expected a non-empty description of the image")
    style = f' style="width:{int(width)}px;max-width:100%;height:auto"' if width else ' style="max-width:100%;height:auto"'
    data = base64.b64encode(png).decode("ascii")
    alt = alt.replace('"', "&quot;").replace("<", "&lt;")
    return f'<img src="data:image/png;base64,{data}" alt="{alt}"{style}>'


def _control(name: str, values: Sequence[Any], label: str | None, fmt: Callable[[Any], str]):
    import ipywidgets as widgets

    options = [(fmt(v), i) for i, v in enumerate(values)]
    description = label or name
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        slider = widgets.SelectionSlider(options=options, value=0, description=description,
                                         continuous_update=True, style={"description_width": "initial"})
        return slider, "index"
    dropdown = widgets.Dropdown(options=options, value=0, description=description,
                                style={"description_width": "initial"})
    return dropdown, "index"


def static_explorer(render: Callable[..., tuple[bytes, str]], controls: dict[str, Sequence[Any]], *,
                    labels: dict[str, str] | None = None, width: int | None = None,
                    fmt: Callable[[Any], str] = lambda v: f"{v:g}" if isinstance(v, float) else str(v),
                    max_images: int = 64) -> Any:
    """A widget whose controls switch between precomputed pictures, with no kernel.

    Parameters
    ----------
    render : callable
        ``render(**values) -> (png_bytes, alt_text)`` for one combination of control values; it
        is called once per combination, when the explorer is built.
    controls : dict
        Control name -> the values it offers (2 to ~10 each). Numbers become a slider, anything
        else a drop-down.
    labels : dict, optional
        Control name -> the label shown beside it.
    width : int, optional
        CSS width of the pictures, in pixels.
    fmt : callable
        How a value is written beside its control.
    max_images : int, default 64
        A guard on the page size: the product of the numbers of values must not exceed it.

    Returns
    -------
    ipywidgets.VBox
        The controls above nested ``Stack`` widgets of HTML images; every control is linked to
        its stacks by ``jslink``, so switching happens in the browser.

    Raises
    ------
    ValueError
        If `controls` is empty, a control offers fewer than 2 values, or there are more than
        `max_images` combinations.
    """
    import ipywidgets as widgets

    if not controls:
        raise ValueError("controls: expected at least one control with its values")
    names = list(controls)
    values = [list(controls[n]) for n in names]
    for n, v in zip(names, values):
        if len(v) < 2:
            raise ValueError(f"controls: {n!r} offers {len(v)} value(s); a control needs at least 2")
    total = 1
    for v in values:
        total *= len(v)
    if total > max_images:
        raise ValueError(f"controls: {total} combinations of values, more than max_images={max_images}")
    labels = labels or {}
    built = [_control(n, v, labels.get(n), fmt) for n, v in zip(names, values)]
    links = []

    def stack(level: int, chosen: dict) -> Any:
        if level == len(names):
            png, alt = render(**chosen)
            return widgets.HTML(png_html(png, alt=alt, width=width))
        children = [stack(level + 1, {**chosen, names[level]: value}) for value in values[level]]
        box = widgets.Stack(children, selected_index=0)
        control, attribute = built[level]
        links.append(widgets.jslink((control, attribute), (box, "selected_index")))
        return box

    pictures = stack(0, {})
    box = widgets.VBox([widgets.HBox([c for c, _ in built], layout=widgets.Layout(flex_flow="row wrap")),
                        pictures])
    box._links = links        # keep the links alive with the widget
    return box


def combinations(controls: dict[str, Sequence[Any]]) -> list[dict]:
    """Every combination of control values, in the order the explorer builds them."""
    names = list(controls)
    return [dict(zip(names, combo)) for combo in itertools.product(*(controls[n] for n in names))]
