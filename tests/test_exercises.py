"""The exercise engine: every exercise of every chapter, judged against its own reference.

Per exercise: the reference answer passes; it is the same for the same learner and differs
between learners (for exercises with numbers to vary); wrong answers are rejected with a message
that does not reveal the answer; each misconception is recognised. ``check`` is fuzzed with
hypothesis over junk answers and never raises.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from _jupyterquiz import numeric_verdict

from companion.exercises import EXERCISES, answer, check, exercise, quiz
from companion.exercises._engine import Exercise, Misconception, register

IDS = sorted(EXERCISES)
VALUE_IDS = [i for i in IDS if EXERCISES[i].kind in ("number", "array", "experiment")]  # answers are numbers
LEARNERS = ["", "ada", "李雷"]


@pytest.mark.parametrize("exercise_id", IDS)
@pytest.mark.parametrize("learner", LEARNERS)
def test_check_accepts_reference_answer(exercise_id, learner):
    ref = answer(exercise_id, learner=learner)
    fb = check(exercise_id, ref, learner=learner)
    assert fb.correct, fb.message


@pytest.mark.parametrize("exercise_id", IDS)
def test_exercise_is_deterministic_per_learner(exercise_id, monkeypatch):
    """The same learner gets the same numbers and reference each time they are computed anew.

    The engine caches references per learner, so asking twice would only compare the cache with
    itself: the cache is emptied before each computation, and NumPy's global generator is left in
    a different state each time (a reference must not depend on it). For a function exercise the
    reference is the oracle's outputs on the learner's test inputs.
    """
    from companion.exercises import _engine

    ex = EXERCISES[exercise_id]

    def fresh(global_seed):
        monkeypatch.setattr(_engine, "_SOLVED", {})
        np.random.seed(global_seed)
        inst = exercise(exercise_id, learner="ada")
        ref = (_engine._function_inputs(ex, "ada")[1:] if ex.kind == "function"
               else answer(exercise_id, learner="ada"))
        return inst.prompt, inst.params, ref

    state = np.random.get_state()
    try:
        first, second = fresh(1), fresh(2)
    finally:
        np.random.set_state(state)
    assert first[0] == second[0]
    np.testing.assert_equal(first[1], second[1])
    np.testing.assert_equal(first[2], second[2])


def test_learners_get_different_numbers():
    varied = VALUE_IDS
    if not varied:
        pytest.skip("no numeric exercises registered yet")
    differing = [i for i in varied
                 if len({exercise(i, learner=name).prompt for name in ("ada", "bob", "chen", "dana")}) > 1]
    # every numeric exercise draws its own numbers; allow a rare coincidence in one of them
    assert len(differing) >= len(varied) - 1, sorted(set(varied) - set(differing))


@pytest.mark.parametrize("exercise_id", VALUE_IDS)
def test_check_rejects_wrong_answer_without_revealing_it(exercise_id):
    ref = np.asarray(answer(exercise_id, learner="ada"), dtype=float)
    wrong = ref * 1.37 + 2.71
    fb = check(exercise_id, wrong, learner="ada")
    assert not fb.correct
    assert fb.message
    if ref.size == 1:
        value = float(ref)
        for text in {repr(value), f"{value:g}", f"{value:.4f}"}:
            if len(text.strip("-0.")) >= 2:  # a one-digit number may appear innocently
                assert text not in fb.message, (text, fb.message)


@pytest.mark.parametrize("exercise_id", [i for i in IDS if EXERCISES[i].misconceptions
                                         and EXERCISES[i].kind != "function"])  # functions: test_exercise_functions
def test_each_misconception_is_named(exercise_id):
    ex = EXERCISES[exercise_id]
    params = exercise(exercise_id, learner="ada").params
    ref = answer(exercise_id, learner="ada")
    recognised = 0
    for mis in ex.misconceptions:
        wrong = mis.value(params)
        if ex.kind == "choice":
            same = str(wrong) == str(ref)
        else:
            w, r = np.asarray(wrong, dtype=float), np.asarray(ref, dtype=float)
            same = w.shape == r.shape and np.allclose(w, r, rtol=ex.rtol, atol=ex.atol)
        if same:  # for this learner's numbers the mistake happens to give the right answer
            continue
        fb = check(exercise_id, wrong, learner="ada")
        assert not fb.correct
        assert fb.message == mis.message, (mis.name, fb.message)
        recognised += 1
    assert recognised >= 1


@pytest.mark.parametrize("exercise_id", IDS)
def test_quiz_accepts_reference(exercise_id):
    questions = quiz(exercise_id)
    if EXERCISES[exercise_id].kind == "function":
        assert questions == []   # a write-the-function exercise has no quiz; the page shows its solution
        return
    assert questions and all("question" in q and "answers" in q for q in questions)
    q = questions[0]
    if q["type"] == "multiple_choice":
        assert sum(a["correct"] for a in q["answers"]) == 1
    else:
        ranges = [a for a in q["answers"] if a["type"] == "range" and a["correct"]]
        assert ranges
        if EXERCISES[exercise_id].kind == "number":
            value = float(np.asarray(answer(exercise_id), dtype=float))
            lo, hi = ranges[0]["range"]
            assert lo <= value <= hi


JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.lists(st.floats(allow_nan=True), max_size=5),
    st.lists(st.lists(st.integers(-5, 5), max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(object()), st.just(np.zeros((2, 3, 4))), st.just(np.array(["a", "b"])),
    st.just(complex(1, 2)), st.just([1, [2, 3]]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer_=JUNK, exercise_id=st.sampled_from(IDS + ["no.such-id", 42, None]) if IDS else st.just("no.such-id"))
def test_check_never_raises(answer_, exercise_id):
    fb = check(exercise_id, answer_)
    assert isinstance(fb.correct, bool)
    assert isinstance(fb.message, str) and fb.message


def _a_wrong_answer(exercise_id: str, ref):
    """An answer that must be rejected: another option, or the reference moved well outside tolerance."""
    ex = EXERCISES[exercise_id]
    if ex.kind == "choice":
        return next(c for c in ex.choices if c != str(ref))
    if ex.kind == "function":
        return lambda *args: 1e3   # a function that computes something else
    r = np.asarray(ref, dtype=float)
    return r + 10 * (ex.atol + ex.rtol * np.abs(r)) + 1.0


LEARNER_NAMES = st.text(alphabet=st.characters(codec="utf-8"), max_size=10)


@pytest.mark.parametrize("exercise_id", IDS)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(learner=LEARNER_NAMES, junk=JUNK)
def test_check_fuzzed_for_every_exercise(exercise_id, learner, junk):
    """Every id, any learner name: junk never raises, the reference passes, a wrong answer fails."""
    fb = check(exercise_id, junk, learner=learner)
    assert isinstance(fb.correct, bool) and isinstance(fb.message, str) and fb.message
    ref = answer(exercise_id, learner=learner)
    assert check(exercise_id, ref, learner=learner).correct
    wrong = check(exercise_id, _a_wrong_answer(exercise_id, ref), learner=learner)
    assert not wrong.correct and wrong.message


def test_check_accepts_torch_tensor_and_numeric_string():
    torch = pytest.importorskip("torch")
    numeric = [i for i in IDS if EXERCISES[i].kind == "number"]
    if not numeric:
        pytest.skip("no numeric exercises registered yet")
    i = numeric[0]
    ref = float(np.asarray(answer(i, learner="ada"), dtype=float))
    assert check(i, torch.tensor(ref, dtype=torch.float64), learner="ada").correct
    assert check(i, repr(ref), learner="ada").correct
    assert check(i, [ref], learner="ada").correct


# ---- the engine's diagnoses, on a small exercise defined here (independent of the catalog) ----

_DEMO = Exercise(
    id="demo.scaled-matrix",
    title="demo",
    prompt="Multiply the 2x3 matrix of ones by {k}.",
    make_params=lambda rng: {"k": int(rng.integers(2, 9))},
    solve=lambda p: np.arange(6.0).reshape(2, 3) * p["k"],
    kind="array",
    quiz_format=lambda p, ref: ("What is the last entry?", ref[-1, -1]),
)
_DEMO_NUM = Exercise(
    id="demo.count",
    title="demo",
    prompt="Count to {n} (in mm).",
    make_params=lambda rng: {"n": int(rng.integers(20, 90))},
    solve=lambda p: p["n"],
    integer=True,
    unit="mm",
    misconceptions=(Misconception("double", lambda p: 2 * p["n"], "You counted twice."),),
)


@pytest.fixture(scope="module")
def demo():
    register(_DEMO, _DEMO_NUM)
    yield
    EXERCISES.pop(_DEMO.id)
    EXERCISES.pop(_DEMO_NUM.id)


@pytest.mark.parametrize("make_answer, pattern", [
    pytest.param(lambda r: r.T, "transpose", id="transposed"),
    pytest.param(lambda r: -r, "sign", id="sign"),
    pytest.param(lambda r: np.flip(r), "reversed", id="flipped"),
    pytest.param(lambda r: r.reshape(6), "same number of entries", id="reshaped"),
    pytest.param(lambda r: r[:1], "Expected shape", id="wrong-shape"),
    pytest.param(lambda r: r * (1 + 5e-3), "Close", id="close"),
    pytest.param(lambda r: r + np.where(r == r.max(), 100, 0), "1 of 6 entries", id="one-entry"),
    pytest.param(lambda r: np.full_like(r, np.nan), "not finite", id="nan"),
    pytest.param(lambda r: r.tolist(), None, id="nested-list-correct"),
])
def test_check_diagnoses_array_mistakes(demo, make_answer, pattern):
    ref = answer("demo.scaled-matrix", learner="x")
    fb = check("demo.scaled-matrix", make_answer(ref), learner="x")
    if pattern is None:
        assert fb.correct, fb.message
    else:
        assert not fb.correct
        assert pattern in fb.message, fb.message


def test_check_diagnoses_channels_last(demo):
    ex = Exercise(id="demo.chlast", title="d", prompt="p", make_params=lambda rng: {},
                  solve=lambda p: np.arange(24.0).reshape(1, 2, 3, 4), kind="array",
                  quiz_format=lambda p, r: ("?", 0.0))
    register(ex)
    try:
        fb = check("demo.chlast", np.moveaxis(np.arange(24.0).reshape(1, 2, 3, 4), 1, -1))
        assert not fb.correct and "channels-last" in fb.message
    finally:
        EXERCISES.pop("demo.chlast")


@pytest.mark.parametrize("given_, pattern", [
    pytest.param(None, "No answer", id="none"),
    pytest.param("", "empty", id="empty-string"),
    pytest.param("abc", "not one", id="text"),
    pytest.param(True, "bool", id="bool"),
    pytest.param(1 + 2j, "complex", id="complex"),
    pytest.param(float("inf"), "not finite", id="inf"),
    pytest.param([1, 2], "single number", id="list-of-two"),
    pytest.param(10**400, "too large", id="huge-int"),
    pytest.param([[10**400]], "too large", id="huge-int-nested"),
])
def test_check_explains_unreadable_answers(demo, given_, pattern):
    fb = check("demo.count", given_, learner="x")
    assert not fb.correct and pattern in fb.message, fb.message


def test_check_number_diagnoses(demo):
    n = answer("demo.count", learner="x")
    assert check("demo.count", n + 1, learner="x").message.startswith("Off by one")
    assert "factor of 1000" in check("demo.count", n * 1000, learner="x").message
    assert check("demo.count", 2 * n, learner="x").message == "You counted twice."
    assert check("demo.count", str(n), learner="x").correct
    assert "unknown exercise" in check("demo.nope", 1).message
    assert "exercise_id" in check(3, 1).message


def test_close_is_relative_to_the_answer_when_rtol_is_zero():
    # an integer exercise judged with an absolute tolerance (rtol = 0), like conv.param-count:
    # 12 for 13856 is far off, 13700 is close; neither message gives the size of the error
    ex = Exercise(id="demo.abs-tol", title="d", prompt="p", make_params=lambda rng: {},
                  solve=lambda p: 13856, integer=True, rtol=0.0, atol=0.5)
    register(ex)
    try:
        far = check("demo.abs-tol", 12)
        assert not far.correct and "Close" not in far.message, far.message
        near = check("demo.abs-tol", 13700)
        assert not near.correct and near.message.startswith("Close"), near.message
        assert "absolute tolerance 0.5" in near.message
        assert "1.1e-02" not in near.message and "0.0113" not in near.message  # |13700 - 13856| / 13856
    finally:
        EXERCISES.pop("demo.abs-tol")


def test_answer_returns_copies_of_the_cached_reference(demo):
    ref = answer("demo.scaled-matrix", learner="copy")
    ref[:] = -1.0
    assert answer("demo.scaled-matrix", learner="copy").min() == 0.0
    assert check("demo.scaled-matrix", answer("demo.scaled-matrix", learner="copy"), learner="copy").correct


def test_quiz_lists_misconceptions_as_wrong_answers(demo):
    (q,) = quiz("demo.count")
    assert any(a.get("feedback") == "You counted twice." and not a["correct"] for a in q["answers"])
    (qa,) = quiz("demo.scaled-matrix")
    lo, hi = qa["answers"][0]["range"]
    assert lo <= answer("demo.scaled-matrix")[-1, -1] <= hi


def test_import_exercises_does_not_import_torch():
    import subprocess
    import sys
    code = "import sys, companion.exercises; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("exercise_id", IDS)
def test_static_quiz_answers_right_and_wrong_as_a_reader_types_them(exercise_id):
    if EXERCISES[exercise_id].kind == "function":
        return
    (q,) = quiz(exercise_id)
    if q["type"] == "multiple_choice":
        return
    assert q.get("precision", 1) >= 1, "precision 0 makes the page throw RangeError"
    ex = EXERCISES[exercise_id]
    if ex.kind == "array":   # the quiz asks for one telling number: the centre of its range
        value = (q["answers"][0]["range"][0] + q["answers"][0]["range"][1]) / 2
    else:
        value = float(np.asarray(answer(exercise_id), dtype=float))
    typings = [repr(value)]   # every digit, and as many digits as the page keeps (or the integer)
    if ex.integer or float(value).is_integer():
        typings.append(str(int(round(value))))
    else:
        typings.append(f"{value:.{q.get('precision', 6)}g}")
    for typed in typings:
        ok, feedback = numeric_verdict(q, typed)
        assert ok, f"{exercise_id}: the right answer typed as {typed!r} is judged wrong ({feedback!r})"
    # A clearly wrong answer gets feedback, not silence.
    wrong = value * 3 + 7
    ok, feedback = numeric_verdict(q, repr(wrong))
    assert not ok and feedback, f"{exercise_id}: a wrong answer {wrong} is accepted or gets no feedback"
    for a in q["answers"]:
        if "value" in a and not a["correct"]:
            ok, feedback = numeric_verdict(q, repr(a["value"]))
            same = {b["feedback"] for b in q["answers"] if "value" in b and b["value"] == a["value"]}
            assert not ok and feedback in same, f"{exercise_id}: misconception {a['value']} not recognised"


def test_renamed_exercise_keeps_its_old_id():
    """`deploy.occlusion-linear` moved to `xai.occlusion-linear`: the old id still resolves, the catalog lists the new one."""
    from companion.exercises import show, worked_solution
    from companion.exercises._engine import ALIASES

    old, new = "deploy.occlusion-linear", "xai.occlusion-linear"
    assert ALIASES[old] == new and old not in EXERCISES and new in EXERCISES
    assert set(ALIASES).isdisjoint(EXERCISES) and set(ALIASES.values()) <= set(EXERCISES)
    assert exercise(old, learner="ada") == exercise(new, learner="ada")
    np.testing.assert_allclose(answer(old, learner="ada"), answer(new, learner="ada"))
    assert check(old, answer(new)).correct and not check(old, None).correct
    assert quiz(old) == quiz(new)
    assert str(worked_solution(old)) == str(worked_solution(new))
    show(old)
