"""What the static book page shows for an exercise (issue 17): the prompt once, a short quiz
question, and a worked solution (steps or method, the answer, the typical slips), checked first."""

from __future__ import annotations

import pytest

from companion.exercises import EXERCISES, answer, exercise, quiz, worked_solution

IDS = sorted(i for i, ex in EXERCISES.items() if ex.kind != "function")


@pytest.mark.parametrize("exercise_id", IDS)
def test_quiz_does_not_repeat_the_prompt(exercise_id):
    (q,) = quiz(exercise_id)
    prompt = exercise(exercise_id).prompt
    assert prompt not in q["question"] and len(q["question"]) < 200, q["question"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_worked_solution_shows_method_answer_and_slips(exercise_id):
    ex = EXERCISES[exercise_id]
    text = worked_solution(exercise_id)._repr_markdown_()
    assert "**Answer.**" in text
    assert ("**Worked steps.**" in text) or ("**Method.**" in text) or not ex.hint
    if ex.kind == "choice":
        assert str(answer(exercise_id)) in text
    if ex.worked is not None:
        assert "**Worked steps.**" in text


def test_worked_solution_of_a_function_exercise_shows_its_code():
    ids = [i for i, ex in EXERCISES.items() if ex.kind == "function"]
    if not ids:
        pytest.skip("no function exercise")
    text = str(worked_solution(ids[0]))
    assert "```python\ndef " in text and "✔" in text


def test_worked_solution_refuses_a_reference_the_checker_rejects(monkeypatch):
    import companion.exercises._engine as engine
    from companion.exercises import Feedback
    monkeypatch.setattr(engine, "check", lambda *a, **k: Feedback(False, "no"))
    with pytest.raises(AssertionError, match="rejects the reference"):
        worked_solution(IDS[0])
