"""companion.models.classifier: the small CNN's shapes, a deterministic fit that learns, probabilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from companion.models.classifier import SmallCNN, fit_classifier, predict_proba


def _toy(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.1, (n, 1, 12, 12)).astype(np.float32)
    y = np.arange(n) % 2
    for i in np.flatnonzero(y):                      # a bright 2x2 spot somewhere: class 1
        r, c = rng.integers(0, 10, 2)
        x[i, 0, r:r + 2, c:c + 2] += 1.0
    return x, y


def test_fit_is_deterministic_and_learns():
    x, y = _toy()
    weights = []
    for _ in range(2):
        torch.manual_seed(1)
        net = SmallCNN(channels=(4, 8, 8))
        h = fit_classifier(net, x, y, epochs=25, batch_size=8, lr=1e-2, seed=2)
        weights.append(net.head[2].weight.detach().clone())
    assert torch.equal(weights[0], weights[1]) and not net.training
    assert h.accuracy[-1] == 1.0 and h.loss[-1] < h.loss[0]
    xt, yt = _toy(seed=5)
    p = predict_proba(net, xt)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-6)
    assert (p.argmax(1) == yt).mean() >= 0.9
    with torch.no_grad():                           # predict_proba = softmax of the logits in eval mode
        np.testing.assert_allclose(p, torch.softmax(net(torch.from_numpy(xt)), 1).numpy(), rtol=1e-6)


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_shapes_and_named_blocks(pool):
    net = SmallCNN(in_channels=2, classes=3, pool=pool)
    assert tuple(net(torch.zeros(4, 2, 16, 16)).shape) == (4, 3)
    assert [n for n, _ in net.named_children()] == ["block1", "block2", "block3", "head"]


def test_bad_calls():
    x, y = _toy(8)
    with pytest.raises(ValueError, match=r"^labels: expected 8 integer labels"):
        fit_classifier(SmallCNN(), x, y[:4])
    with pytest.raises(ValueError, match=r"^images: expected a float array"):
        fit_classifier(SmallCNN(), x[:, 0], y)
    with pytest.raises(TypeError, match=r"^model: expected a torch.nn.Module"):
        predict_proba("net", x)
    with pytest.raises(ValueError, match=r"^pool: expected 'max' or 'avg'"):
        SmallCNN(pool="sum")
