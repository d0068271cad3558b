"""Auto-checked exercises with numbers of the learner's own.

>>> from companion.exercises import exercise, check, answer
>>> ex = exercise("conv.output-size", learner="ada")    # doctest: +SKIP
>>> print(ex.prompt)                                     # doctest: +SKIP
>>> check("conv.output-size", 31, learner="ada")         # doctest: +SKIP

The catalog :data:`EXERCISES` is filled from the modules of ``companion.exercises.bank``, one per
chapter; a new chapter adds a module there and registers its exercises, nothing else changes.
Importing this package imports no torch: exercises that need it import it inside ``solve``.
"""

from __future__ import annotations

import importlib
import pkgutil

from companion.exercises import bank as _bank
from companion.exercises._progress import Progress, progress, progress_path
from companion.exercises.capstone import capstone_check, capstone_report, capstone_requirements
from companion.exercises._engine import (
    EXERCISES,
    Exercise,
    Feedback,
    Instance,
    Misconception,
    answer,
    check,
    exercise,
    quiz,
    redraw,
    register,
    worked_solution,
)

for _info in sorted(pkgutil.iter_modules(_bank.__path__), key=lambda i: i.name):
    if not _info.name.startswith("_"):
        importlib.import_module(f"{_bank.__name__}.{_info.name}")

__all__ = ["EXERCISES", "Exercise", "Feedback", "Instance", "Misconception", "Progress", "answer",
           "capstone_check", "capstone_report", "capstone_requirements", "check", "exercise", "progress",
           "progress_path", "quiz", "redraw", "register", "show", "worked_solution"]


def show(exercise_id: str, *, learner: str = "") -> None:
    """Display the learner's exercise in a notebook (Markdown), or print it elsewhere."""
    inst = exercise(exercise_id, learner=learner)
    try:
        from IPython.display import Markdown, display
        display(Markdown(inst._repr_markdown_()))
    except ImportError:  # pragma: no cover - IPython is always there in the book
        print(inst.prompt)
