"""The voxel-grid widget of chap-tensors, headless: pure geometry checked by hand, the UI reacts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from companion.widgets.tensors import plane_direction, voxel_grid, voxel_grid_gallery, voxel_grid_widget


def test_voxel_grid_extent_and_cells():
    g = voxel_grid(5.0, 0.7, 0.0, kernel=3, n=(4, 6))
    np.testing.assert_allclose(g.extent_mm, [15.0, 2.1])
    assert g.cells.shape == (24, 4, 2) and g.centres.shape == (24, 2)
    # axis-aligned: every voxel is 0.7 mm wide (x) and 5 mm tall (z)
    np.testing.assert_allclose(np.ptp(g.cells[..., 0], axis=1), 0.7)
    np.testing.assert_allclose(np.ptp(g.cells[..., 1], axis=1), 5.0)
    # the kernel outline spans 3 voxels each way
    np.testing.assert_allclose(np.ptp(g.kernel_outline, axis=0), [2.1, 15.0])


def test_voxel_grid_rotation_keeps_sizes():
    g0, g1 = voxel_grid(2.0, 1.0, 0.0), voxel_grid(2.0, 1.0, 30.0)
    side = lambda c: np.linalg.norm(c[:, 1] - c[:, 0], axis=-1)  # noqa: E731
    np.testing.assert_allclose(side(g1.cells), side(g0.cells))
    d = plane_direction(30.0)
    np.testing.assert_allclose(d.T @ d, np.eye(3), atol=1e-12)
    assert np.linalg.det(d) == pytest.approx(1.0)
    assert not np.allclose(g0.cells, g1.cells)


def test_voxel_grid_dilation():
    np.testing.assert_allclose(voxel_grid(1.0, 1.0, kernel=3, dilation=2).extent_mm, [5.0, 5.0])


@pytest.mark.parametrize("kwargs, exc, pattern", [
    (dict(spacing_d=0.0), ValueError, r"^spacing_d: expected a finite number > 0"),
    (dict(spacing_w="a"), TypeError, r"^spacing_w: expected a number"),
    (dict(kernel=0), ValueError, r"^kernel: expected an int >= 1"),
    (dict(angle_deg="x"), TypeError, r"^angle_deg: expected a number"),
    (dict(n=(3,)), ValueError, r"^n: expected \(n_d, n_w\)"),
])
def test_voxel_grid_bad_calls(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        voxel_grid(**kwargs)


def test_widget_updates_on_slider_change():
    box = voxel_grid_widget()
    c = box.controller
    before = c.picture.value
    np.testing.assert_allclose(c.grid.extent_mm, [15.0, 2.1])
    c.spacing_d.value = 2.0
    np.testing.assert_allclose(c.grid.extent_mm, [6.0, 2.1])
    assert c.picture.value != before and len(c.picture.value) > 100
    c.kernel.value = 5
    np.testing.assert_allclose(c.grid.extent_mm, [10.0, 3.5])
    c.angle.value = 20.0
    np.testing.assert_allclose(c.grid.cells, voxel_grid(2.0, 0.7, 20.0, kernel=5).cells)
    assert c.last_update_s > 0


def test_gallery_has_one_panel_per_setting():
    import matplotlib.pyplot as plt
    fig = voxel_grid_gallery([dict(spacing_d=1.0, spacing_w=1.0), dict(spacing_d=3.0, spacing_w=0.5)], ncols=2)
    assert len(fig.axes) == 2 and "3.0 mm (d)" in fig.axes[0].get_title()
    plt.close(fig)


def test_static_explorer():
    from _static_check import check_static

    box = voxel_grid_widget(static=True)
    r = check_static(box, alt_words=("Voxel grid of spacing", "kernel"))
    assert r["combinations"] == 24
    assert [w.description for w in box.controller.fixed] == ["s_w (mm)", "dilation"]
