"""The trail in ClickHouse: columns, rows, the hash chain, migrations, the store and its
two backends (chDB embedded, ClickHouse server), and the integrity check.

The backends (and with them chDB, pyarrow, clickhouse-driver: ~0.5 s and hundreds of MB)
are imported when first named, so a process that never opens a store never loads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.chain import ZERO_HASH, ChainError, ChainHead, canonical_bytes, link, row_hash
from ledger.columns import COLUMN_NAMES, COLUMNS, HASHED_NAMES, ROW_COLUMNS, Column
from ledger.errors import (
    EmbeddedPathInUse,
    MigrationChanged,
    QueryRejected,
    StoreError,
    StoreNotReady,
    StoreUnavailable,
)
from ledger.migrations import Migration
from ledger.params import BadParameter
from ledger.rows import (
    DEAD_LETTER,
    DUPLICATE,
    Row,
    UnstorableRecord,
    dead_letter_row,
    duplicate_row,
    trail_row,
)
from ledger.store import Store
from ledger.verify import Problem, VerifyReport, verify

if TYPE_CHECKING:
    from ledger.embedded import EmbeddedStore
    from ledger.factory import open_store
    from ledger.server import ServerStore

_LAZY = {
    "EmbeddedStore": "ledger.embedded",
    "ServerStore": "ledger.server",
    "open_store": "ledger.factory",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ledger' has no attribute {name!r}")


__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "DEAD_LETTER",
    "DUPLICATE",
    "HASHED_NAMES",
    "ROW_COLUMNS",
    "ZERO_HASH",
    "BadParameter",
    "ChainError",
    "ChainHead",
    "Column",
    "EmbeddedPathInUse",
    "EmbeddedStore",
    "Migration",
    "MigrationChanged",
    "Problem",
    "QueryRejected",
    "Row",
    "ServerStore",
    "Store",
    "StoreError",
    "StoreNotReady",
    "StoreUnavailable",
    "UnstorableRecord",
    "VerifyReport",
    "canonical_bytes",
    "dead_letter_row",
    "duplicate_row",
    "link",
    "open_store",
    "row_hash",
    "trail_row",
    "verify",
]
