"""companion.widgets.explainability: the pure function against companion.explain and
companion.attribution, the live widget's controls, the static explorer."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ipywidgets")

from companion.attribution import attribution_inside, pointing_game  # noqa: E402
from companion.explain import grad_cam, integrated_gradients, occlusion_sensitivity, saliency, smoothgrad  # noqa: E402
from companion.models.classifier import SmallCNN  # noqa: E402
from companion.widgets._render import explorer_report  # noqa: E402
from companion.widgets.explainability import METHODS, attribution_map, explain_widget  # noqa: E402


def _case(n=3, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.normal(0.8, 0.05, (n, 16, 16)).astype(np.float32)
    lesions = np.zeros((n, 16, 16), bool)
    for i in range(n):
        r, c = rng.integers(3, 12, 2)
        lesions[i, r - 1:r + 2, c - 1:c + 2] = True
        images[i][lesions[i]] += 0.4
    torch.manual_seed(seed)
    return SmallCNN().eval(), images, lesions


def test_attribution_map_is_the_chapters_call():
    net, images, lesions = _case()
    x = images[:1, None]
    expected = {"saliency": saliency(net, x, 1)[0, 0],
                "SmoothGrad": smoothgrad(net, x, 1, sigma=0.1, samples=16, seed=4)[0, 0],
                "Integrated Gradients": np.abs(integrated_gradients(net, x, 1, steps=32)[0, 0]),
                "Grad-CAM": grad_cam(net, net.block3, x, 1)[0],
                "occlusion": occlusion_sensitivity(net, x, 1, 4, stride=2, baseline=0.85, score="logit")[0]}
    for method in METHODS:
        v = attribution_map(net, images[0], lesions[0], method, seed=4)
        np.testing.assert_allclose(v.attribution, expected[method], rtol=1e-6, atol=1e-9)
        assert v.hit == pointing_game(expected[method], lesions[0])
        assert v.inside == pytest.approx(attribution_inside(expected[method], lesions[0]))
    with pytest.raises(ValueError, match=r"^method: expected one of"):
        attribution_map(net, images[0], lesions[0], "LRP")
    with pytest.raises(ValueError, match=r"^lesion: expected the image's shape"):
        attribution_map(net, images[0], lesions[0, :8], "saliency")


def test_live_widget_follows_its_controls():
    net, images, lesions = _case()
    ui = explain_widget(net, images, lesions, static=False).controller
    ui.image.value, ui.method.value = 2, "Grad-CAM"
    np.testing.assert_allclose(ui.view.attribution, grad_cam(net, net.block3, images[2:3, None], 1)[0], rtol=1e-6)
    assert ui.picture.value[:4] == b"\x89PNG" and "Grad-CAM" in ui.alt_texts()[0]


def test_static_explorer_covers_methods_and_images():
    net, images, lesions = _case()
    r = explorer_report(explain_widget(net, images, lesions, static_images=2, static=True))
    assert r["combinations"] == r["leaves"] == r["images"] == len(METHODS) * 2
    assert len(r["alts"]) == r["images"] and r["state_bytes"] < 1_000_000
