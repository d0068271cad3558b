"""The capstone checker: designs that meet every requirement pass, each violated requirement is
named with its size, and nothing a learner submits makes it raise."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.exercises import capstone_check, capstone_report, capstone_requirements
from companion.exercises.capstone import _example_design

LEARNERS = ["", "ada", "bob", "林", "x" * 40]


@pytest.mark.parametrize("learner", LEARNERS)
def test_requirements_are_per_learner_and_stable(learner):
    a, b = capstone_requirements(learner=learner), capstone_requirements(learner=learner)
    assert a == b and set(a) >= {"spacing", "volume", "budget_gib", "min_rf_mm", "min_batch", "n_classes"}


def test_requirements_differ_between_learners():
    assert len({str(capstone_requirements(learner=f"l{i}")) for i in range(30)}) > 10


@pytest.mark.parametrize("learner", [f"learner-{i}" for i in range(40)] + LEARNERS)
def test_every_learner_has_a_feasible_design(learner):
    design = _example_design(learner)
    fb = capstone_check(design, learner=learner)
    assert fb.correct, fb.message


def _violate(kind: str, design: dict, req: dict) -> dict:
    d = copy.deepcopy(design)
    if kind == "divisibility":
        d["patch_size"] = (d["patch_size"][0], d["patch_size"][1] + 1, d["patch_size"][2])
    elif kind == "memory":
        d["batch_size"] = 64
    elif kind == "batch":
        d["batch_size"] = 1
    elif kind == "receptive-field":
        d["depth"] = 1
        d["kernels"], d["pools"] = d["kernels"][:2], d["pools"][:1]
    elif kind == "anisotropy":
        d["kernels"] = [3] * len(d["kernels"])
        d["pools"] = [2] * len(d["pools"])
        d["patch_size"] = (32, d["patch_size"][1], d["patch_size"][2])
    elif kind == "patch":
        d["patch_size"] = (req["volume"][0] // 32 * 32 + 64, d["patch_size"][1], d["patch_size"][2])
    return d


@pytest.mark.parametrize("kind, words", [
    ("divisibility", "Divisibility: axis 1"),
    ("memory", "Memory:"),
    ("batch", "Batch: 1 patch"),
    ("receptive-field", "Receptive field:"),
    ("patch", "Patch: axis 0"),
])
@pytest.mark.parametrize("learner", ["ada", "bob", ""])
def test_each_violated_requirement_is_named(kind, words, learner):
    req = capstone_requirements(learner=learner)
    design = _violate(kind, _example_design(learner), req)
    fb = capstone_check(design, learner=learner)
    assert not fb.correct and words in fb.message, fb.message


def test_anisotropy_is_named_where_the_voxels_are_anisotropic():
    learners = [f"l{i}" for i in range(40)]
    aniso = [n for n in learners if capstone_requirements(learner=n)["spacing"][0] > 2 * capstone_requirements(learner=n)["spacing"][1]]
    assert aniso
    for n in aniso[:5]:
        design = _violate("anisotropy", _example_design(n), capstone_requirements(learner=n))
        fb = capstone_check(design, learner=n)
        assert not fb.correct and "Anisotropy: stage 0: axis 0" in fb.message and "use 1" in fb.message


def test_memory_overrun_is_stated_as_a_factor():
    design = _violate("memory", _example_design("ada"), capstone_requirements(learner="ada"))
    report = capstone_report(design, learner="ada")
    factor = report["memory_gib"] / capstone_requirements(learner="ada")["budget_gib"]
    assert f"{factor:.1f}×" in capstone_check(design, learner="ada").message


@pytest.mark.parametrize("design, words", [
    (None, "Expected the design as a dict"),
    ({}, "lacks 'depth'"),
    ({"depth": 2, "base_channels": 8, "kernels": [3, 3], "pools": [2, 2], "patch_size": (32, 32, 32), "batch_size": 2},
     "kernels` needs depth + 1 = 3"),
    ({"depth": 2, "base_channels": 8, "kernels": [3, 3, 3], "pools": [2], "patch_size": (32, 32, 32), "batch_size": 2},
     "pools` needs depth = 2"),
    ({"depth": "2", "base_channels": 8, "kernels": [3] * 3, "pools": [2] * 2, "patch_size": (32,) * 3, "batch_size": 2},
     "`depth` should be a whole number"),
    ({"depth": 2, "base_channels": 8, "kernels": [3, (3, 3), 3], "pools": [2] * 2, "patch_size": (32,) * 3,
      "batch_size": 2}, "`kernels[1]` should be"),
    ({"depth": 2, "base_channels": 8, "kernels": [3] * 3, "pools": [2] * 2, "patch_size": (32, 32), "batch_size": 2},
     "`patch_size` should be three"),
    ({"depth": 99, "base_channels": 8, "kernels": [3], "pools": [], "patch_size": (32,) * 3, "batch_size": 2},
     "`depth`"),
])
def test_unreadable_designs_get_feedback(design, words):
    fb = capstone_check(design)
    assert not fb.correct and words in fb.message, fb.message


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["depth", "base_channels", "kernels", "pools", "patch_size", "batch_size", "x"]), inner, max_size=6),
    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(design=JUNK)
def test_check_never_raises_on_junk(design):
    fb = capstone_check(design, learner="fuzz")
    assert isinstance(fb.message, str) and fb.message
