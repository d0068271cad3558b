"""Write-the-function exercises: the checker runs the learner's callable on their own inputs and
never raises, never hangs past its limits, names what is wrong, and refuses a function that just
calls the companion implementation."""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.exercises import EXERCISES, answer, check
from companion.exercises._engine import _function_inputs
from companion.exercises._sandbox import run_learner_function

FUNCTION_IDS = sorted(i for i, e in EXERCISES.items() if e.kind == "function")
TOPICS = {"conv", "tensors", "layer", "act", "bn", "pool", "res", "unet", "loss", "calib"}


def test_every_principles_chapter_has_a_function_exercise():
    assert TOPICS <= {i.split(".")[0] for i in FUNCTION_IDS}


@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
@pytest.mark.parametrize("learner", ["", "ada", "李雷"])
def test_the_worked_solution_passes(exercise_id, learner):
    fb = check(exercise_id, answer(exercise_id, learner=learner), learner=learner)
    assert fb.correct, fb.message


@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
def test_the_oracle_agrees_with_finite_differences(exercise_id):
    ex = EXERCISES[exercise_id]
    if ex.finite_difference is None:
        pytest.skip("not a gradient")
    _, inputs, outputs = _function_inputs(ex, "fd")
    for args, ref in zip(inputs, outputs):
        numeric = ex.finite_difference(args)
        ref = ref if isinstance(ref, tuple) else (ref,)
        numeric = numeric if isinstance(numeric, tuple) else (numeric,)
        for r, n in zip(ref, numeric):
            err = np.max(np.abs(np.asarray(r) - np.asarray(n))) / np.max(np.abs(n))
            assert err < 1e-6, err


@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
def test_inputs_differ_between_learners_and_have_several_shapes(exercise_id):
    ex = EXERCISES[exercise_id]
    _, a, _ = _function_inputs(ex, "ada")
    _, b, _ = _function_inputs(ex, "bob")
    assert len(a) >= 3
    flat = lambda inputs: np.concatenate([np.ravel(np.asarray(x, dtype=float)) for args in inputs for x in args  # noqa: E731
                                          if isinstance(x, np.ndarray)] or [np.zeros(1)])
    assert not np.array_equal(flat(a), flat(b)) or exercise_id == "layer.write-receptive-field"


@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
def test_each_misconception_is_named(exercise_id):
    ex = EXERCISES[exercise_id]
    assert ex.misconceptions, "every function exercise names at least one typical mistake"
    for mis in ex.misconceptions:
        fb = check(exercise_id, lambda *args, _m=mis: _m.value(args), learner="ada")
        assert not fb.correct and mis.message in fb.message, (mis.name, fb.message)


def _loop(*args):
    while True:
        pass


def _huge(*args):
    return np.zeros(10**8)


JUNK_FUNCTIONS = {
    "raises": (lambda *a: 1 / 0, "ZeroDivisionError"),
    "returns-none": (lambda *a: None, "returned None"),
    "returns-text": (lambda *a: "abc", "not numbers"),
    "wrong-shape": (lambda *a: np.zeros((2, 3, 4)), "shape"),
    "nan": (lambda *a: np.asarray(answer_(a), dtype=float) * np.nan, "nan or inf"),
    "exit": (lambda *a: sys.exit(3), "SystemExit"),
    "os-exit": (lambda *a: os._exit(1), "ended the process"),
    "loop": (_loop, "longer than"),
    "huge": (_huge, "huge"),
    "not-callable": (42, "Expected a Python function"),
    "none": (None, "No answer yet"),
}


def answer_(args):  # the shape of a plausible result, for the nan case
    return np.ones_like(np.asarray(args[0], dtype=float))


@pytest.mark.parametrize("name", sorted(JUNK_FUNCTIONS))
@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
def test_junk_functions_get_feedback_and_never_hang(monkeypatch, exercise_id, name):
    ex = EXERCISES[exercise_id]
    monkeypatch.setitem(EXERCISES, exercise_id, dataclasses.replace(ex, per_call=0.5))
    fn, words = JUNK_FUNCTIONS[name]
    start = time.monotonic()
    fb = check(exercise_id, fn, learner="junk")
    elapsed = time.monotonic() - start
    assert not fb.correct
    assert elapsed < 30, f"the check took {elapsed:.1f} s"     # the contract: a whole check within 30 s
    if name in ("nan", "wrong-shape") and words not in fb.message:
        # a tuple is expected (three gradients): the count of returned values is named instead
        assert "shape" in fb.message or "value(s)" in fb.message, fb.message
    else:
        assert words in fb.message, fb.message
    assert not re.search(r"\bdef \w+\(", fb.message) and "Traceback" not in fb.message   # no code shown


@pytest.mark.parametrize("exercise_id, cheat", [
    ("conv.write-correlate", lambda x, w: __import__("companion.convolution", fromlist=["x"]).correlate(
        x[None, None], w[None, None])[0, 0]),
    ("bn.write-backward", lambda g, x, gamma, eps: (lambda n: n.batch_norm_backward(
        g, n.batch_norm(x, gamma, 0 * gamma, eps)[1]))(__import__("companion.normalization", fromlist=["x"]))),
    ("calib.write-ece", lambda c, k, n: __import__("companion.calibration", fromlist=["x"]).expected_calibration_error(c, k, n)),
])
def test_calling_the_companion_implementation_is_refused(exercise_id, cheat):
    fb = check(exercise_id, cheat)
    assert not fb.correct and "the companion implementation this exercise asks you to write" in fb.message


def test_a_cheat_through_a_from_import_is_caught_too():
    from companion.activations import elu_grad as helper   # bound before the check: no module lookup

    fb = check("act.write-elu-grad", lambda x, alpha: helper(x, alpha))
    assert not fb.correct and "elu_grad" in fb.message


def test_the_learners_own_state_is_not_changed_by_the_check():
    seen = []
    fb = check("layer.write-receptive-field", lambda layers: seen.append(1) or 5)
    assert not fb.correct and seen == []          # it ran in a separate process


def test_sandbox_results_in_order_and_stops_at_the_first_failure():
    out = run_learner_function(lambda v: 1 / v, [(1.0,), (0.0,), (2.0,)], per_call=1.0)
    assert [r.status for r in out] == ["ok", "error", "killed"]
    assert float(out[0].value) == 1.0 and "ZeroDivisionError" in out[1].detail


def test_sandbox_limits_a_call_stuck_in_c_code():
    start = time.monotonic()
    out = run_learner_function(lambda: np.linalg.inv(np.random.rand(3000, 3000) + np.eye(3000)) @ np.ones(3000),
                               [()] * 2, per_call=0.2)
    assert out[0].status == "timeout" and out[1].status == "killed"
    assert time.monotonic() - start < 10   # killed after its limit + 1 s grace, not after the 20 s total


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exercise_id=st.sampled_from(FUNCTION_IDS), value=st.one_of(
    st.none(), st.integers(), st.floats(allow_nan=True), st.text(max_size=4),
    st.lists(st.floats(allow_nan=True), max_size=4), st.just(np.zeros((3, 3)))))
def test_functions_returning_junk_never_raise(exercise_id, value):
    fb = check(exercise_id, lambda *args: value, learner="fuzz")
    assert not fb.correct and isinstance(fb.message, str) and fb.message


def test_every_principles_chapter_has_all_three_new_kinds():
    """Each chapter of Part 1 has a write-the-function, a run-it-and-measure and a choose-and-justify item."""
    kinds = {}
    for i, e in EXERCISES.items():
        kinds.setdefault(i.split(".")[0], set()).add(e.kind)
    for topic in TOPICS:
        assert {"function", "experiment", "choice"} <= kinds.get(topic, set()), (topic, kinds.get(topic))
