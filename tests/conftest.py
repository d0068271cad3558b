"""Shared test fixtures.

Exercise checks with a learner's name record the attempt in a local progress file: in tests that
file lives in a temporary folder, never in the user's data directory.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _progress_in_tmp(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("COMPANION_PROGRESS_DIR", str(tmp_path_factory.mktemp("progress")))
