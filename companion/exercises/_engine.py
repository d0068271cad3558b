"""The exercise engine: per-learner instances, reference answers, and feedback that never raises.

An :class:`Exercise` is data plus three small functions written by the chapter author:

* ``make_params(rng) -> dict`` draws the learner's own numbers from a seeded generator;
* ``solve(params) -> answer`` computes the reference answer *with companion code*;
* each :class:`Misconception` maps the same params to the answer a typical mistake gives.

:func:`check` converts whatever the learner typed (a number, a numeric string, a list, a NumPy
array, a torch tensor) and compares it with ``solve(params)``. It never raises, and its messages
never contain the reference answer.
"""

from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

KINDS = ("number", "array", "choice", "function", "experiment")


class Feedback(NamedTuple):
    """The verdict on one answer: ``correct`` and a message for the learner."""

    correct: bool
    message: str

    def __str__(self) -> str:  # what a notebook prints
        return ("✔ " if self.correct else "✘ ") + self.message

    def _repr_markdown_(self) -> str:
        return ("**Correct.** " if self.correct else "**Not yet.** ") + self.message.replace("\n", "  \n")


@dataclass(frozen=True)
class Misconception:
    """A typical mistake: ``value(params)`` is the answer it gives, ``message`` explains it.

    The message must not contain the correct answer.
    """

    name: str
    value: Callable[[dict], Any]
    message: str


@dataclass(frozen=True)
class Instance:
    """One learner's version of an exercise."""

    id: str
    title: str
    prompt: str
    params: dict
    hint: str
    kind: str
    unit: str
    choices: tuple[str, ...] = ()

    def _repr_markdown_(self) -> str:
        text = f"**{self.title}** (`{self.id}`)\n\n{self.prompt}"
        if self.choices:
            text += "\n\n" + "\n".join(f"- {c}" for c in self.choices)
        return text

    def __str__(self) -> str:
        return self.prompt


@dataclass(frozen=True)
class Exercise:
    """One auto-checked exercise.

    Parameters
    ----------
    id : str
        ``<topic>.<question>``, e.g. ``"conv.output-size"``.
    title : str
        A short title for the book page.
    prompt : str
        The question, a ``str.format`` template filled with the learner's params.
    make_params : callable
        ``make_params(rng: numpy.random.Generator) -> dict`` of the learner's numbers.
    solve : callable
        ``solve(params) -> answer``, computed with companion code, never typed in by hand.
    kind : {"number", "array", "choice", "function", "experiment"}
        A single number, an array of a fixed shape, one of ``choices``, a Python function the
        learner writes ("function"), or a number the learner measures by changing a chapter's
        experiment ("experiment": judged like a number; ``solve`` re-runs the experiment, seeded,
        with the learner's settings).
    rtol, atol : float
        Tolerance of a correct answer: ``|a - ref| <= atol + rtol * |ref|`` element-wise.
    integer : bool
        The answer is an integer (enables the off-by-one diagnosis).
    unit : str
        The unit of the answer, named in prompts and in unit-factor feedback.
    hint : str
        Shown with a wrong answer.
    misconceptions : sequence of Misconception
        Typical mistakes, checked in order after the answer is found wrong.
    choices : sequence of str
        For ``kind="choice"``: the options shown; the answer is one option's text (or its index).
    quiz_format : callable, optional
        For ``kind="array"``: ``quiz_format(params, ref) -> (question, number)``, a single number
        that the static page's quiz asks for instead of the whole array.
    make_inputs : callable, optional
        For ``kind="function"``: ``make_inputs(rng, params) -> list of argument tuples`` (several
        shapes, float64), drawn per learner.
    arg_names : sequence of str
        For ``kind="function"``: the names of the arguments, used in feedback ("x (4, 3, 5, 5)").
    forbidden : sequence of str
        For ``kind="function"``: dotted names of companion functions that the learner's function
        must not call (the implementation the exercise asks them to write).
    finite_difference : callable, optional
        For a gradient: ``finite_difference(args) -> array``, the centred-difference estimate of
        the expected output; a correct function is also compared with it.
    solution : callable, optional
        For ``kind="function"``: a worked solution, written out for the book (``answer`` returns
        it); ``solve`` is the oracle that judges, usually the companion implementation.
    per_call : float
        For ``kind="function"``: time limit of one call of the learner's function, in seconds.
    worked : callable, optional
        ``worked(params, ref) -> str``: the worked steps with the learner's numbers (Markdown, maths
        in ``$...$``), shown first by :func:`worked_solution`. Without it the worked solution is
        built from the hint, the answer and what each misconception gives.
    """

    id: str
    title: str
    prompt: str
    make_params: Callable[[np.random.Generator], dict]
    solve: Callable[[dict], Any]
    kind: str = "number"
    rtol: float = 1e-3
    atol: float = 1e-8
    integer: bool = False
    unit: str = ""
    hint: str = ""
    misconceptions: Sequence[Misconception] = field(default_factory=tuple)
    choices: Sequence[str] = field(default_factory=tuple)
    quiz_format: Callable[[dict, Any], tuple[str, float]] | None = None
    make_inputs: Callable[[np.random.Generator, dict], list] | None = None
    arg_names: Sequence[str] = field(default_factory=tuple)
    forbidden: Sequence[str] = field(default_factory=tuple)
    finite_difference: Callable[[tuple], Any] | None = None
    solution: Callable[..., Any] | None = None
    per_call: float = 5.0
    worked: Callable[[dict, Any], str] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {self.kind!r}")
        if self.kind == "function" and (self.make_inputs is None or self.solution is None):
            raise ValueError(f"make_inputs, solution: a function exercise ({self.id!r}) needs both")
        if not 0 < self.per_call <= 10:
            raise ValueError(f"per_call: expected a time limit in (0, 10] seconds, got {self.per_call!r}")
        if "." not in self.id:
            raise ValueError(f"id: expected '<topic>.<question>', got {self.id!r}")
        if self.kind == "choice" and len(self.choices) < 2:
            raise ValueError(f"choices: expected at least 2 options for a choice exercise, got {self.choices!r}")


def redraw(draw: Callable[[], dict], accept: Callable[[dict], bool], *, tries: int = 1000) -> dict:
    """Draw parameters until `accept` holds (e.g. every misconception differs from the answer).

    Bounded: after `tries` draws it raises RuntimeError (a bank whose condition almost never
    holds is a bug to fix, not a loop to wait in). The tests call every exercise's
    ``make_params`` for many learners, so such a bank fails there, never at a learner.
    """
    for _ in range(tries):
        params = draw()
        if accept(params):
            return params
    raise RuntimeError(f"redraw: no acceptable parameters in {tries} draws")


EXERCISES: dict[str, Exercise] = {}


def register(*exercises: Exercise) -> None:
    """Add exercises to the catalog (called by the modules of ``companion.exercises.bank``)."""
    for ex in exercises:
        if ex.id in EXERCISES and EXERCISES[ex.id] is not ex:
            raise ValueError(f"id: exercise {ex.id!r} is registered twice")
        EXERCISES[ex.id] = ex


# --------------------------------------------------------------------------------------------
# Per-learner instances
# --------------------------------------------------------------------------------------------

def _rng(exercise_id: str, learner: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{exercise_id}\x00{learner}".encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _params(ex: Exercise, learner: str) -> dict:
    return ex.make_params(_rng(ex.id, str(learner)))


# (id, learner) -> (exercise, params, reference): make_params and solve are deterministic, so a
# learner's repeated checks (and the tests' fuzzing) compute the reference once. Copies go out,
# so a caller that changes the params or the answer it got cannot change the cached ones.
_SOLVED: dict[tuple[str, str], tuple[Exercise, dict, Any]] = {}
_SOLVED_MAX = 512


def _per_learner(ex: Exercise, learner: str, compute: Callable[[dict], Any]) -> tuple[dict, Any]:
    """The learner's params and ``compute(params)``, computed once per (exercise, learner).

    `compute` gets its own copy of the params; copies of both go out.
    """
    key = (ex.id, str(learner))
    hit = _SOLVED.get(key)
    if hit is None or hit[0] is not ex:  # a re-registered exercise is solved again
        params = _params(ex, learner)
        value = compute(copy.deepcopy(params))
        if len(_SOLVED) >= _SOLVED_MAX:
            _SOLVED.pop(next(iter(_SOLVED)))
        hit = _SOLVED[key] = (ex, params, value)
    return copy.deepcopy(hit[1]), copy.deepcopy(hit[2])


def _solved(ex: Exercise, learner: str) -> tuple[dict, Any]:
    """The learner's params and the reference answer, computed once per (exercise, learner)."""
    return _per_learner(ex, learner, ex.solve)


# Renamed exercises: old id -> new id. The old id keeps working in exercise(), answer(), check(),
# quiz(), show() and worked_solution() (published pages and learners' notebooks call it); the
# catalog EXERCISES lists only the new id.
ALIASES: dict[str, str] = {
    "deploy.occlusion-linear": "xai.occlusion-linear",   # moved to the explainability chapter
}


def _get(exercise_id: Any) -> Exercise:
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id: expected a str such as 'conv.output-size', got {type(exercise_id).__name__}")
    exercise_id = ALIASES.get(exercise_id, exercise_id)
    if exercise_id not in EXERCISES:
        topic = exercise_id.split(".")[0]
        near = sorted(k for k in EXERCISES if k.split(".")[0] == topic)
        extra = f" Ids of topic '{topic}': {', '.join(near)}." if near else ""
        raise KeyError(f"exercise_id: unknown exercise {exercise_id!r}.{extra}")
    return EXERCISES[exercise_id]


def exercise(exercise_id: str, *, learner: str = "") -> Instance:
    """Return the learner's instance of an exercise: its prompt with their own numbers.

    The numbers are drawn from a generator seeded by a hash of ``(exercise_id, learner)``, so they
    differ between learners and are the same every time for the same learner.

    Raises
    ------
    TypeError, KeyError
        If `exercise_id` is not a str or not in the catalog.
    """
    ex = _get(exercise_id)
    params = _params(ex, learner)
    return Instance(ex.id, ex.title, ex.prompt.format(**params), params, ex.hint, ex.kind, ex.unit,
                    tuple(ex.choices))


def answer(exercise_id: str, *, learner: str = "") -> Any:
    """Return the reference answer for the learner's instance, computed by companion code.

    For a "function" exercise, the worked solution (a function the learner could have written).
    """
    ex = _get(exercise_id)
    if ex.kind == "function":
        return ex.solution
    return _solved(ex, learner)[1]


# --------------------------------------------------------------------------------------------
# Converting and judging an answer
# --------------------------------------------------------------------------------------------

class _Reject(Exception):
    """An answer that cannot be judged; the message goes to the learner."""


def _to_array(value: Any) -> np.ndarray:
    if value is None:
        raise _Reject("No answer yet: replace `None` with your answer.")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, (bool, np.bool_)):
        raise _Reject("Expected a number, got a bool (True/False).")
    if isinstance(value, str):
        text = value.strip().replace(",", "") if value.count(",") and "." in value else value.strip()
        if not text:
            raise _Reject("No answer yet: the string is empty.")
        try:
            return np.asarray(float(text))
        except ValueError:
            raise _Reject(f"Expected a number, got the text {value!r}, which is not one.") from None
    try:
        arr = np.asarray(value, dtype=object)
    except Exception:  # ragged nested lists
        raise _Reject("Could not read your answer as an array: are all rows the same length?") from None
    if arr.dtype == object:
        flat = arr.ravel()
        converted = []
        for item in flat:
            if hasattr(item, "detach"):
                item = item.detach().cpu().numpy()
            if isinstance(item, (bool, np.bool_)):
                raise _Reject("Expected numbers, got a bool (True/False) inside your answer.")
            if isinstance(item, str):
                try:
                    item = float(item)
                except ValueError:
                    raise _Reject(f"Expected numbers, got the text {item!r} inside your answer.") from None
            if isinstance(item, (list, tuple, np.ndarray)) and np.ndim(item) > 0:
                raise _Reject("Could not read your answer as an array: are all rows the same length?")
            try:
                converted.append(complex(item))
            except OverflowError:  # a Python int beyond the float range
                raise _Reject("Your answer is too large to be a floating-point number (beyond 1e308): "
                              "check for an overflow or a missing division.") from None
            except (TypeError, ValueError):
                raise _Reject(f"Expected numbers, got {type(item).__name__} inside your answer.") from None
        cplx = np.array(converted, dtype=complex).reshape(arr.shape)
        if np.any(cplx.imag != 0):
            raise _Reject("Expected real numbers, got a complex number.")
        return cplx.real.astype(float)
    return arr


def _close(a: np.ndarray, ref: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == ref.shape and bool(np.all(np.abs(a - ref) <= atol + rtol * np.abs(ref)))


def _describe_shape(shape: tuple[int, ...]) -> str:
    return "a single number" if shape == () else f"shape {shape}"


def _shape_feedback(a: np.ndarray, ref: np.ndarray) -> str:
    want, got = ref.shape, a.shape
    if a.ndim == ref.ndim and a.ndim == 2 and got == want[::-1]:
        return f"Your array has shape {got}, the transpose of what is expected ({want}): rows and columns are swapped."
    if a.ndim == ref.ndim and a.ndim >= 3:
        for c_axis in (0, 1):
            chan_last = want[:c_axis] + want[c_axis + 1:] + (want[c_axis],)
            if got == chan_last and got != want:
                return (f"Your array has shape {got}, a channels-last layout; the book uses channels-first "
                        f"{want} (move the channel axis with np.moveaxis).")
    if a.size == ref.size:
        return f"Your array has shape {got} but {_describe_shape(want)} is expected (same number of entries: check the reshape)."
    return f"Expected {_describe_shape(want)}, got {_describe_shape(got)}."


_UNIT_FACTORS = (10.0, 100.0, 1000.0, 1e6)


def _judge_numeric(ex: Exercise, params: dict, a: np.ndarray, ref: np.ndarray) -> Feedback:
    if ex.kind in ("number", "experiment") and a.size == 1 and a.shape != ():
        a = a.reshape(())
    if a.shape != ref.shape:
        return Feedback(False, _shape_feedback(a, ref))
    if not np.all(np.isfinite(a)):
        return Feedback(False, "Your answer is not finite (nan or inf): check for a division by zero or an overflow.")
    if _close(a, ref, ex.rtol, ex.atol):
        return Feedback(True, "Correct." + (f" ({ex.unit})" if ex.unit else ""))
    for mis in ex.misconceptions:
        try:
            wrong = np.asarray(mis.value(params), dtype=float)
        except Exception:
            continue
        if wrong.shape == ref.shape and not _close(wrong, ref, ex.rtol, ex.atol) and _close(a, wrong, ex.rtol, ex.atol):
            return Feedback(False, mis.message)
    hint = f" Hint: {ex.hint}" if ex.hint else ""
    if np.any(ref != 0) and _close(-a, ref, ex.rtol, ex.atol):
        return Feedback(False, "The sign is wrong: your answer is the negative of the expected one." + hint)
    if ref.ndim >= 1 and a.ndim >= 1:
        flipped = np.flip(ref)
        if not _close(flipped, ref, ex.rtol, ex.atol) and _close(a, flipped, ex.rtol, ex.atol):
            return Feedback(False, "Your array is the expected one reversed along every axis: a flipped kernel "
                                   "(convolution vs cross-correlation)?" + hint)
    if ex.integer and a.shape == () and abs(float(a) - float(ref)) == 1:
        return Feedback(False, "Off by one: check the +1 / -1 of the formula and whether you count from 0." + hint)
    if a.shape == () and float(ref) != 0 and float(a) != 0:
        ratio = float(a) / float(ref)
        for factor in _UNIT_FACTORS:
            for r in (factor, 1 / factor):
                if math.isclose(ratio, r, rel_tol=max(ex.rtol, 1e-6) * 2):
                    what = "large" if r > 1 else "small"
                    unit = f" The answer is in {ex.unit}." if ex.unit else ""
                    return Feedback(False, f"Off by a factor of {factor:g} (too {what}): check the units.{unit}" + hint)
    # "Close": every entry within 2 % (or 20 tolerances) of the reference, measured against |ref|
    # (or atol where ref is 0), so an exercise with rtol = 0 is not "close" to everything. The
    # size of the error is named only as this bound: its exact value would give the answer away.
    scale = np.maximum(np.abs(ref), ex.atol)
    rel = float(np.max(np.abs(a - ref) / np.where(scale == 0, 1.0, scale)))
    bound = max(20 * ex.rtol, 0.02)
    if rel < bound:
        tol = f"relative tolerance {ex.rtol:.0e}" if ex.rtol > 0 else f"absolute tolerance {ex.atol:g}"
        return Feedback(False, f"Close (within {bound:.0%} of the expected value), but outside the tolerance "
                               f"({tol}): keep more digits or recheck a small term." + hint)
    if a.ndim >= 1:
        wrong = int(np.sum(~(np.abs(a - ref) <= ex.atol + ex.rtol * np.abs(ref))))
        return Feedback(False, f"Not correct: {wrong} of {a.size} entries are off." + hint)
    return Feedback(False, "Not correct." + hint)


def _judge_choice(ex: Exercise, params: dict, value: Any, ref: Any) -> Feedback:
    if value is None:
        return Feedback(False, "No answer yet: replace `None` with one of the options.")
    options = [str(c) for c in ex.choices]
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if not 0 <= int(value) < len(options):
            return Feedback(False, f"Option number {int(value)} does not exist: pick 0 to {len(options) - 1}.")
        value = options[int(value)]
    if not isinstance(value, str):
        return Feedback(False, f"Expected one of the options as text (or its number), got {type(value).__name__}.")
    norm = value.strip().lower()
    matches = [o for o in options if o.strip().lower() == norm]
    if not matches:
        return Feedback(False, "That is not one of the options: copy one of them exactly, or give its number.")
    if matches[0] == str(ref):
        return Feedback(True, "Correct.")
    for mis in ex.misconceptions:
        try:
            if str(mis.value(params)) == matches[0]:
                return Feedback(False, mis.message)
        except Exception:
            continue
    return Feedback(False, "Not this one." + (f" Hint: {ex.hint}" if ex.hint else ""))


def check(exercise_id: Any, answer: Any, *, learner: str = "") -> Feedback:
    """Judge a learner's answer; never raises.

    Parameters
    ----------
    exercise_id : str
        An id of :data:`EXERCISES`, e.g. ``"conv.output-size"``.
    answer : object
        A number, a numeric string, a (nested) list, a NumPy array or a torch tensor; for a choice
        exercise, an option's text or its number; for a "function" exercise, a Python callable,
        which is run on the learner's test inputs in a separate process with a time limit per call
        (``Exercise.per_call``, at most 10 s) and for the whole check (at most 30 s).
    learner : str
        The learner's name: the same one that :func:`exercise` was given.

    Returns
    -------
    Feedback
        ``correct`` and a message saying what is wrong (shape, transposed or channels-last, sign,
        off by one, unit factor, a named misconception, close but outside tolerance), never the
        answer itself.

    Notes
    -----
    With a learner's name, the attempt is recorded in a local file (see
    :func:`companion.exercises.progress`); nothing is sent anywhere.
    """
    try:
        ex = _get(exercise_id)
    except (KeyError, TypeError) as exc:
        return Feedback(False, str(exc.args[0]))
    feedback = _check(ex, answer, learner)
    if learner:  # the learner's own record, in a local file (companion.exercises.progress)
        from companion.exercises._progress import record
        note = record(ex.id, str(learner), feedback.correct)
        if note:
            feedback = Feedback(feedback.correct, f"{feedback.message}\n{note}")
    return feedback


def _check(ex: Exercise, answer: Any, learner: str) -> Feedback:
    try:
        if ex.kind == "function":
            return _judge_function(ex, learner, answer)
        params, ref = _solved(ex, learner)
        if ex.kind == "choice":
            return _judge_choice(ex, params, answer, ref)
        try:
            a = _to_array(answer)
        except _Reject as rej:
            return Feedback(False, str(rej))
        return _judge_numeric(ex, params, a.astype(float), np.asarray(ref, dtype=float))
    except ImportError as exc:  # the environment, not the learner: say so
        missing = getattr(exc, "name", None) or str(exc)
        if "torch" in str(missing):
            return Feedback(False, "This exercise needs PyTorch, which is not installed in this environment "
                                   "(install the book's requirements, see the setup page); your answer was not judged.")
        return Feedback(False, f"This exercise needs the package {missing!r}, which could not be imported here; "
                               "your answer was not judged.")
    except Exception as exc:  # never raise at a learner
        return Feedback(False, f"Could not check this answer ({type(exc).__name__}). Is it a number or an array of numbers?")


# --------------------------------------------------------------------------------------------
# "Write the function" exercises
# --------------------------------------------------------------------------------------------

def _resolve(dotted: str) -> Callable | None:
    import importlib
    module, _, name = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _function_inputs(ex: Exercise, learner: str) -> tuple[dict, list[tuple], list]:
    """The learner's params, test inputs and the oracle's outputs, computed once per learner."""
    def compute(params: dict) -> tuple[list[tuple], list]:
        rng = _rng(ex.id + "/inputs", str(learner))
        inputs = [tuple(args) for args in ex.make_inputs(rng, copy.deepcopy(params))]
        oracle = ex.solve(params)
        return inputs, [oracle(*copy.deepcopy(args)) for args in inputs]

    params, (inputs, outputs) = _per_learner(ex, learner, compute)
    return params, inputs, outputs


def _plain(v: Any) -> str:
    """A short, readable form of a small tuple of numbers: (2.59, 3.7, 1) — not np.float64(2.59...)."""
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_plain(a) for a in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.3g}"
    return type(v).__name__


def _describe_args(ex: Exercise, args: tuple) -> str:
    names = list(ex.arg_names) + [f"arg{k}" for k in range(len(ex.arg_names), len(args))]
    parts = []
    for name, a in zip(names, args):
        if isinstance(a, np.ndarray):
            parts.append(f"{name} {tuple(a.shape)}")
        elif isinstance(a, (int, float, np.integer, np.floating)) and not isinstance(a, bool):
            parts.append(f"{name}={a:g}")
        elif isinstance(a, (tuple, list)) and len(a) <= 6:
            parts.append(f"{name}={_plain(a)}")
    return ", ".join(parts)


def _parts(value: Any) -> list[np.ndarray]:
    return [np.asarray(v, dtype=float) for v in value] if isinstance(value, tuple) else [np.asarray(value, dtype=float)]


def _judge_function(ex: Exercise, learner: str, fn: Any) -> Feedback:
    from companion.exercises._sandbox import run_learner_function

    if fn is None:
        return Feedback(False, "No answer yet: define your function and pass it (the function itself, "
                               "without calling it: `check(id, my_function)`).")
    if not callable(fn):
        return Feedback(False, f"Expected a Python function (def or lambda), got {type(fn).__name__}. "
                               "Pass the function itself, without calling it.")
    params, inputs, outputs = _function_inputs(ex, learner)
    forbidden = [f for f in (_resolve(name) for name in ex.forbidden) if f is not None]
    results = run_learner_function(fn, inputs, forbidden=forbidden, per_call=ex.per_call)
    hint = f" Hint: {ex.hint}" if ex.hint else ""
    worst = 0.0
    for k, (args, ref, res) in enumerate(zip(inputs, outputs, results), start=1):
        where = f"test input {k} of {len(inputs)} ({_describe_args(ex, args)})"
        if res.status == "forbidden":
            return Feedback(False, f"Your function calls {res.detail}, the companion implementation this exercise "
                                   "asks you to write. Write the computation yourself with NumPy.")
        if res.status == "timeout":
            return Feedback(False, f"On {where} your function took longer than {ex.per_call:g} s and was stopped: "
                                   "an endless loop, or a loop over every element where NumPy could do it at once?")
        if res.status in ("error", "killed"):
            return Feedback(False, f"On {where} your function failed: {res.detail}.")
        got, want = _parts(res.value), _parts(ref)
        if len(got) != len(want):
            return Feedback(False, f"On {where} your function returned {len(got)} value(s); "
                                   f"{len(want)} are expected" + (" (a tuple)." if len(want) > 1 else "."))
        for j, (a, r) in enumerate(zip(got, want)):
            which = f" (returned value {j + 1})" if len(want) > 1 else ""
            if a.shape != r.shape:
                return Feedback(False, f"On {where}{which}: " + _shape_feedback(a, r))
            if not np.all(np.isfinite(a)):
                return Feedback(False, f"On {where}{which} your result contains nan or inf: a division by zero, "
                                       "a log of 0 or an overflow?")
            if not _close(a, r, ex.rtol, ex.atol):
                for mis in ex.misconceptions:
                    try:
                        wrong = _parts(mis.value(args))
                    except Exception:
                        continue
                    if (len(wrong) == len(want) and wrong[j].shape == r.shape
                            and not _close(wrong[j], r, ex.rtol, ex.atol) and _close(a, wrong[j], ex.rtol, ex.atol)):
                        return Feedback(False, f"On {where}{which}: {mis.message}")
                if np.any(r != 0) and _close(-a, r, ex.rtol, ex.atol):
                    return Feedback(False, f"On {where}{which} your result has the wrong sign everywhere." + hint)
                if a.ndim == 2 and a.shape[0] == a.shape[1] and _close(a.T, r, ex.rtol, ex.atol):
                    return Feedback(False, f"On {where}{which} your result is the transpose of the expected one." + hint)
                # Only a bound on the error is named: its exact size would give the answer away.
                scale = float(np.max(np.abs(r))) or 1.0
                err = float(np.max(np.abs(a - r))) / scale
                wrong = int(np.sum(~(np.abs(a - r) <= ex.atol + ex.rtol * np.abs(r))))
                size = ("close, within 5 % of the largest expected entry, but outside the tolerance"
                        if err < 0.05 else "off by more than 5 % of the largest expected entry")
                count = f" ({wrong} of {a.size} entries are wrong)" if a.size > 1 else ""
                return Feedback(False, f"On {where}{which} your result is {size}{count}." + hint)
            worst = max(worst, float(np.max(np.abs(a - r))) / (float(np.max(np.abs(r))) or 1.0))
    message = f"Correct on all {len(inputs)} test inputs (largest relative error {worst:.1e})."
    if ex.finite_difference is not None:
        try:
            numeric = _parts(ex.finite_difference(copy.deepcopy(inputs[0])))
            mine = _parts(results[0].value)
            rel = max(float(np.max(np.abs(m - n))) / max(float(np.max(np.abs(n))), 1e-300)
                      for m, n in zip(mine, numeric))
            message += f" It also agrees with centred finite differences (relative error {rel:.1e})."
        except Exception:  # the check itself must not fail the learner
            pass
    return Feedback(True, message)


# --------------------------------------------------------------------------------------------
# The static page: jupyterquiz questions
# --------------------------------------------------------------------------------------------

def _quiz_number(value: float, rtol: float, atol: float) -> list[dict]:
    tol = atol + rtol * abs(value)
    return [{"type": "range", "range": [value - tol, value + tol], "correct": True, "feedback": "Correct."}]


def _quiz_precision(value: float, tol: float) -> int | None:
    """Significant figures the static quiz rounds a typed number to, or None for no rounding.

    jupyterquiz rounds the reader's number with JavaScript's ``toPrecision(p)`` before comparing
    it with the accepted range, so ``p`` must be fine enough that the true value, rounded, still
    lies inside ``value ± tol``: the smallest ``p`` whose last place is at most ``tol``. A
    precision of 0 is never returned (``toPrecision(0)`` throws a RangeError in the page); for
    integers and zero the typed number is compared as it is (None).
    """
    if value == 0 or not np.isfinite(value) or tol <= 0:
        return None
    exponent = int(np.floor(np.log10(abs(value))))
    for p in range(1, 16):
        if 10.0 ** (exponent - p + 1) <= tol:
            return max(p, 3)
    return None


def quiz(exercise_id: str) -> list[dict]:
    """Return the jupyterquiz question list for the static book page (the instance of learner "").

    The question text is short ("Your answer (in mm):", or the one number an array exercise asks
    for): the page shows the exercise's prompt with :func:`companion.exercises.show` just above it.
    Numeric answers are accepted within the exercise's tolerance; the misconceptions become wrong
    answers with their explanation. Use with ``jupyterquiz.display_quiz(quiz(id))``. A "function"
    exercise has no quiz (an empty list): the page shows its task and worked solution instead.
    """
    ex = _get(exercise_id)
    if ex.kind == "function":
        return []  # the static page shows the task, a scaffold and the worked solution instead
    params = _params(ex, "")
    ref = ex.solve(params)
    # The page shows the exercise's prompt just above (``show``): the quiz asks only for the answer.
    prompt = "Your answer" + (f" (in {ex.unit})" if ex.unit else "") + ":"
    if ex.kind == "choice":
        return [{
            "question": "Your choice:",
            "type": "multiple_choice",
            "answers": [{"answer": c, "correct": c == str(ref),
                         "feedback": "Correct." if c == str(ref) else "Not this one."} for c in ex.choices],
        }]
    if ex.kind == "array":
        if ex.quiz_format is None:
            raise ValueError(f"quiz_format: array exercise {ex.id!r} needs one to make a quiz question")
        question, number = ex.quiz_format(params, ref)
        prompt, value = question, float(number)
        misfits: list[dict] = []
    else:
        value = float(np.asarray(ref, dtype=float))
        misfits = []
        for mis in ex.misconceptions:
            try:
                wrong = float(np.asarray(mis.value(params), dtype=float))
            except Exception:
                continue
            if abs(wrong - value) > ex.atol + ex.rtol * abs(value):
                misfits.append({"type": "value", "value": wrong, "correct": False, "feedback": mis.message})
    answers = _quiz_number(value, ex.rtol, ex.atol) + misfits
    answers.append({"type": "default", "feedback": "Not correct." + (f" Hint: {ex.hint}" if ex.hint else "")})
    question = {"question": prompt, "type": "numeric", "answers": answers}
    precision = None if ex.integer else _quiz_precision(value, ex.atol + ex.rtol * abs(value))
    if precision is not None:
        question["precision"] = precision
    return [question]


# --------------------------------------------------------------------------------------------
# The static page: worked solutions
# --------------------------------------------------------------------------------------------

def _format_answer(value: Any, ex: Exercise, *, inline: bool = False) -> str:
    """An answer as Markdown: a number with its unit, or an array (inline code, or a code block)."""
    arr = np.asarray(value, dtype=float) if ex.kind != "choice" else None
    if arr is None:
        return str(value)
    if arr.shape == ():
        v = float(arr)
        text = str(int(round(v))) if ex.integer or v.is_integer() else f"{v:.6g}"
        return text + (f" {ex.unit}" if ex.unit else "")
    text = np.array2string(arr, precision=4, suppress_small=True, separator=", ",
                           max_line_width=10**6 if inline else 88)
    if inline or "\n" not in text:
        return "`" + " ".join(text.split()) + "`"
    return "\n\n```text\n" + text + "\n```"


@dataclass(frozen=True)
class WorkedSolution:
    """A worked solution for a page: Markdown in a notebook, plain text elsewhere."""

    id: str
    markdown: str

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __str__(self) -> str:
        return self.markdown


def worked_solution(exercise_id: str, *, learner: str = "") -> WorkedSolution:
    """The worked solution of an exercise for the book page, checked by :func:`check` first.

    For a "function" exercise: the source of the worked solution and the checker's verdict on it.
    Otherwise: the exercise's own worked steps (``Exercise.worked``) or its method (the hint), the
    answer with its unit (for a choice, the right option), and what each typical mistake gives
    and why it is wrong: the same feedback a learner gets from :func:`check`.

    Raises
    ------
    AssertionError
        If the checker does not accept the reference answer (the book's build then fails).
    TypeError, KeyError
        If `exercise_id` is not a str or not in the catalog.

    Examples
    --------
    >>> from companion.exercises import worked_solution
    >>> print(worked_solution("conv.value-by-hand"))  # doctest: +ELLIPSIS
    **Method.** The output at (i, j) uses the window ...
    <BLANKLINE>
    **Answer.** ...
    """
    import inspect

    ex = _get(exercise_id)
    ref = answer(exercise_id, learner=learner)
    feedback = check(exercise_id, ref, learner=learner)
    assert feedback.correct, f"{exercise_id}: the checker rejects the reference answer: {feedback.message}"
    if ex.kind == "function":
        try:
            source = inspect.getsource(ref)
        except (OSError, TypeError):
            source = f"# {getattr(ref, '__name__', 'solution')}: source not available"
        text = (f"A worked solution, run through the same checker when the book is built:\n\n"
                f"```python\n{source.rstrip()}\n```\n\nThe checker: {feedback}")
        return WorkedSolution(ex.id, text)
    params = _params(ex, learner)
    parts = []
    if ex.worked is not None:
        parts.append("**Worked steps.** " + ex.worked(copy.deepcopy(params), copy.deepcopy(ref)))
    elif ex.hint:
        parts.append(f"**Method.** {ex.hint}")
    if ex.kind == "choice":
        parts.append(f"**Answer.** {ref}")
    else:
        parts.append(f"**Answer.** {_format_answer(ref, ex)}")
    slips = []
    for mis in ex.misconceptions:
        try:
            wrong = mis.value(copy.deepcopy(params))
        except Exception:
            continue
        if ex.kind == "choice":
            if str(wrong) != str(ref):
                slips.append(f"- *{wrong}*: {mis.message}")
        elif not _close(np.asarray(wrong, dtype=float), np.asarray(ref, dtype=float), ex.rtol, ex.atol):
            slips.append(f"- {_format_answer(wrong, ex, inline=True)}: {mis.message}")
    if slips:
        label = "The other options" if ex.kind == "choice" else "Typical slips give"
        parts.append(f"**{label}:**\n\n" + "\n".join(slips))
    return WorkedSolution(ex.id, "\n\n".join(parts))
