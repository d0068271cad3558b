"""Figures to images, and widgets that still move on the static page.

Every chapter widget uses this module for its pictures and for its static view:

* :func:`figure_png` turns a matplotlib figure into PNG bytes at twice the size it is shown
  (device-pixel ratio 2, sharp on high-density screens); :func:`array_png` does the same for a
  pixel array enlarged by repetition; :func:`show_png` puts such bytes into an ``ipywidgets.Image``
  with its CSS width, so the browser shows it at its intended size, never upscaled;
* :func:`static_explorer` precomputes a picture for every combination of a few control values and
  returns an ipywidgets box whose controls switch between them **in the browser**, through
  JavaScript links (``jslink``) from each control to a ``Stack`` of HTML images. The links and the
  images are saved in the notebook's widget state, so the rendered book's page moves them with no
  kernel running, offline; in a live notebook it works the same way;
* :func:`explore` builds such an explorer from a chapter's live widget: it sets the live controls
  to each combination of a grid of values (the live widget recomputes with its pure function),
  and records the pictures and text it shows. Controls outside the grid are shown disabled, with
  the reason;
* :func:`static_pages` says whether the widgets should be built static: true when the environment
  variable ``COMPANION_STATIC_WIDGETS`` is ``1`` (the book build sets it; a reader's notebook does
  not).

The pictures are ``<img>`` elements with alt text, and each control carries a description, so the
static page stays accessible. Every box returned by a chapter widget has the attribute
``controller`` (the one test hook): the live widget's state, or an :class:`Explorer`.
"""

from __future__ import annotations

import base64
import html as _html
import io
import itertools
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["figure_png", "figure_width", "sharpen", "array_png", "show_png", "show_array", "png_html", "static_explorer", "explore",
           "static_pages", "use_static", "sharp_figures", "Explorer", "explorer_report", "STATIC_ENV", "WRAP"]

STATIC_ENV = "COMPANION_STATIC_WIDGETS"
WRAP = {"flex_flow": "row wrap"}      # a row of controls or pictures that wraps on a phone
NEEDS_KERNEL = "fixed on this page, which shows precomputed pictures; run the notebook to change it"


def static_pages() -> bool:
    """True when widgets are built for the static book (``COMPANION_STATIC_WIDGETS=1``)."""
    return os.environ.get(STATIC_ENV, "").strip() == "1"


def use_static(static: bool | None) -> bool:
    """A widget function's ``static`` argument: ``None`` follows :func:`static_pages`."""
    if static is None:
        return static_pages()
    if not isinstance(static, bool):
        raise TypeError(f"static: expected True, False or None, got {type(static).__name__}")
    return static


def sharp_figures() -> None:
    """Show the chapter's matplotlib figures at device-pixel ratio 2 (call once, in the setup cell).

    The inline backend then sends every figure as a PNG of twice the pixels, tagged with its
    CSS size (IPython's ``retina`` format); Jupyter and the book (myst-nb reads the tag as the
    ``<img>`` width) show it at the usual size, sharp on high-density screens. Outside IPython
    it does nothing.
    """
    try:
        from IPython import get_ipython
    except ImportError:          # pragma: no cover - IPython comes with ipywidgets
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib_inline.config import InlineBackend

    # the backend's configuration (it survives the inline backend's activation at pyplot's import)
    InlineBackend.instance(parent=shell).figure_formats = {"retina"}
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("retina")


def _encode(rgb: np.ndarray, compact: bool) -> bytes:
    from PIL import Image

    im = Image.fromarray(np.ascontiguousarray(rgb))
    buffer = io.BytesIO()
    if compact and rgb.ndim == 3 and (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
        Image.fromarray(np.ascontiguousarray(rgb[..., 0])).save(buffer, format="png", optimize=True)  # grey
    elif compact:     # a palette of 256 colours: a third of the bytes, no visible change on a plot
        im.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
            buffer, format="png", optimize=True)
    else:             # fast, for live updates
        im.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def sharpen(fig: Any, dpi_scale: float = 2.0) -> Any:
    """Raise a figure's dpi `dpi_scale` times, remembering the CSS dpi it is shown at; return it.

    For a live widget that blits (draws its background once): sharpen before the first draw,
    then ``figure_png(fig, draw=False)``.
    """
    css_dpi = getattr(fig, "_css_dpi", None)
    if css_dpi is None:
        css_dpi = fig._css_dpi = fig.dpi
    if fig.dpi != css_dpi * dpi_scale:
        fig.dpi = css_dpi * dpi_scale
    return fig


def figure_png(fig: Any, *, dpi_scale: float = 2.0, close: bool = True, compact: bool = False,
               draw: bool = True) -> bytes:
    """PNG bytes of a matplotlib figure at `dpi_scale` device pixels per CSS pixel.

    The figure is shown ``width_in × dpi`` CSS pixels wide (:func:`figure_width`), `dpi` being
    the figure's dpi at the first call; the PNG holds `dpi_scale` times as many pixels each way.
    The figure keeps the raised dpi, so a live widget that redraws the same figure does not pay
    for a change of resolution on every update. The figure is closed when `close` (a live
    widget passes ``close=False``). With ``draw=False`` the canvas is encoded as it is (a widget
    that blits has drawn it, after :func:`sharpen`).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(3, 2), dpi=100)
    >>> figure_png(fig)[:4], figure_width(fig)
    (b'\\x89PNG', 300)
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    if draw:
        sharpen(fig, dpi_scale)
        canvas.draw()
    png = _encode(np.asarray(canvas.buffer_rgba())[..., :3], compact)
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return png


def figure_width(fig: Any) -> int:
    """CSS width of a figure's picture, in pixels: width in inches × the dpi it was made with."""
    return int(round(fig.get_figwidth() * getattr(fig, "_css_dpi", fig.dpi)))


def array_png(rgb: Any, scale: int = 1, *, dpi_scale: int = 2, compact: bool = False) -> bytes:
    """PNG bytes of an image array (H, W, 3), floats in [0, 1] or uint8, each pixel repeated.

    Shown ``W × scale`` CSS pixels wide, the PNG holds ``scale × dpi_scale`` device pixels per
    image pixel, so the blocks stay sharp.
    """
    a = np.asarray(rgb)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0, 1) * 255).astype(np.uint8)
    r = int(scale) * int(dpi_scale)
    if r > 1:
        a = a.repeat(r, axis=0).repeat(r, axis=1)
    return _encode(a, compact)


def show_png(picture: Any, png: bytes, width: int) -> None:
    """Put `png` into the ``ipywidgets.Image`` `picture`, shown `width` CSS pixels wide (never wider
    than its container)."""
    picture.value = png
    w = f"{int(width)}px"
    if picture.layout.width != w:
        picture.layout.width = w
        picture.layout.max_width = "100%"
        picture.layout.height = "auto"


def show_array(picture: Any, rgb: Any, scale: int = 1) -> None:
    """Show an image array in the ``ipywidgets.Image`` `picture`, each pixel `scale` CSS pixels wide.

    The live picture holds the array enlarged ``2 × scale`` times (sharp at device-pixel ratio 2);
    the array itself is kept on the widget, so that a static explorer stores it once, unenlarged,
    and lets the browser enlarge it without smoothing (``image-rendering: pixelated``).
    """
    a = np.asarray(rgb)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0, 1) * 255).astype(np.uint8)
    show_png(picture, array_png(a, scale), a.shape[1] * int(scale))
    picture._companion_pixels = a


def png_html(png: bytes, *, alt: str, width: int | None = None, pixelated: bool = False) -> str:
    """An ``<img>`` element holding `png` inline (base64), with alt text and a CSS width
    (`pixelated`: enlarged without smoothing, for an image array shown larger than its pixels)."""
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt: expected a non-empty description of the image")
    extra = "image-rendering:pixelated;" if pixelated else ""
    style = (f' style="width:{int(width)}px;max-width:100%;height:auto;{extra}"' if width
             else f' style="max-width:100%;height:auto;{extra}"')
    data = base64.b64encode(png).decode("ascii")
    alt = alt.replace('"', "&quot;").replace("<", "&lt;")
    return f'<img src="data:image/png;base64,{data}" alt="{alt}"{style}>'


@dataclass
class Explorer:
    """What a static explorer is made of (``box.controller`` of the box it returns)."""

    controls: dict                 # control name -> the jslinked SelectionSlider / Dropdown
    values: dict                   # control name -> the values it offers
    fixed: list = field(default_factory=list)     # disabled controls the page cannot honour
    stacks: list = field(default_factory=list)    # every Stack, outermost first
    leaves: list = field(default_factory=list)    # the HTML views, one per combination
    links: list = field(default_factory=list)     # the jslinks, control -> stack
    alts: list = field(default_factory=list)      # the alt text of every image, in leaf order


def _control(name: str, values: Sequence[Any], label: str | None, fmt: Callable[[Any], str], initial: int):
    import ipywidgets as widgets

    options = [(fmt(v), i) for i, v in enumerate(values)]
    description = label or name
    common = dict(options=options, value=initial, description=description, tooltip=description,
                  style={"description_width": "initial"})
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return widgets.SelectionSlider(continuous_update=True, **common)
    return widgets.Dropdown(**common)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def static_explorer(render: Callable[..., Any], controls: dict[str, Sequence[Any]], *,
                    labels: dict[str, str] | None = None, width: int | None = None,
                    fmt: Callable[[Any], str] = _fmt, max_images: int = 64,
                    initial: dict[str, Any] | None = None, fixed: Sequence[Any] = (),
                    fixed_reason: str = NEEDS_KERNEL) -> Any:
    """A widget whose controls switch between precomputed pictures, with no kernel.

    Parameters
    ----------
    render : callable
        ``render(**values)`` for one combination of control values, returning either
        ``(png_bytes, alt_text)`` or ``(html, [alt_text, ...])`` (an HTML fragment holding
        images with those alt texts). Called once per combination, when the explorer is built.
    controls : dict
        Control name -> the values it offers (2 to ~10 each). Numbers become a slider, anything
        else a drop-down.
    labels : dict, optional
        Control name -> the label shown beside it.
    width : int, optional
        CSS width of the pictures, in pixels (for ``(png, alt)`` renders).
    fmt : callable
        How a value is written beside its control.
    max_images : int, default 64
        A guard on the page size: the product of the numbers of values must not exceed it.
    initial : dict, optional
        Control name -> the value selected first (default: each control's first value).
    fixed : sequence of ipywidgets
        Controls the static view cannot honour: shown disabled, with `fixed_reason` as tooltip
        and in a note below the controls.

    Returns
    -------
    ipywidgets.VBox
        The controls above nested ``Stack`` widgets of HTML views; every control is linked to
        its stacks by ``jslink``, so switching happens in the browser. ``box.controller`` is an
        :class:`Explorer`.

    Raises
    ------
    ValueError
        If `controls` is empty, a control offers fewer than 2 values, an initial value is not
        offered, or there are more than `max_images` combinations.
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
    initial = initial or {}
    start = {}
    for n, v in zip(names, values):
        if n in initial:
            if initial[n] not in v:
                raise ValueError(f"initial: {n}={initial[n]!r} is not among the values {v}")
            start[n] = v.index(initial[n])
        else:
            start[n] = 0
    built = [_control(n, v, labels.get(n), fmt, start[n]) for n, v in zip(names, values)]
    ex = Explorer(controls=dict(zip(names, built)), values=dict(zip(names, values)), fixed=list(fixed))

    def stack(level: int, chosen: dict) -> Any:
        if level == len(names):
            out = render(**chosen)
            if isinstance(out[0], (bytes, bytearray)):
                view, alts = png_html(bytes(out[0]), alt=out[1], width=width), [out[1]]
            else:
                view, alts = out
            leaf = widgets.HTML(view)
            ex.leaves.append(leaf)
            ex.alts.extend(alts)
            return leaf
        children = [stack(level + 1, {**chosen, names[level]: value}) for value in values[level]]
        box = widgets.Stack(children, selected_index=start[names[level]])
        ex.stacks.append(box)
        ex.links.append(widgets.jslink((built[level], "index"), (box, "selected_index")))
        return box

    pictures = stack(0, {})
    ex.stacks.reverse()
    wrap = widgets.Layout(flex_flow="row wrap")
    parts = [widgets.HBox(built + list(fixed), layout=wrap)]
    for w in fixed:
        w.disabled = True
        if hasattr(w, "tooltip"):
            w.tooltip = f"{w.description}: {fixed_reason}"
    if fixed:
        names_fixed = ", ".join(_html.escape(str(w.description)) for w in fixed)
        parts.append(widgets.HTML(f"<small>{names_fixed}: {fixed_reason}.</small>"))
    box = widgets.VBox(parts + [pictures])
    box.controller = ex
    box._links = ex.links        # keep the links alive with the widget
    return box


# --------------------------------------------------------------------------------------------
# An explorer from a live widget
# --------------------------------------------------------------------------------------------

def _is_control(w: Any) -> bool:
    import ipywidgets as widgets

    return isinstance(w, widgets.ValueWidget) and not isinstance(w, (widgets.HTML, widgets.HTMLMath,
                                                                      widgets.Label, widgets.Image))


def _view_html(w: Any, alts: list, out: list) -> str:
    """The HTML a browser would show for the live box `w`, controls left out; images take their
    alt text from `alts` in order, compact PNGs."""
    import ipywidgets as widgets
    from PIL import Image

    if isinstance(w, widgets.Image):
        if not w.value:
            return ""
        if not alts:
            raise ValueError("alt_texts: fewer alt texts than pictures in the widget")
        alt = alts.pop(0)
        out.append(alt)
        width = w.layout.width
        css = int(width[:-2]) if isinstance(width, str) and width.endswith("px") else None
        pixels = getattr(w, "_companion_pixels", None)
        if pixels is not None:      # an image array: stored once, enlarged by the browser
            return png_html(_encode(pixels, True), alt=alt, width=css, pixelated=True)
        rgb = np.asarray(Image.open(io.BytesIO(w.value)).convert("RGB"))
        return png_html(_encode(rgb, True), alt=alt, width=css)
    if isinstance(w, (widgets.HTML, widgets.HTMLMath, widgets.Label)):
        return f"<div>{w.value}</div>" if w.value else ""
    if _is_control(w):
        return ""
    if isinstance(w, widgets.Box):
        inner = "".join(_view_html(c, alts, out) for c in w.children)
        if not inner:
            return ""
        row = isinstance(w, widgets.HBox)
        style = ("display:flex;flex-flow:row wrap;gap:4px;align-items:flex-start" if row
                 else "display:flex;flex-direction:column;gap:2px")
        return f'<div style="{style}">{inner}</div>'
    return ""


def explore(controller: Any, grid: dict[str, Sequence[Any]], *, labels: dict[str, str] | None = None,
            fmt: Callable[[Any], str] = _fmt, max_images: int = 48,
            fixed_reason: str = NEEDS_KERNEL) -> Any:
    """The static view of a live chapter widget: its pictures over a grid of control values.

    Parameters
    ----------
    controller : object
        A live widget's state: ``controller.ui`` is its box, ``controller.<name>`` its control
        for each name in `grid`, and ``controller.alt_texts()`` the alt text of each picture it
        shows now (in the order they appear in the box).
    grid : dict
        Control name -> the values the static page offers (include the live default first or
        anywhere: it is selected first).
    labels : dict, optional
        Control name -> label (default: the live control's description).

    Returns
    -------
    ipywidgets.VBox
        As :func:`static_explorer`; the live controls not in `grid` are shown disabled, at the
        value every picture was computed with.

    Raises
    ------
    ValueError
        As :func:`static_explorer`; or if a grid value is refused by its live control.
    """
    live = {name: getattr(controller, name) for name in grid}
    start = {name: live[name].value for name in grid}
    initial = {}
    for name, vals in grid.items():
        matches = [v for v in vals if v == start[name] or (isinstance(v, float) and isinstance(start[name], float)
                                                            and abs(v - start[name]) < 1e-9)]
        if matches:
            initial[name] = matches[0]
    labels = {**{n: str(w.description) for n, w in live.items()}, **(labels or {})}
    names = list(grid)

    def render(**values):
        for n in names:                       # the live widget recomputes on each change
            if live[n].value != values[n]:
                live[n].value = values[n]
                if live[n].value != values[n] and not (isinstance(values[n], float)
                                                       and abs(live[n].value - values[n]) < 1e-9):
                    raise ValueError(f"grid: {n}={values[n]!r} is refused by its control "
                                     f"(it took {live[n].value!r})")
        alts: list = []
        view = _view_html(controller.ui, list(controller.alt_texts()), alts)
        return view, alts

    fixed = [w for w in _controls_of(controller.ui) if all(w is not live[n] for n in names)]
    box = static_explorer(render, grid, labels=labels, fmt=fmt, max_images=max_images,
                          initial=initial, fixed=fixed, fixed_reason=fixed_reason)
    import ipywidgets as widgets

    for w in _walk(controller.ui):            # the live pictures are not shown: keep the page small
        if isinstance(w, widgets.Image):
            w.value = b""
    return box


def _walk(w: Any):
    import ipywidgets as widgets

    yield w
    if isinstance(w, widgets.Box):
        for child in w.children:
            yield from _walk(child)


def _controls_of(w: Any) -> list:
    import ipywidgets as widgets

    if _is_control(w):
        return [w]
    if isinstance(w, widgets.Box):
        return [c for child in w.children for c in _controls_of(child)]
    return []


def explorer_report(box: Any) -> dict:
    """Facts a test checks about a static explorer, and its saved widget-state size in bytes."""
    from ipywidgets.embed import dependency_state

    ex = box.controller
    if not isinstance(ex, Explorer):
        raise TypeError("box: expected the box of a static explorer (box.controller is an Explorer)")
    n = 1
    for v in ex.values.values():
        n *= len(v)
    state = dependency_state([box], drop_defaults=True)
    images = sum(leaf.value.count("<img ") for leaf in ex.leaves)
    return {
        "combinations": n,
        "leaves": len(ex.leaves),
        "distinct_leaves": len({leaf.value for leaf in ex.leaves}),
        "images": images,
        "alts": list(ex.alts),
        "links": [(l.source[0], l.source[1], l.target[0], l.target[1]) for l in ex.links],
        "descriptions": [str(c.description) for c in list(ex.controls.values()) + ex.fixed],
        "fixed_disabled": all(w.disabled for w in ex.fixed),
        "state_bytes": len(json.dumps(state)),
    }


def combinations(controls: dict[str, Sequence[Any]]) -> list[dict]:
    """Every combination of control values, in the order the explorer builds them."""
    names = list(controls)
    return [dict(zip(names, combo)) for combo in itertools.product(*(controls[n] for n in names))]
