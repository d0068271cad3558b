"""Interactive figure of the convolution chapter: one kernel slid over one image.

Three layers, from pure to interactive:

* :func:`convolution_demo` — pure NumPy: correlates an image with a named (or given) kernel at a
  padding, stride and dilation, and returns the output, its size next to the formula's, and one
  output value written out as its sum of products (:class:`ConvDemo`).
* :func:`draw_demo` / :func:`convolution_grid` — matplotlib: one setting, or a static grid of
  several settings for the rendered book page (where no kernel runs).
* :func:`convolution_widget` — a thin ipywidgets UI over the two: controls for the kernel
  (box, Gaussian, Sobel x/y, Laplacian, identity, or custom numbers typed in), padding, stride,
  dilation and the output position to explain.

The correlation itself is :func:`companion.convolution.correlate`; nothing is re-implemented.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_float_array, as_int
from companion.convolution import correlate, output_size
from companion.widgets._render import WRAP, explore, show_array, use_static

__all__ = [
    "KERNELS",
    "ConvDemo",
    "convolution_demo",
    "convolution_grid",
    "convolution_widget",
    "draw_demo",
    "make_kernel",
    "parse_kernel",
]


def _gaussian(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    r = np.arange(size) - (size - 1) / 2
    g = np.exp(-(r**2) / (2 * sigma**2))
    k = np.outer(g, g)
    return k / k.sum()


#: The named kernels, as they are used by a *correlation* (no flip). Sobel x responds positively
#: where intensity grows to the right (along w), Sobel y where it grows downwards (along h): the
#: same as ``scipy.ndimage.sobel(axis=1)`` and ``axis=0``.
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0.0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box": np.full((3, 3), 1 / 9),
    "gaussian": _gaussian(5, 1.0),
    "sobel_x": np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "laplacian": np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]),
}


class ConvDemo(NamedTuple):
    """What :func:`convolution_demo` computed.

    Attributes
    ----------
    output : ndarray, shape (H_out, W_out)
        The correlation of the image with the kernel, in the image's dtype.
    size : tuple of 2 ints
        ``output.shape``.
    formula_size : tuple of 2 ints
        ``floor((in + 2p - d(k-1) - 1)/s) + 1`` per axis (:func:`companion.convolution.output_size`).
    position : tuple of 2 ints
        The output position ``(i, j)`` that is explained.
    value : float
        ``output[i, j]``.
    terms : tuple of (float, float, int, int)
        One ``(kernel weight, input value, row, col)`` per kernel tap, in kernel order; ``row`` and
        ``col`` index the *unpadded* image and fall outside it (the input value is then 0) where
        the tap reads the zero padding.
    kernel : ndarray, shape (kH, kW)
        The kernel used.
    """

    output: np.ndarray
    size: tuple[int, int]
    formula_size: tuple[int, int]
    position: tuple[int, int]
    value: float
    terms: tuple[tuple[float, float, int, int], ...]
    kernel: np.ndarray

    @property
    def terms_sum(self) -> float:
        """The sum of products of :attr:`terms`, which equals :attr:`value`."""
        return float(sum(w * x for w, x, _, _ in self.terms))

    def expression(self, digits: int = 3, per_line: int | None = None) -> str:
        """The value written out, e.g. ``'0.111×(-850) + 0.111×(-844) + … = -851'``.

        Parameters
        ----------
        digits : int, default 3
            Significant digits of each number.
        per_line : int, optional
            Put a line break after this many products (default: one line per kernel row).
        """
        per_line = self.kernel.shape[1] if per_line is None else per_line

        def fmt(v: float) -> str:
            s = f"{v:.{digits}g}"
            return f"({s})" if v < 0 else s

        parts = [f"{fmt(w)}×{fmt(x)}" for w, x, _, _ in self.terms]
        lines = [" + ".join(parts[i:i + per_line]) for i in range(0, len(parts), per_line)]
        return " +\n".join(lines) + f"\n= {self.value:.{digits + 1}g}"


# --------------------------------------------------------------------------------------------
# Pure compute
# --------------------------------------------------------------------------------------------

def parse_kernel(text: str) -> np.ndarray:
    """Read a kernel typed as rows of numbers: rows split by newlines or ``;``, numbers by spaces or commas.

    ``"1 0 -1; 2 0 -2; 1 0 -1"`` is the 3 x 3 Sobel kernel; fractions like ``1/9`` are allowed.

    Raises
    ------
    TypeError
        If `text` is not a string.
    ValueError
        If a number cannot be read or the rows have different lengths.

    Examples
    --------
    >>> parse_kernel("1 2; 3 4")
    array([[1., 2.],
           [3., 4.]])
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a string of numbers, got {type(text).__name__}")
    rows = [r for r in text.replace(";", "\n").splitlines() if r.strip()]
    if not rows:
        raise ValueError("text: expected at least one row of numbers, got an empty string")
    values = []
    for r in rows:
        row = []
        for tok in r.replace(",", " ").split():
            try:
                if "/" in tok:
                    num, den = tok.split("/")
                    row.append(float(num) / float(den))
                else:
                    row.append(float(tok))
            except (ValueError, ZeroDivisionError):
                raise ValueError(f"text: expected numbers, got {tok!r}") from None
        values.append(row)
    if len({len(r) for r in values}) != 1:
        raise ValueError(f"text: expected rows of equal length, got lengths {[len(r) for r in values]}")
    k = np.array(values, dtype=np.float64)
    if not np.all(np.isfinite(k)):
        raise ValueError("text: expected finite numbers, got inf or nan")
    return k


def make_kernel(kernel: str | Any, custom: str | None = None) -> np.ndarray:
    """The 2-D kernel named `kernel` (a key of :data:`KERNELS`, or ``"custom"`` with `custom` text), or `kernel` itself as an array.

    Raises
    ------
    ValueError
        If the name is unknown or the array is not 2-D.
    """
    if isinstance(kernel, str):
        if kernel == "custom":
            if custom is None:
                raise ValueError("custom: expected the kernel's numbers as text for kernel='custom', got None")
            return parse_kernel(custom)
        if kernel not in KERNELS:
            raise ValueError(f"kernel: expected one of {sorted(KERNELS) + ['custom']} or a 2-D array, got {kernel!r}")
        return KERNELS[kernel].copy()
    k = as_float_array(kernel, "kernel", ndim=2)
    if min(k.shape) < 1:
        raise ValueError(f"kernel: expected no empty axis, got shape {k.shape}")
    return np.array(k, dtype=np.float64)


def convolution_demo(image: Any, kernel: str | Any = "box", *, padding: int = 0, stride: int = 1,
                     dilation: int = 1, position: Sequence[int] = (0, 0),
                     custom: str | None = None) -> ConvDemo:
    """Correlate one image with one kernel, and write one output value out as a sum of products.

    ``y[i, j] = sum_{u, v} w[u, v] * x_pad[s*i + d*u, s*j + d*v]``, computed by
    :func:`companion.convolution.correlate`; the terms of ``y[position]`` are listed.

    Parameters
    ----------
    image : ndarray of float32 or float64
        A 2-D image.
    kernel : str or ndarray, default "box"
        A name from :data:`KERNELS`, ``"custom"`` (then `custom` holds the numbers as text,
        see :func:`parse_kernel`), or a 2-D array.
    padding, stride, dilation : int
        As in :func:`companion.convolution.correlate` (the same value on both axes).
    position : (int, int)
        Output position ``(i, j)`` to explain; negative values count from the end.
    custom : str, optional
        The kernel's numbers when ``kernel == "custom"``.

    Returns
    -------
    ConvDemo
        Output, its size, the formula's size, the value at `position` and its terms.

    Shapes
    ------
    image : (H, W);  output : (H_out, W_out) with ``H_out = output_size(H, kH, ...)``

    Raises
    ------
    TypeError, ValueError
        For a bad image, kernel, hyper-parameter, or a position outside the output.

    Examples
    --------
    >>> demo = convolution_demo(np.arange(16.0).reshape(4, 4), "box", position=(1, 1))
    >>> demo.size, demo.formula_size, round(demo.value, 6)
    ((2, 2), (2, 2), 10.0)
    """
    img = as_float_array(image, "image", ndim=2)
    k = make_kernel(kernel, custom).astype(img.dtype)
    padding = as_int(padding, "padding", minimum=0)
    stride = as_int(stride, "stride", minimum=1)
    dilation = as_int(dilation, "dilation", minimum=1)
    formula = output_size(img.shape, k.shape, stride=stride, padding=padding, dilation=dilation)
    out = correlate(img[None, None], k[None, None], stride=stride, padding=padding,
                    dilation=dilation)[0, 0]
    if not isinstance(position, (tuple, list, np.ndarray)) or len(position) != 2:
        raise ValueError(f"position: expected (i, j), got {position!r}")
    i, j = (as_int(p, "position") for p in position)
    if not (-out.shape[0] <= i < out.shape[0] and -out.shape[1] <= j < out.shape[1]):
        raise ValueError(f"position: expected an index inside the output of shape {out.shape}, got {(i, j)}")
    i, j = i % out.shape[0], j % out.shape[1]
    terms = []
    for u in range(k.shape[0]):
        for v in range(k.shape[1]):
            r = stride * i + dilation * u - padding  # row in the unpadded image
            c = stride * j + dilation * v - padding
            inside = 0 <= r < img.shape[0] and 0 <= c < img.shape[1]
            terms.append((float(k[u, v]), float(img[r, c]) if inside else 0.0, r, c))
    return ConvDemo(out, tuple(out.shape), tuple(formula), (i, j), float(out[i, j]), tuple(terms), k)


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------

def _window_outline(ax, demo: ConvDemo, color: str = "tab:orange") -> list:
    """Small squares on the taps of the kernel at the explained position; returns the artists."""
    from matplotlib.patches import Rectangle

    artists = []
    for _, _, r, c in demo.terms:
        patch = Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor=color, linewidth=0.8)
        ax.add_patch(patch)
        artists.append(patch)
    return artists


def _display(img: np.ndarray, window: Any) -> tuple[np.ndarray, dict]:
    """The array to draw and imshow's value range: a CT window (companion.intensity) or auto."""
    if window is None:
        return img, {}
    from companion.intensity import apply_window

    return apply_window(img, window), dict(vmin=0.0, vmax=1.0)


def draw_demo(demo: ConvDemo, image: Any, *, fig=None, title: str | None = None, show_terms: bool = True,
              cmap: str = "gray", window: str | tuple[float, float] | None = None):
    """Draw the input with the kernel's taps, the output with the explained pixel, and the sum of products.

    `window` (a preset name of ``companion.intensity.WINDOWS`` or a ``(center, width)`` pair in
    HU) displays a CT input through that window; the output keeps an automatic grey scale.
    Returns the matplotlib Figure (created when `fig` is None, without pyplot, so nothing is
    displayed twice).
    """
    from matplotlib.figure import Figure

    img = as_float_array(image, "image", ndim=2)
    if fig is None:
        fig = Figure(figsize=(7.0, 3.8 if show_terms else 3.0), dpi=80)
    fig.clear()
    ax_in, ax_out = fig.subplots(1, 2)
    shown, scale = _display(img, window)
    ax_in.imshow(shown, cmap=cmap, **scale)
    ax_in.set_title(f"input {img.shape[0]}×{img.shape[1]}", fontsize=9)
    _window_outline(ax_in, demo)
    pad = max(0, -min(min(r for _, _, r, _ in demo.terms), min(c for _, _, _, c in demo.terms)))
    ax_in.set_xlim(-0.5 - pad, img.shape[1] - 0.5 + pad)
    ax_in.set_ylim(img.shape[0] - 0.5 + pad, -0.5 - pad)
    ax_out.imshow(demo.output, cmap=cmap)
    i, j = demo.position
    from matplotlib.patches import Rectangle

    ax_out.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="tab:orange", linewidth=1.5))
    ok = "=" if demo.size == demo.formula_size else "≠"
    ax_out.set_title(f"output {demo.size[0]}×{demo.size[1]} {ok} formula "
                     f"{demo.formula_size[0]}×{demo.formula_size[1]}", fontsize=9)
    for ax in (ax_in, ax_out):
        ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    if show_terms and len(demo.terms) <= 25:
        fig.text(0.02, 0.01, f"y[{i},{j}] = " + demo.expression(digits=3), fontsize=8,
                 family="monospace", va="bottom")
        fig.subplots_adjust(bottom=0.1 + 0.045 * demo.kernel.shape[0], top=0.88)
    return fig


def convolution_grid(image: Any, settings: Sequence[dict] | None = None, *, ncols: int = 3,
                     cmap: str = "gray", window: str | tuple[float, float] | None = None):
    """A static grid: the output of several (kernel, padding, stride, dilation) settings.

    Each panel's title gives the setting and the output size, which equals the formula's.

    Parameters
    ----------
    image : ndarray, (H, W)
        The image.
    settings : sequence of dict, optional
        Keyword arguments of :func:`convolution_demo` (``kernel``, ``padding``, ``stride``,
        ``dilation``); a default tour of six settings when None.
    ncols : int
        Panels per row.
    window : str or (center, width), optional
        A CT window (``companion.intensity``) for the panels whose kernel keeps Hounsfield units
        (weights summing to 1: identity, Gaussian, box); the others (derivatives) keep an
        automatic grey scale.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    img = as_float_array(image, "image", ndim=2)
    if settings is None:
        settings = [
            dict(kernel="identity", padding=0),
            dict(kernel="gaussian", padding=2),
            dict(kernel="sobel_x", padding=1),
            dict(kernel="laplacian", padding=1),
            dict(kernel="box", padding=1, stride=2),
            dict(kernel="sobel_y", padding=2, dilation=2),
        ]
    nrows = -(-len(settings) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 2.5 * nrows), dpi=80, squeeze=False)
    for ax, kw in zip(axes.flat, settings):
        demo = convolution_demo(img, **kw)
        keeps_hu = np.isclose(float(np.sum(demo.kernel)), 1.0)
        shown, scale = _display(demo.output, window if keeps_hu else None)
        ax.imshow(shown, cmap=cmap, **scale)
        name = kw.get("kernel", "box") if isinstance(kw.get("kernel", "box"), str) else "array"
        ax.set_title(f"{name} p={kw.get('padding', 0)} s={kw.get('stride', 1)} d={kw.get('dilation', 1)}\n"
                     f"{demo.size[0]}×{demo.size[1]} (formula {demo.formula_size[0]}×{demo.formula_size[1]})",
                     fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(settings):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The widget
# --------------------------------------------------------------------------------------------

def _to_rgb(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Grey-level RGB uint8 image of `a` windowed to [lo, hi]."""
    g = np.clip((a - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
    g = (g * 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


_ORANGE = np.array([255, 140, 0], dtype=np.float64)


class _ConvolutionWidget:
    """Holds the controls, the last result and the pictures; ``.ui`` is the ipywidgets box.

    Pictures are drawn straight into RGB arrays and encoded as PNG (no matplotlib in the update
    loop), which keeps an update of a 256 x 256 image well under 100 ms.
    """

    def __init__(self, image: np.ndarray, kernel: str, window: Any = None) -> None:
        import ipywidgets as W

        self.image = image
        if window is None:
            self._lo, self._hi = (float(v) for v in np.percentile(image, [1, 99]))
        else:  # a CT window (companion.intensity): the input shown as a radiologist would see it
            from companion.intensity import WINDOWS, window_bounds
            center, width = WINDOWS[window] if isinstance(window, str) else window
            self._lo, self._hi = window_bounds(center=center, width=width)
        self._scale = max(1, 256 // max(image.shape))  # small images are enlarged
        style = {"description_width": "70px"}
        lay = W.Layout(width="260px")
        self.kernel = W.Dropdown(options=sorted(KERNELS) + ["custom"], value=kernel,
                                 description="kernel", style=style, layout=lay)
        self.custom = W.Text(value="1 0 -1; 2 0 -2; 1 0 -1", description="custom",
                             placeholder="rows split by ;", style=style, layout=lay,
                             continuous_update=False)
        self.padding = W.IntSlider(value=1, min=0, max=6, description="padding", style=style, layout=lay)
        self.stride = W.IntSlider(value=1, min=1, max=4, description="stride", style=style, layout=lay)
        self.dilation = W.IntSlider(value=1, min=1, max=4, description="dilation", style=style, layout=lay)
        self.row = W.IntSlider(value=0, min=0, max=1, description="output i", style=style, layout=lay)
        self.col = W.IntSlider(value=0, min=0, max=1, description="output j", style=style, layout=lay)
        self.input_picture = W.Image(format="png")
        self.output_picture = W.Image(format="png")
        self.input_caption = W.HTML()
        self.output_caption = W.HTML()
        self.text = W.HTML()
        self.message = W.HTML()
        self.result: ConvDemo | None = None
        self.last_update_s = float("nan")
        self.error: str = ""
        self._busy = False
        for w in (self.kernel, self.custom, self.padding, self.stride, self.dilation, self.row, self.col):
            w.observe(self._on_change, names="value")
        controls = W.VBox([self.kernel, self.custom, self.padding, self.stride, self.dilation,
                           self.row, self.col])
        pictures = W.HBox([W.VBox([self.input_caption, self.input_picture]),
                           W.VBox([self.output_caption, self.output_picture])], layout=W.Layout(**WRAP))
        self.ui = W.VBox([W.HBox([controls, pictures], layout=W.Layout(**WRAP)), self.text, self.message])
        self.ui.controller = self  # reach the state from the returned box
        self.update()

    def _on_change(self, change: dict) -> None:
        if not self._busy:  # slider maxima set inside update() must not recurse
            self.update()

    def update(self) -> None:
        """Recompute and redraw (called on every control change)."""
        t0 = time.perf_counter()
        self._busy = True
        try:
            kw = dict(padding=self.padding.value, stride=self.stride.value, dilation=self.dilation.value)
            k = make_kernel(self.kernel.value, self.custom.value)
            h, w = output_size(self.image.shape, k.shape, **kw)
            self.row.max, self.col.max = h - 1, w - 1  # keep the explained position inside the output
            demo = convolution_demo(self.image, k, position=(min(self.row.value, h - 1),
                                                             min(self.col.value, w - 1)), **kw)
        except (ValueError, TypeError) as exc:  # e.g. a kernel larger than the padded image
            self.error = str(exc)
            self.message.value = f"<span style='color:#b00'>{exc}</span>"
            return
        finally:
            self._busy = False
        self.error = ""
        self.message.value = ""
        self.result = demo
        self._draw(demo, kw["padding"])
        self.text.value = _terms_html(demo, self.image.shape)
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        d = self.result
        k = self.kernel.value
        return [f"The input image, {self.image.shape[0]}×{self.image.shape[1]} pixels with zero padding "
                f"{self.padding.value}, the taps of the {k} kernel at output pixel ({d.position[0]}, {d.position[1]}) "
                f"tinted orange",
                f"The output of the {k} kernel with padding {self.padding.value}, stride {self.stride.value}, "
                f"dilation {self.dilation.value}: {d.size[0]}×{d.size[1]} pixels; the explained pixel in orange"]

    def _draw(self, demo: ConvDemo, padding: int) -> None:
        # input: the zero-padded image (padding shown as the value 0 in the same grey window),
        # with the taps of the kernel at the explained position tinted orange
        padded = np.pad(self.image, padding)
        rgb = _to_rgb(padded, self._lo, self._hi).astype(np.float64)
        rows = np.array([r for _, _, r, _ in demo.terms]) + padding
        cols = np.array([c for _, _, _, c in demo.terms]) + padding
        rgb[rows, cols] = 0.35 * rgb[rows, cols] + 0.65 * _ORANGE
        show_array(self.input_picture, rgb.astype(np.uint8), self._scale)
        self.input_caption.value = (f"<small>input {self.image.shape[0]}&times;{self.image.shape[1]}"
                                    f" + zero padding {padding}</small>")
        out = demo.output
        lo, hi = (float(v) for v in np.percentile(out, [1, 99]))
        orgb = _to_rgb(out, lo, hi)
        orgb[demo.position] = _ORANGE.astype(np.uint8)
        scale = max(1, (padded.shape[0] * self._scale) // max(out.shape))
        show_array(self.output_picture, orgb, scale)
        self.output_caption.value = (f"<small>output {demo.size[0]}&times;{demo.size[1]} "
                                     f"(formula {demo.formula_size[0]}&times;{demo.formula_size[1]})</small>")


def _terms_html(demo: ConvDemo, shape: tuple[int, int]) -> str:
    """The sum of products as an HTML table laid out like the kernel (padding taps in grey)."""
    kh, kw = demo.kernel.shape
    rows = []
    for u in range(kh):
        cells = []
        for v in range(kw):
            w, x, r, c = demo.terms[u * kw + v]
            grey = "" if (0 <= r < shape[0] and 0 <= c < shape[1]) else " style='color:#6b6b6b'"
            cells.append(f"<td{grey}>{w:.3g}&times;{x:.4g}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    i, j = demo.position
    ok = "equals" if demo.size == demo.formula_size else "differs from"
    return (f"<div style='font-family:monospace;font-size:12px'>"
            f"output size {demo.size[0]}&times;{demo.size[1]} {ok} the formula "
            f"&lfloor;(in + 2p &minus; d(k&minus;1) &minus; 1)/s&rfloor; + 1 = "
            f"{demo.formula_size[0]}&times;{demo.formula_size[1]}<br>"
            f"y[{i}, {j}] = sum of these products (grey: taps on the zero padding)"
            f"<table style='border-spacing:8px 0'>{''.join(rows)}</table>"
            f"= {demo.value:.6g}</div>")


STATIC_GRID = {"padding": (0, 1, 2), "stride": (1, 2)}


def convolution_widget(image: Any = None, *, kernel: str = "sobel_x",
                       window: str | tuple[float, float] | None = None, static: bool | None = None):
    """An ipywidgets explorer of one correlation: kernel, padding, stride, dilation, explained pixel.

    Parameters
    ----------
    image : ndarray (H, W), optional
        The image; pydicom's CT sample in Hounsfield units when None.
    kernel : str, default "sobel_x"
        The kernel selected at the start (a key of :data:`KERNELS` or ``"custom"``).
    window : str or (center, width), optional
        A CT display window for the input (a preset of ``companion.intensity.WINDOWS`` or a pair
        in HU); the default stretches the 1st-99th percentiles. With ``image=None`` (the CT
        sample) the soft-tissue window is used. The output keeps an automatic grey scale.

    Returns
    -------
    ipywidgets.VBox
        The UI. Its attribute ``controller`` holds the state: ``.kernel``, ``.custom``,
        ``.padding``, ``.stride``, ``.dilation``, ``.row``, ``.col`` (the controls; set their
        ``.value``), ``.result`` (the last :class:`ConvDemo`), ``.error`` (the last error
        message, empty when none) and ``.last_update_s`` (seconds of the last update). With
        ``static=True`` (default: :func:`companion.widgets.static_pages`, true in the book build)
        a static explorer instead: every kernel of :data:`KERNELS` with the paddings and strides
        of ``STATIC_GRID`` (the custom kernel, dilation and explained pixel shown disabled),
        switched in the browser without a kernel.
    """
    if image is None:
        from companion.data import load_ct_slice

        image = load_ct_slice().pixels
        window = "soft tissue" if window is None else window
    img = as_float_array(image, "image", ndim=2)
    if kernel not in list(KERNELS) + ["custom"]:
        raise ValueError(f"kernel: expected one of {sorted(KERNELS) + ['custom']}, got {kernel!r}")
    if window is not None:
        from companion.intensity import WINDOWS
        if isinstance(window, str) and window not in WINDOWS:
            raise ValueError(f"window: expected one of {sorted(WINDOWS)} or a (center, width) pair, got {window!r}")
    w = _ConvolutionWidget(img, kernel, window)
    if not use_static(static):
        return w.ui
    return explore(w, {"kernel": sorted(KERNELS), **STATIC_GRID})
