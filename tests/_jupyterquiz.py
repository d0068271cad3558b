"""What jupyterquiz's numeric check (js/numeric.js, 2.9.6) says to a typed answer, in Python.

One emulation for the tests that judge the static quizzes: `test_exercises` (every exercise's
quiz JSON) and `test_book_browser` (the answers the built pages show in Chromium).
"""

from __future__ import annotations


class RangeError_(Exception):
    """toPrecision() argument must be between 1 and 100 (the page's error)."""


def to_precision(x: float, precision: int | None) -> float:
    """JavaScript's Number(x.toPrecision(precision)); no rounding when the quiz gives no precision.

    Raises RangeError_ for a precision outside 1..100, as the page does.
    """
    if precision is None:
        return x
    if not 1 <= precision <= 100:
        raise RangeError_(precision)
    return float(f"{x:.{precision - 1}e}")


def numeric_verdict(question: dict, typed: str) -> tuple[bool, str]:
    """(correct, feedback) for `typed`: jupyterquiz rounds it with toPrecision(precision), compares
    it with each `value` answer (rounded the same way), then with each range [lo, hi), and
    otherwise shows the default feedback."""
    precision = question.get("precision")
    submission = to_precision(float(typed), precision)
    default = "Incorrect. Try again."
    for a in question["answers"]:
        if "value" in a:
            if submission == to_precision(a["value"], precision):
                return a["correct"], a.get("feedback", "Correct")
        elif "range" in a:
            if a["range"][0] <= submission < a["range"][1]:
                return a["correct"], a["feedback"]
        elif a.get("type") == "default":
            default = a.get("feedback", default)
    return False, default
