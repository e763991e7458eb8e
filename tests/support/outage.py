"""A real store that refuses inserts while an outage is switched on.

chDB runs in this process, so it cannot be made unreachable from outside, and its
bulk-insert path ignores the table and session limits ("too many parts", memory) that
make a ClickHouse server refuse inserts. So the outage is injected at the store
interface: while ``down`` is set, inserts raise the very ``StoreUnavailable`` (code 210,
NETWORK_ERROR) the server adapter raises when its server goes away. Every row that gets
through lands in the real engine underneath; reads always pass through.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from ledger import EmbeddedStore, StoreUnavailable


class OutageStore:
    def __init__(self, inner: EmbeddedStore) -> None:
        self.inner = inner
        self.down = threading.Event()
        self.refused = 0

    def _check(self) -> None:
        if self.down.is_set():
            self.refused += 1
            raise StoreUnavailable("injected outage: Code: 210. NETWORK_ERROR", code=210)

    def insert_trail(self, rows: Sequence[tuple[Any, ...]], dedup_token: str) -> None:
        self._check()
        self.inner.insert_trail(rows, dedup_token)

    def insert_checkpoints(self, *args: Any, **kwargs: Any) -> None:
        self._check()
        self.inner.insert_checkpoints(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
