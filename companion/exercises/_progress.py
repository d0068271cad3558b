"""A learner's progress through the exercises, kept in a local JSON file and nowhere else.

Every :func:`~companion.exercises.check` with a learner's name records the attempt (exercise id,
whether it was right, when) in ``progress.json`` in the user's data directory (platformdirs:
``~/.local/share/cnn-medical-imaging-book`` on Linux), or in the folder named by the environment
variable ``COMPANION_PROGRESS_DIR``. Nothing is sent anywhere. ``COMPANION_PROGRESS=off`` turns
recording off. An unreadable file is never overwritten: it is kept beside as
``progress.json.unreadable-<time>`` and a fresh record starts.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

APP = "cnn-medical-imaging-book"
FILE = "progress.json"


def progress_path() -> Path:
    """Where the record is kept."""
    folder = os.environ.get("COMPANION_PROGRESS_DIR")
    if not folder:
        try:
            from platformdirs import user_data_dir
            folder = user_data_dir(APP, appauthor=False)
        except ImportError:  # pragma: no cover - platformdirs is a pinned dependency
            folder = str(Path.home() / f".{APP}")
    return Path(folder) / FILE


def _load(path: Path) -> tuple[dict, str]:
    """The record and a note for the learner (non-empty when the file could not be read)."""
    if not path.exists():
        return {"version": 1, "learners": {}}, ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("learners"), dict):
            raise ValueError("not a progress record")
        return data, ""
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        kept = path.with_name(f"{FILE}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            path.replace(kept)
            where = f"it was kept as {kept.name}"
        except OSError:
            where = "it was left as it is"
        note = (f"Your progress file {path} could not be read ({type(exc).__name__}); {where}, "
                "and a fresh record starts.")
        return {"version": 1, "learners": {}}, note


def record(exercise_id: str, learner: str, correct: bool) -> str:
    """Add one attempt to the record; returns a note ('' when all went well). Never raises."""
    if not learner or os.environ.get("COMPANION_PROGRESS", "").lower() in ("off", "0", "no", "false"):
        return ""
    try:
        path = progress_path()
        data, note = _load(path)
        entry = data["learners"].setdefault(learner, {}).setdefault(
            exercise_id, {"attempts": 0, "solved": False, "first": None, "last": None})
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        entry["attempts"] += 1
        entry["solved"] = bool(entry["solved"] or correct)
        entry["first"] = entry["first"] or now
        entry["last"] = now
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)  # atomic: a crash never leaves half a file
        return note
    except Exception as exc:  # recording must never break a check
        return f"(Your attempt could not be recorded: {type(exc).__name__}.)"


class Progress(NamedTuple):
    """Solved and attempted exercises per chapter topic for one learner."""

    learner: str
    rows: list[tuple[str, int, int, int]]   # (topic, solved, attempted, available)
    note: str

    def _repr_markdown_(self) -> str:
        lines = [f"**Progress of {self.learner or 'the default learner'}**", "",
                 "| topic | solved | attempted | exercises |", "|---|---:|---:|---:|"]
        lines += [f"| {t} | {s} | {a} | {n} |" for t, s, a, n in self.rows]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines)

    def __str__(self) -> str:
        width = max([len(t) for t, *_ in self.rows] + [5])
        out = [f"Progress of {self.learner or 'the default learner'}",
               f"{'topic'.ljust(width)}  solved  attempted  exercises"]
        out += [f"{t.ljust(width)}  {s:6d}  {a:9d}  {n:9d}" for t, s, a, n in self.rows]
        return "\n".join(out + ([self.note] if self.note else []))


def progress(learner: str = "") -> Progress:
    """The learner's record as a table: per topic, how many exercises are solved and attempted.

    Never raises: a missing file is an empty record, an unreadable one is set aside (see the
    module docstring) and said so in ``note``.
    """
    from companion.exercises._engine import EXERCISES

    try:
        data, note = _load(progress_path())
    except Exception as exc:  # pragma: no cover - _load handles the file's own errors
        data, note = {"learners": {}}, f"Progress could not be read ({type(exc).__name__})."
    mine = data["learners"].get(str(learner), {}) if isinstance(data.get("learners"), dict) else {}
    available: dict[str, int] = defaultdict(int)
    for ex_id in EXERCISES:
        available[ex_id.split(".")[0]] += 1
    solved: dict[str, int] = defaultdict(int)
    tried: dict[str, int] = defaultdict(int)
    for ex_id, entry in mine.items():
        if not isinstance(entry, dict):
            continue
        topic = ex_id.split(".")[0]
        tried[topic] += 1
        solved[topic] += bool(entry.get("solved"))
    rows = [(t, solved[t], tried[t], available[t]) for t in sorted(set(available) | set(tried))]
    return Progress(str(learner), rows, note)


def _reset_for_tests(path: Any = None) -> None:  # pragma: no cover - used by tests only
    p = Path(path) if path else progress_path()
    if p.exists():
        p.unlink()
