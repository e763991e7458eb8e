"""The trail in ClickHouse: columns, rows, the hash chain, migrations, the store and its
two backends (chDB embedded, ClickHouse server), and the integrity check."""

from ledger.chain import ZERO_HASH, ChainError, ChainHead, canonical_bytes, link, row_hash
from ledger.columns import COLUMN_NAMES, COLUMNS, HASHED_NAMES, ROW_COLUMNS, Column
from ledger.embedded import EmbeddedStore
from ledger.errors import (
    EmbeddedPathInUse,
    MigrationChanged,
    QueryRejected,
    StoreError,
    StoreUnavailable,
)
from ledger.factory import open_store
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
from ledger.server import ServerStore
from ledger.store import Store
from ledger.verify import Problem, VerifyReport, verify

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
