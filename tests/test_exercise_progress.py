"""companion.exercises.progress: a local record of attempts; corrupt or missing files handled."""

from __future__ import annotations

import json

import pytest

from companion.exercises import EXERCISES, answer, check, progress, progress_path

ID = "conv.output-size"


def test_no_file_is_an_empty_record():
    assert not progress_path().exists()
    p = progress("ada")
    assert p.note == "" and all(s == 0 and a == 0 for _, s, a, _ in p.rows)
    topics = {t for t, *_ in p.rows}
    assert {i.split(".")[0] for i in EXERCISES} <= topics


def test_checks_are_recorded_per_learner():
    check(ID, -1, learner="ada")
    check(ID, answer(ID, learner="ada"), learner="ada")
    check(ID, -1, learner="bob")
    data = json.loads(progress_path().read_text())
    assert data["learners"]["ada"][ID]["attempts"] == 2 and data["learners"]["ada"][ID]["solved"]
    assert data["learners"]["bob"][ID] == {**data["learners"]["bob"][ID], "attempts": 1, "solved": False}
    row = {t: (s, a, n) for t, s, a, n in progress("ada").rows}["conv"]
    assert row[0] == 1 and row[1] == 1 and row[2] == sum(i.startswith("conv.") for i in EXERCISES)
    assert "conv" in progress("ada")._repr_markdown_() and "conv" in str(progress("ada"))


def test_the_default_learner_is_not_recorded():
    check(ID, 3, learner="")
    assert not progress_path().exists()


def test_recording_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("COMPANION_PROGRESS", "off")
    check(ID, 3, learner="ada")
    assert not progress_path().exists()


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2, 3]", b"\xff\xfe\x00garbage", b'{"learners": 5}'])
def test_a_corrupt_file_is_kept_aside_and_a_fresh_record_starts(content):
    path = progress_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    fb = check(ID, -1, learner="ada")
    assert not fb.correct and "could not be read" in fb.message and "fresh record" in fb.message
    kept = list(path.parent.glob("progress.json.unreadable-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == content      # nothing of the old file is lost
    assert json.loads(path.read_text())["learners"]["ada"][ID]["attempts"] == 1


def test_an_unwritable_folder_does_not_break_check(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("COMPANION_PROGRESS_DIR", str(blocker / "sub"))   # a folder below a file
    fb = check(ID, answer(ID, learner="ada"), learner="ada")
    assert fb.correct and "could not be recorded" in fb.message
