"""companion.book_seed / book_threads: the environment variables that make every run of the book
another valid run (BOOK_SEED) and set torch's thread count (BOOK_THREADS)."""

from __future__ import annotations

import pytest

import companion
from companion import book_seed, book_threads


def test_book_seed_default_is_the_offset(monkeypatch):
    monkeypatch.delenv("BOOK_SEED", raising=False)
    assert book_seed() == 0
    assert book_seed(5) == 5
    assert isinstance(book_seed(5), int)


@pytest.mark.parametrize("value, offset, expected", [
    pytest.param("7", 0, 7, id="plain"),
    pytest.param("7", 3, 10, id="offset-added"),
    pytest.param(" 2 ", 1, 3, id="whitespace"),
    pytest.param("-4", 4, 0, id="negative"),
    pytest.param("", 3, 3, id="empty-is-unset"),
])
def test_book_seed_reads_the_environment(monkeypatch, value, offset, expected):
    monkeypatch.setenv("BOOK_SEED", value)
    assert book_seed(offset) == expected


def test_book_seed_offsets_give_distinct_seeds(monkeypatch):
    monkeypatch.setenv("BOOK_SEED", "3")
    assert len({book_seed(k) for k in range(10)}) == 10


@pytest.mark.parametrize("value", ["seven", "1.5", "0x10", "1e3"])
def test_book_seed_bad_value_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("BOOK_SEED", value)
    with pytest.raises(ValueError, match=r"^BOOK_SEED: expected an integer, got"):
        book_seed()


@pytest.mark.parametrize("offset", [1.0, "1", None, True])
def test_book_seed_bad_offset(monkeypatch, offset):
    monkeypatch.delenv("BOOK_SEED", raising=False)
    with pytest.raises(TypeError, match=r"^offset: expected an int"):
        book_seed(offset)


def test_book_seed_is_exported():
    assert "book_seed" in companion.__all__ and companion.book_seed is book_seed


def test_book_threads(monkeypatch):
    monkeypatch.delenv("BOOK_THREADS", raising=False)
    assert book_threads() == 1
    monkeypatch.setenv("BOOK_THREADS", "2")
    assert book_threads() == 2
    for bad in ("0", "-1", "two"):
        monkeypatch.setenv("BOOK_THREADS", bad)
        with pytest.raises(ValueError, match=r"^BOOK_THREADS: expected a positive integer"):
            book_threads()
