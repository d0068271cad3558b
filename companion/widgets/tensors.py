"""Interactive figure of the tensors chapter: a voxel grid and a kernel's footprint in millimetres.

* :func:`voxel_grid` — pure NumPy: the outlines, in world millimetres, of the voxels of one plane
  (the d–w plane of a volume, i.e. a reformatted slice across the slices) for a given spacing and
  in-plane rotation of the direction matrix, and the outline and physical extent of a k×k kernel
  centred on it. The coordinates come from :func:`companion.geometry.index_to_world`, the
  extent from :func:`companion.geometry.kernel_extent`.
* :func:`draw_voxel_grid` / :func:`voxel_grid_gallery` — matplotlib: one setting, or a static
  grid of settings for the book page.
* :func:`voxel_grid_widget` — sliders for s_d, s_w, the rotation angle, the kernel size and
  the dilation.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Sequence

import numpy as np

from companion._validation import as_int, as_positive_float
from companion.geometry import index_to_world, kernel_extent
from companion.widgets._render import WRAP, explore, figure_png, figure_width, show_png, use_static

__all__ = ["VoxelGrid", "voxel_grid", "draw_voxel_grid", "voxel_grid_gallery", "voxel_grid_widget",
           "plane_direction"]


class VoxelGrid(NamedTuple):
    """What :func:`voxel_grid` computed (world coordinates ``(x, z)`` in mm).

    Attributes
    ----------
    cells : ndarray, shape (n_d * n_w, 4, 2)
        The corners of each voxel of the plane.
    kernel_outline : ndarray, shape (4, 2)
        The corners of the block of voxels covered by the kernel centred in the plane.
    extent_mm : ndarray, shape (2,)
        The kernel's physical extent ``(along d, along w)``.
    centres : ndarray, shape (n_d * n_w, 2)
        Voxel centres.
    """

    cells: np.ndarray
    kernel_outline: np.ndarray
    extent_mm: np.ndarray
    centres: np.ndarray


def plane_direction(angle_deg: float) -> np.ndarray:
    """Direction matrix (columns: w, h, d) rotated by `angle_deg` about the y axis.

    The w axis points along ``(cos a, 0, sin a)``, the d axis along ``(-sin a, 0, cos a)``;
    right-handed and orthonormal.
    """
    a = np.deg2rad(float(angle_deg))
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])


def voxel_grid(spacing_d: float = 5.0, spacing_w: float = 0.7, angle_deg: float = 0.0, *,
               kernel: int = 3, dilation: int = 1, n: Sequence[int] = (7, 15)) -> VoxelGrid:
    """Voxels of a d–w plane and a kernel's footprint, in world millimetres.

    Parameters
    ----------
    spacing_d, spacing_w : float > 0
        Slice spacing and in-plane spacing (mm).
    angle_deg : float
        Rotation of the direction matrix about y (an oblique acquisition).
    kernel : int >= 1
        Kernel size (k×k in this plane).
    dilation : int >= 1
    n : (int, int)
        Voxels ``(n_d, n_w)`` drawn.

    Returns
    -------
    VoxelGrid

    Raises
    ------
    TypeError, ValueError
        If a spacing is not > 0, or `kernel`, `dilation`, `n` are not positive ints.

    Examples
    --------
    >>> g = voxel_grid(5.0, 0.7, kernel=3)
    >>> g.extent_mm.round(6).tolist()
    [15.0, 2.1]
    """
    s_d = as_positive_float(spacing_d, "spacing_d")
    s_w = as_positive_float(spacing_w, "spacing_w")
    if not isinstance(angle_deg, (int, float, np.floating, np.integer)) or isinstance(angle_deg, bool):
        raise TypeError(f"angle_deg: expected a number, got {type(angle_deg).__name__}")
    k = as_int(kernel, "kernel", minimum=1)
    dil = as_int(dilation, "dilation", minimum=1)
    if not isinstance(n, (tuple, list)) or len(n) != 2:
        raise ValueError(f"n: expected (n_d, n_w), got {n!r}")
    n_d, n_w = (as_int(v, "n", minimum=1) for v in n)
    spacing = (s_d, 1.0, s_w)
    direction = plane_direction(angle_deg)
    dd, ww = np.meshgrid(np.arange(n_d), np.arange(n_w), indexing="ij")
    idx = np.stack([dd.ravel(), np.zeros(dd.size), ww.ravel()], axis=1).astype(float)
    offsets = np.array([[-0.5, 0, -0.5], [-0.5, 0, 0.5], [0.5, 0, 0.5], [0.5, 0, -0.5]])
    corners = index_to_world((idx[:, None, :] + offsets[None]).reshape(-1, 3), spacing, (0, 0, 0), direction)
    cells = corners.reshape(-1, 4, 3)[..., [0, 2]]
    centres = index_to_world(idx, spacing, (0, 0, 0), direction)[:, [0, 2]]
    span = dil * (k - 1) + 1
    c = np.array([(n_d - 1) / 2, 0, (n_w - 1) / 2])
    half = np.array([span / 2, 0, span / 2])
    box = c + offsets * 2 * half
    outline = index_to_world(box, spacing, (0, 0, 0), direction)[:, [0, 2]]
    extent = kernel_extent((k, 1, k), spacing, (dil, 1, dil))[[0, 2]]
    return VoxelGrid(cells, outline, extent, centres)


def draw_voxel_grid(grid: VoxelGrid, ax, *, title: str | None = None) -> None:
    """Draw one :class:`VoxelGrid` on a matplotlib Axes (equal mm axes)."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Polygon

    ax.add_collection(PolyCollection(grid.cells, facecolors="0.93", edgecolors="0.55", linewidths=0.5))
    ax.plot(grid.centres[:, 0], grid.centres[:, 1], ".", color="0.4", markersize=1.5)
    ax.add_patch(Polygon(grid.kernel_outline, closed=True, fill=True, facecolor=(1.0, 0.55, 0.0, 0.25),
                         edgecolor="tab:orange", linewidth=1.8))
    pts = grid.cells.reshape(-1, 2)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.05 * (hi - lo).max()
    ax.set_xlim(lo[0] - pad, hi[0] + pad)
    ax.set_ylim(lo[1] - pad, hi[1] + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("x (mm)", fontsize=8)
    ax.set_ylabel("z (mm)", fontsize=8)
    ax.tick_params(labelsize=7)
    label = f"kernel: {grid.extent_mm[0]:.1f} mm (d) × {grid.extent_mm[1]:.1f} mm (w)"
    ax.set_title(f"{title}\n{label}" if title else label, fontsize=8)


def voxel_grid_gallery(settings: Sequence[dict] | None = None, *, ncols: int = 3):
    """A static grid of :func:`voxel_grid` settings (keyword dicts); a default tour when None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if settings is None:
        settings = [dict(spacing_d=1.0, spacing_w=1.0), dict(spacing_d=5.0, spacing_w=0.7),
                    dict(spacing_d=2.5, spacing_w=0.7, angle_deg=25.0)]
    nrows = -(-len(settings) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.0 * nrows), dpi=80, squeeze=False)
    for ax, kw in zip(axes.flat, settings):
        g = voxel_grid(**kw)
        draw_voxel_grid(g, ax, title=f"s_d={kw.get('spacing_d', 5.0)}, s_w={kw.get('spacing_w', 0.7)} mm, "
                                      f"{kw.get('angle_deg', 0.0):g}°")
    for ax in list(axes.flat)[len(settings):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


class _VoxelGridWidget:
    """Controls, the last :class:`VoxelGrid` and its picture; ``.ui`` is the ipywidgets box."""

    def __init__(self) -> None:
        import ipywidgets as W
        from matplotlib.figure import Figure

        style, lay = {"description_width": "90px"}, W.Layout(width="300px")
        self.spacing_d = W.FloatSlider(value=5.0, min=0.5, max=6.0, step=0.1, description="s_d (mm)", style=style, layout=lay)
        self.spacing_w = W.FloatSlider(value=0.7, min=0.3, max=2.0, step=0.05, description="s_w (mm)", style=style, layout=lay)
        self.angle = W.FloatSlider(value=0.0, min=-45.0, max=45.0, step=1.0, description="angle (°)", style=style, layout=lay)
        self.kernel = W.IntSlider(value=3, min=1, max=7, step=2, description="kernel k", style=style, layout=lay)
        self.dilation = W.IntSlider(value=1, min=1, max=3, description="dilation", style=style, layout=lay)
        self.picture = W.Image(format="png")
        self.fig = Figure(figsize=(5.0, 3.6), dpi=72)
        self.ax = self.fig.subplots()
        self.grid: VoxelGrid | None = None
        self._cells = None
        self.last_update_s = float("nan")
        for w in (self.spacing_d, self.spacing_w, self.angle, self.kernel, self.dilation):
            w.observe(self._on_change, names="value")
        self.ui = W.HBox([W.VBox([self.spacing_d, self.spacing_w, self.angle, self.kernel, self.dilation]),
                          self.picture], layout=W.Layout(**WRAP))
        self.ui.controller = self  # the sliders and state, reachable from the box
        self.update()

    def _on_change(self, _change: Any) -> None:
        self.update()

    def update(self) -> None:
        from matplotlib.collections import PolyCollection
        from matplotlib.patches import Polygon

        t0 = time.perf_counter()
        self.grid = g = voxel_grid(self.spacing_d.value, self.spacing_w.value, self.angle.value,
                                   kernel=self.kernel.value, dilation=self.dilation.value)
        if self._cells is None:  # first draw: make the artists once, then only move them
            draw_voxel_grid(g, self.ax)
            self._cells = next(c for c in self.ax.collections if isinstance(c, PolyCollection))
            self._dots = self.ax.lines[0]
            self._kernel = next(p for p in self.ax.patches if isinstance(p, Polygon))
            self.fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.13)
        else:
            self._cells.set_verts(g.cells)
            self._dots.set_data(g.centres[:, 0], g.centres[:, 1])
            self._kernel.set_xy(g.kernel_outline)
            pts = g.cells.reshape(-1, 2)
            lo, hi = pts.min(axis=0), pts.max(axis=0)
            pad = 0.05 * (hi - lo).max()
            self.ax.set_xlim(lo[0] - pad, hi[0] + pad)
            self.ax.set_ylim(lo[1] - pad, hi[1] + pad)
            self.ax.set_title(f"kernel: {g.extent_mm[0]:.1f} mm (d) × {g.extent_mm[1]:.1f} mm (w)", fontsize=8)
        show_png(self.picture, figure_png(self.fig, close=False), figure_width(self.fig))
        self.last_update_s = time.perf_counter() - t0

    def alt_texts(self) -> list[str]:
        g = self.grid
        return [f"Voxel grid of spacing {self.spacing_d.value:g} mm (d) by {self.spacing_w.value:g} mm (w), plane "
                f"tilted {self.angle.value:g}°, with a {self.kernel.value}×{self.kernel.value} kernel of dilation "
                f"{self.dilation.value} drawn on it: it covers {g.extent_mm[0]:.1f} mm (d) × {g.extent_mm[1]:.1f} mm (w)"]


STATIC_GRID = {"spacing_d": (0.7, 2.0, 5.0), "angle": (0.0, 15.0, 30.0, 45.0), "kernel": (3, 5)}


def voxel_grid_widget(*, static: bool | None = None):
    """The interactive voxel grid: an ipywidgets box to display.

    ``box.controller`` holds the sliders (``spacing_d``, ``spacing_w``, ``angle``, ``kernel``,
    ``dilation``), ``grid`` (the last :class:`VoxelGrid`) and ``last_update_s`` (the time the last
    update took). With ``static=True`` (default: :func:`companion.widgets.static_pages`, true in
    the book build) a static explorer over ``STATIC_GRID`` instead (the in-plane spacing and the
    dilation shown disabled at their start values), switched in the browser without a kernel.
    """
    w = _VoxelGridWidget()
    return explore(w, STATIC_GRID) if use_static(static) else w.ui
