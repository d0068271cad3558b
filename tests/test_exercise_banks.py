"""The exercise banks redraw parameters in bounded loops only (companion.exercises.redraw or a
``for`` over a fixed number of draws): a bank never waits in ``while True``."""

from __future__ import annotations

import re
from pathlib import Path

BANKS = sorted((Path(__file__).resolve().parents[1] / "companion" / "exercises" / "bank").glob("*.py"))


def test_no_bank_loops_without_bound():
    offenders = [f"{p.name}:{i}" for p in BANKS for i, line in enumerate(p.read_text().splitlines(), 1)
                 if re.match(r"\s*while\s+True\s*:", line)]
    assert not offenders, offenders
