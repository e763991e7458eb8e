"""The embedded store's reads run side by side: they neither wait for the writer's
connection nor mix their answers, and closing the store releases its directory."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ledger import EmbeddedStore
from schemas import InvalidInput

pytestmark = pytest.mark.integration

# Generous: only a broken store takes this long (a blocked read never returns at all).
DEADLINE_S = 120.0


def _in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    got: list[Any] = []
    thread = threading.Thread(target=lambda: got.append(call()), daemon=True)
    thread.start()
    return thread, got


def test_a_read_does_not_wait_for_the_writers_connection(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    try:
        store.migrate()
        # The writer's connection busy (an insert or DDL holds its lock for its duration).
        with store._lock:
            thread, got = _in_thread(lambda: store.query("SELECT count() FROM trail"))
            thread.join(DEADLINE_S)
            assert not thread.is_alive(), "a read waited for the writer's connection"
        assert got == [[(0,)]]
    finally:
        store.close()


def test_concurrent_reads_each_get_their_own_answer(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    wrong: list[str] = []

    def viewer(n: int) -> None:
        for _ in range(15):
            rows = store.query_dicts("SELECT {n:UInt32} AS n, toString({n:UInt32}) AS s", {"n": n})
            if rows != [{"n": n, "s": str(n)}]:
                wrong.append(f"viewer {n} got {rows}")

    try:
        threads = [threading.Thread(target=viewer, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(DEADLINE_S)
        assert not any(t.is_alive() for t in threads)
        assert wrong == []
    finally:
        store.close()


def test_closing_releases_the_directory_and_refuses_later_reads(tmp_path: Path) -> None:
    first = EmbeddedStore(tmp_path / "first")
    for _ in range(3):  # several read connections made
        first.query("SELECT 1")
    first.close()
    with pytest.raises(InvalidInput, match="closed"):
        first.query("SELECT 1")
    # chDB binds a process to one directory until every connection to it is closed.
    second = EmbeddedStore(tmp_path / "second")
    try:
        assert second.query("SELECT 2") == [(2,)]
    finally:
        second.close()
