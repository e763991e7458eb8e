"""StoreKeyStore: data keys wrapped under a master key, in the store's ``subject_keys`` table.

Caches, and the staleness they leave:
- Active keys (``key_for``): each instance creates its own key per subject and purpose
  and uses it for ``active_ttl_s``, then starts a new one. An instance in another
  process keeps sealing with a key that was destroyed meanwhile until then (or until
  ``reload``): such rows are unreadable, which errs on the side of the erasure.
- Looked-up keys (``key_by_id``), found or not: kept ``cache_ttl_s``. Another process
  that read a key before it was destroyed can still open values with it for that long,
  or until it calls ``reload``. The instance that destroys keys drops them at once.
- Both caches hold at most ``cache_size`` entries (least recently used go first).

A key created by another process but not flushed when ``destroy`` runs survives it: the
erasure procedure should call ``destroy`` again once the consumers' batch interval has
passed (it is idempotent) to catch keys flushed in between.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from ledger.columns import Column
from ledger.privacy import cipher
from ledger.privacy.errors import ErasureIncomplete
from ledger.privacy.keys import Purpose, SubjectKey, check_purpose, check_purposes, check_subject
from ledger.store import SqlStore, Store
from schemas import InvalidInput

TABLE = "subject_keys"
KEY_COLUMNS = (
    Column("subject_id", "String"),
    Column("purpose", "LowCardinality(String)"),
    Column("key_id", "String"),
    Column("wrapped_key", "String"),
    Column("created_at", "DateTime64(6, 'UTC')"),
)
_LOOKUP_BATCH = 5000
K = TypeVar("K")
V = TypeVar("V")

_LOOKUP = f"""SELECT subject_id, purpose, key_id, wrapped_key FROM {TABLE}
WHERE key_id IN {{ids:Array(String)}}"""
_OWNED = f"""SELECT DISTINCT key_id FROM {TABLE}
WHERE subject_id = {{subject:String}} AND purpose IN {{purposes:Array(String)}}"""
# A DELETE mutation rewrites the parts that hold the rows; mutations_sync = 2 returns
# once it is done. (A lightweight DELETE would only mask the rows until a merge.)
_DELETE = f"""ALTER TABLE {TABLE}
DELETE WHERE subject_id = {{subject:String}} AND purpose IN {{purposes:Array(String)}}
SETTINGS mutations_sync = 2"""
# Parts replaced by then may still hold the deleted bytes until the cleanup removes them.
_OLD_PARTS = f"""SELECT count() FROM system.parts
WHERE database = currentDatabase() AND table = '{TABLE}' AND NOT active
  AND toUnixTimestamp(remove_time) <= {{cutoff:UInt32}}"""


def key_aad(subject_id: str, purpose: str, key_id: str) -> bytes:
    """Binds a wrapped key to its row: moved to another subject, it does not unwrap."""
    return f"subject-key|{subject_id}|{purpose}|{key_id}".encode()


@dataclass(frozen=True)
class _Known:
    subject_id: str
    purpose: str
    key: bytes | None  # None: destroyed or unknown
    at: float


@dataclass(frozen=True)
class _Active:
    key: SubjectKey
    at: float


@dataclass(frozen=True)
class _Pending:
    subject_id: str
    purpose: Purpose
    key: SubjectKey
    wrapped: str
    created_at: datetime

    def row(self) -> tuple[str, str, str, str, datetime]:
        return (self.subject_id, self.purpose, self.key.key_id, self.wrapped, self.created_at)


class StoreKeyStore:
    """A ``KeyStore`` on a trail store (embedded or server); safe to share between threads."""

    def __init__(
        self,
        store: Store,
        master_key: bytes,
        *,
        active_ttl_s: float = 3600.0,
        cache_ttl_s: float = 300.0,
        cache_size: int = 100_000,
        erase_timeout_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        cipher.check_master_key(master_key)
        # Keys go in as insert data (ArrowStream / native blocks), never as SQL text or
        # query parameters, which a server may write to its query log.
        if not isinstance(store, SqlStore):
            raise InvalidInput(
                f"StoreKeyStore needs an EmbeddedStore or ServerStore, not {store!r}"
            )
        self._store: SqlStore = store
        self._master = master_key
        self._active_ttl = active_ttl_s
        self._cache_ttl = cache_ttl_s
        self._cache_size = cache_size
        self._erase_timeout = erase_timeout_s
        self._clock = clock
        self._lock = threading.RLock()
        self._active: OrderedDict[tuple[str, Purpose], _Active] = OrderedDict()
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._pending: dict[str, _Pending] = {}

    def key_for(self, subject_id: str, purpose: Purpose) -> SubjectKey:
        slot = (check_subject(subject_id), check_purpose(purpose))
        with self._lock:
            now = self._clock()
            active = self._active.get(slot)
            if active is not None and now - active.at < self._active_ttl:
                self._active.move_to_end(slot)
                return active.key
            key = SubjectKey(secrets.token_hex(8), cipher.new_data_key())
            wrapped = cipher.wrap_key(self._master, key.key, key_aad(*slot, key.key_id))
            self._pending[key.key_id] = _Pending(*slot, key, wrapped, datetime.now(UTC))
            _put(self._active, slot, _Active(key, now), self._cache_size)
            return key

    def flush(self) -> None:
        with self._lock:
            if not self._pending:
                return
            rows = [pending.row() for pending in self._pending.values()]
            # Keys stay pending until the insert succeeded: a failed flush can be retried.
            self._store._insert(TABLE, KEY_COLUMNS, rows, "")
            now = self._clock()
            for key_id, pending in self._pending.items():
                known = _Known(pending.subject_id, pending.purpose, pending.key.key, now)
                _put(self._known, key_id, known, self._cache_size)
            self._pending.clear()

    def key_by_id(self, key_id: str) -> bytes | None:
        return self.keys_by_id([key_id])[key_id]

    def keys_by_id(self, key_ids: Iterable[str]) -> dict[str, bytes | None]:
        found: dict[str, bytes | None] = {}
        with self._lock:
            now = self._clock()
            missing = []
            for key_id in dict.fromkeys(key_ids):
                pending = self._pending.get(key_id)
                known = self._known.get(key_id)
                if pending is not None:
                    found[key_id] = pending.key.key
                elif known is not None and now - known.at < self._cache_ttl:
                    self._known.move_to_end(key_id)
                    found[key_id] = known.key
                else:
                    missing.append(key_id)
            for start in range(0, len(missing), _LOOKUP_BATCH):
                found.update(self._load(missing[start : start + _LOOKUP_BATCH], now))
        return found

    def _load(self, key_ids: list[str], now: float) -> dict[str, bytes | None]:
        loaded: dict[str, bytes | None] = dict.fromkeys(key_ids)
        subjects: dict[str, tuple[str, str]] = {}
        for subject_id, purpose, key_id, wrapped in self._store.query(_LOOKUP, {"ids": key_ids}):
            aad = key_aad(str(subject_id), str(purpose), str(key_id))
            loaded[str(key_id)] = cipher.unwrap_key(self._master, str(wrapped), aad)
            subjects[str(key_id)] = (str(subject_id), str(purpose))
        for key_id, key in loaded.items():
            subject_id, purpose = subjects.get(key_id, ("", ""))
            _put(self._known, key_id, _Known(subject_id, purpose, key, now), self._cache_size)
        return loaded

    def key_ids(self, subject_id: str, purposes: Sequence[Purpose]) -> list[str]:
        """Ids of the subject's keys for these purposes, stored or only buffered here."""
        wanted = check_purposes(purposes)
        params = {"subject": check_subject(subject_id), "purposes": wanted}
        with self._lock:
            stored = {str(row[0]) for row in self._store.query(_OWNED, params)}
            buffered = {
                key_id
                for key_id, p in self._pending.items()
                if p.subject_id == subject_id and p.purpose in wanted
            }
        return sorted(stored | buffered)

    def destroy(self, subject_id: str, purposes: Sequence[Purpose]) -> int:
        """Deletes the subject's keys for these purposes, and waits until no table part
        on disk holds their bytes any more (``ErasureIncomplete`` after
        ``erase_timeout_s``: call again to go on waiting). Idempotent.

        The count misses a key another process inserts between this call's look-up and
        its delete (the key is deleted all the same).
        """
        wanted = check_purposes(purposes)
        params = {"subject": check_subject(subject_id), "purposes": wanted}
        with self._lock:
            stored = {str(row[0]) for row in self._store.query(_OWNED, params)}
            unflushed = {
                key_id
                for key_id, p in self._pending.items()
                if p.subject_id == subject_id and p.purpose in wanted
            }
            # Forget them here first: they must not outlive the erasure in this instance.
            for key_id in unflushed:
                del self._pending[key_id]
            for purpose in wanted:
                self._active.pop((subject_id, purpose), None)
            for key_id, known in list(self._known.items()):
                if key_id in stored or (known.subject_id == subject_id and known.purpose in wanted):
                    del self._known[key_id]
            if stored:
                self._store.query(_DELETE, params)
        destroyed = len(stored | unflushed)
        self._await_old_parts(destroyed)
        return destroyed

    def _await_old_parts(self, destroyed: int) -> None:
        cutoff = int(self._store.query("SELECT toUnixTimestamp(now())")[0][0])
        deadline = time.monotonic() + self._erase_timeout
        while True:
            left = int(self._store.query(_OLD_PARTS, {"cutoff": cutoff})[0][0])
            if left == 0:
                return
            if time.monotonic() >= deadline:
                raise ErasureIncomplete(
                    f"{left} replaced part(s) of {TABLE} may still hold destroyed key bytes "
                    f"after {self._erase_timeout:.0f} s; ClickHouse removes them in the "
                    "background: call destroy again to wait for them",
                    destroyed,
                )
            time.sleep(0.2)

    def reload(self) -> None:
        """Forgets every cached key, and starts new active keys: picks up erasures made
        by other processes. Unflushed keys stay pending."""
        with self._lock:
            self._known.clear()
            self._active.clear()


def _put(cache: OrderedDict[K, V], key: K, value: V, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)
