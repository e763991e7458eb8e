"""What can go wrong talking to the trail's store, named by what the caller must do.

Both backends raise these, wrapping the library error (``raise ... from``) and keeping
ClickHouse's numeric error code as ``code`` when the engine gave one.
"""

from __future__ import annotations

import re

from schemas import AuditTrailError, InvalidInput, Retriable

# ClickHouse error codes that describe a passing condition (overload, network, limits),
# not a wrong statement: retrying the same call later may succeed.
TRANSIENT_CODES = frozenset(
    {
        3,  # UNEXPECTED_END_OF_FILE
        32,  # ATTEMPT_TO_READ_AFTER_EOF
        159,  # TIMEOUT_EXCEEDED
        202,  # TOO_MANY_SIMULTANEOUS_QUERIES
        203,  # NO_FREE_CONNECTION
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        236,  # ABORTED
        241,  # MEMORY_LIMIT_EXCEEDED
        242,  # TABLE_IS_READ_ONLY
        243,  # NOT_ENOUGH_SPACE
        252,  # TOO_MANY_PARTS
        285,  # TOO_FEW_LIVE_REPLICAS
        319,  # UNKNOWN_STATUS_OF_INSERT
        425,  # SYSTEM_ERROR
        439,  # CANNOT_SCHEDULE_TASK
        999,  # KEEPER_EXCEPTION
    }
)

_CODE = re.compile(r"Code: (\d+)\.")


class StoreError(AuditTrailError):
    """Base of the store's errors; ``code`` is ClickHouse's error code, if there was one."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class StoreUnavailable(StoreError, Retriable):
    """The store cannot be reached or is overloaded: back off and retry."""


class QueryRejected(StoreError, InvalidInput):
    """ClickHouse refused the statement (syntax, unknown name, bad value): fix the call."""


class EmbeddedPathInUse(StoreError, InvalidInput):
    """This process already runs the embedded engine on another directory.

    chDB hosts one engine per process, bound to one path, until every connection to it
    is closed.
    """


class MigrationChanged(StoreError):
    """A migration file differs from the one applied earlier; migrations are immutable."""


class StoreNotReady(StoreError):
    """The store's database or schema is missing or older than this program: an
    operator must run ``audit-trail migrate`` (readers never change the schema)."""


def code_in(message: str) -> int | None:
    """The ``Code: N.`` ClickHouse puts at the start of its exception messages."""
    match = _CODE.search(message)
    return int(match[1]) if match else None


def from_engine(message: str, what: str) -> StoreError:
    """The right error for an engine exception message (used by both backends)."""
    code = code_in(message)
    text = f"{what}: {message.strip()}"
    if code in TRANSIENT_CODES:
        return StoreUnavailable(text, code=code)
    return QueryRejected(text, code=code)
