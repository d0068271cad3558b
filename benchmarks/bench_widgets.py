"""Widget update times: how long one control change takes, for every widget of the book.

The budget is 100 ms per update (the reader moves a slider and sees the result at once). Each
widget is built as its chapter builds it (small seeded inputs where the chapter uses a trained
model), then every slider, dropdown and checkbox it has is moved through a few of its values; the
callbacks run synchronously, so the time of ``control.value = v`` is the update time.

    .venv/bin/python benchmarks/bench_widgets.py          # one thread, as the book builds
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

BUDGET_S = 0.100


def controls(widget):
    """Every value control in the widget tree (sliders, dropdowns, checkboxes, toggles)."""
    import ipywidgets as W

    found, stack = [], [widget]
    while stack:
        w = stack.pop()
        if isinstance(w, (W.IntSlider, W.FloatSlider, W.FloatLogSlider, W.SelectionSlider, W.Dropdown,
                          W.Checkbox, W.ToggleButtons, W.RadioButtons)) and not w.disabled:
            found.append(w)
        stack.extend(getattr(w, "children", ()))
    return found


def candidate_values(c, n=4):
    import ipywidgets as W

    if isinstance(c, W.Checkbox):
        return [not c.value, c.value]
    if isinstance(c, (W.SelectionSlider, W.Dropdown, W.ToggleButtons, W.RadioButtons)):
        opts = [o[1] if isinstance(o, tuple) else o for o in c.options]
        return [o for o in opts if o != c.value][:n] + [c.value]
    if isinstance(c, W.FloatLogSlider):
        return [float(c.base ** e) for e in np.linspace(c.min, c.max, n)] + [c.value]
    values = np.linspace(c.min, c.max, n)
    return [type(c.value)(v) for v in values] + [c.value]


def time_updates(widget) -> list[float]:
    times = []
    for c in controls(widget):
        for v in candidate_values(c):
            if v == c.value:
                continue
            t0 = time.perf_counter()
            c.value = v
            times.append(time.perf_counter() - t0)
    return times


def tiny_unet():
    """A small seeded 2-D U-Net (untrained: the update time does not depend on the weights)."""
    from companion.models import UNet

    torch.manual_seed(0)
    return UNet(1, 2, base_channels=8, depth=3).eval()


def builders():
    from companion.data import load_ct_slice, segmentation_dataset
    from companion.widgets.activations import activation_widget
    from companion.widgets.batchnorm import batch_stat_widget
    from companion.widgets.calibration import temperature_widget
    from companion.widgets.convolution import convolution_widget
    from companion.widgets.deployment import shift_widget
    from companion.widgets.layer import receptive_field_widget
    from companion.widgets.losses import loss_widget
    from companion.widgets.pooling import pooling_widget
    from companion.widgets.residual import gradient_widget
    from companion.widgets.tensors import voxel_grid_widget
    from companion.widgets.unet import slice_viewer

    rng = np.random.default_rng(0)
    data = segmentation_dataset(4, 64, seed=0)
    images = np.stack([data[i][0].numpy() for i in range(4)])[:, 0]
    masks = np.stack([data[i][1].numpy() for i in range(4)])
    logits = rng.standard_normal((2000, 2)) * 3
    target = rng.integers(0, 2, 2000)
    return {
        "01 convolution (256x256 CT)": lambda: convolution_widget(
            np.kron(load_ct_slice().pixels, np.ones((2, 2), np.float32)), kernel="sobel_x"),
        "02 voxel grid": voxel_grid_widget,
        "03 receptive field": receptive_field_widget,
        "04 activations": activation_widget,
        "05 batch statistics": batch_stat_widget,
        "06 pooling": pooling_widget,
        "07 residual gradients": gradient_widget,
        "08 U-Net slice viewer": lambda: slice_viewer(images, masks, (images > 0.5).astype(np.int64)),
        "09 losses": loss_widget,
        "10 temperature": lambda: temperature_widget(logits, target),
        "11 domain shift": lambda: shift_widget(tiny_unet(), images[0], masks[0]),
    }


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    torch.set_num_threads(1)
    print(f"{'widget':30s} {'updates':>7s} {'median ms':>10s} {'max ms':>8s}  within {BUDGET_S * 1e3:.0f} ms")
    for name, build in builders().items():
        w = build()
        times = time_updates(w)
        med, worst = statistics.median(times) * 1e3, max(times) * 1e3
        print(f"{name:30s} {len(times):7d} {med:10.1f} {worst:8.1f}  {'yes' if med <= BUDGET_S * 1e3 else 'NO'}")


if __name__ == "__main__":
    main()
