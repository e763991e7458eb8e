"""Read connections of the embedded store, so reads run side by side.

chDB runs one statement at a time per connection, and the store's own connection is
shared with ingest's inserts: behind one lock, sixteen API viewers wait for each other
and for every insert. Connections to the same path may coexist in one process, and a
query runs in the engine without holding Python's lock, so a few more connections let
reads overlap each other and the writer. Each is prepared like the store's own
(``USE`` the database, the output settings) and lent to one statement at a time.
Measured side by side in benchmarks/README.md ("API").
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from chdb.state.sqlitelike import Connection

# Two cores' worth of overlap plus room for one waiting on I/O; more only queue inside
# the engine.
READ_CONNECTIONS = 4


class ReadPool:
    def __init__(self, path: str, prepare: Callable[[Any], None], size: int) -> None:
        self._path = path
        self._prepare = prepare
        self._size = size
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._made = 0
        self._lock = threading.Lock()
        self._closed = False

    def run(self, use: Callable[[Any], bytes]) -> bytes:
        """``use(connection)`` on an idle connection (made on demand, up to the size)."""
        conn = self._take()
        try:
            return use(conn)
        finally:
            with self._lock:
                closed = self._closed
            if closed:  # the store closed meanwhile: the path stays bound while it lives
                conn.close()
            else:
                self._idle.put(conn)

    def _take(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._closed:
                raise RuntimeError("the store is closed")
            make = self._made < self._size
            if make:
                self._made += 1
        if not make:
            return self._idle.get()
        conn = Connection(self._path)
        try:
            self._prepare(conn)
        except BaseException:
            conn.close()
            with self._lock:
                self._made -= 1
            raise
        return conn

    def close(self) -> None:
        """Close every connection (call once no statement runs on them)."""
        with self._lock:
            self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
