"""Sealing the personal columns of trail rows on the way in, opening them on the way out.

Whose data a personal column is decides the key that seals it, as the catalogue
declares (``schemas.catalogue``, ``Personal``): today payer_name and payer_email are the
payer's (``payer_id``, or the actor when a row has no payer), purpose ``billing``
(accounting records kept 5 years, an erasure keeps them); network_ip/country/region/city
are the actor's (``actor_id``), purpose ``personal``.

An erased subject's values (``Erasures``: what the erasures topic says, for an event that
happened before the erasure) are stored as ``ERASED`` instead: never in clear, and never
under a new key that would undo the erasure in a store rebuilt from Kafka.

Rows are sealed before the hash chain links them, so the chain covers the ciphertext
and an erasure (destroying keys) leaves every hash valid. Sealing is randomised (fresh
nonce, and a process's own keys), so a replayed batch is not byte-identical to the
first run: replays must rely on the insert dedup token and the store's chain head.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ledger.columns import INDEX, ROW_COLUMNS, Column
from ledger.privacy.cipher import ValueSealer, aad_for, is_sealed, open_parsed, parse_sealed
from ledger.privacy.errors import SealedValueCorrupt, UnsealableRow
from ledger.privacy.keys import KeyStore, Purpose
from ledger.trail_row import TrailRow
from schemas.catalogue import owner_field, personal_fields

ERASED = "[erased]"

# The sealing plan: personal column -> (the column naming whose it is, key purpose).
_PLAN: dict[str, tuple[str, Purpose]] = {
    name: (owner_field(how), how.purpose) for name, how in personal_fields().items()
}


class Erasures(Protocol):
    """Which subjects' data is erased (``ErasureIndex``, kept current by a feed)."""

    def erased(self, subject_id: str, purpose: Purpose, occurred_at: datetime) -> bool: ...


@dataclass(frozen=True)
class PersonalColumn:
    name: str
    index: int
    subject_index: int  # the column naming whose data it is
    purpose: Purpose


def _personal(column: Column) -> PersonalColumn:
    # A sealed value is text: only String columns can hold it.
    if column.type not in ("String", "Nullable(String)"):
        raise UnsealableRow(f"personal column {column.name} is {column.type}, not a String")
    if column.name not in _PLAN:
        raise UnsealableRow(f"personal column {column.name} is not in the catalogue's plan")
    subject, purpose = _PLAN[column.name]
    return PersonalColumn(column.name, INDEX[column.name], INDEX[subject], purpose)


PERSONAL_COLUMNS: tuple[PersonalColumn, ...] = tuple(
    _personal(c) for c in ROW_COLUMNS if c.personal
)


class RowSealer:
    """Seals the personal values of trail rows (without hash columns) with subject keys.

    Keys it creates are only buffered in the key store: call ``keys.flush()`` before
    inserting the sealed rows.
    """

    def __init__(
        self, keys: KeyStore, max_ciphers: int = 100_000, erasures: Erasures | None = None
    ) -> None:
        self._keys = keys
        self._erasures = erasures
        # Sealers by key id: building a cipher per row was a tenth of sealing's cost. A
        # key id names one key's bytes forever, so a cached sealer is never stale.
        self._ciphers: dict[str, ValueSealer] = {}
        self._max_ciphers = max_ciphers

    def _cipher(self, key_id: str, key: bytes) -> ValueSealer:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            if len(self._ciphers) >= self._max_ciphers:
                self._ciphers.clear()
            cipher = self._ciphers[key_id] = ValueSealer(key_id, key)
        return cipher

    def seal(self, row: TrailRow) -> TrailRow:
        """A copy of ``row`` with each non-null personal value sealed (or ``row`` itself)."""
        if len(row) != len(ROW_COLUMNS):
            raise UnsealableRow(
                f"seal rows of {len(ROW_COLUMNS)} columns before linking, got {len(row)}"
            )
        sealed: list[Any] | None = None
        ciphers: dict[tuple[str, Purpose], ValueSealer | None] = {}  # None: erased
        event_id = str(row.event_id)  # once per row: str(UUID) is not free
        for column in PERSONAL_COLUMNS:
            value = row[column.index]
            if value is None:
                continue
            if not isinstance(value, str):
                raise UnsealableRow(f"{column.name} is {type(value).__name__}, not str")
            subject = row[column.subject_index] or row.actor_id
            if not isinstance(subject, str) or not subject:
                raise UnsealableRow(f"{column.name} has no data subject: actor_id is empty")
            slot = (subject, column.purpose)
            if slot in ciphers:
                found = ciphers[slot]
            else:
                found = ciphers[slot] = self._sealer_for(subject, column.purpose, row)
            if sealed is None:
                sealed = list(row)
            sealed[column.index] = (
                ERASED if found is None else found.seal(value, aad_for(event_id, column.name))
            )
        return row if sealed is None else TrailRow._make(sealed)

    def _sealer_for(self, subject: str, purpose: Purpose, row: TrailRow) -> ValueSealer | None:
        """The subject's cipher, or None when their data of this purpose is erased (asked
        before any key is made: an erased subject gets no new key)."""
        if self._erasures is not None and self._erasures.erased(subject, purpose, row.occurred_at):
            return None
        key = self._keys.key_for(subject, purpose)
        return self._cipher(key.key_id, key.key)

    def seal_all(self, rows: Iterable[TrailRow]) -> list[TrailRow]:
        return [self.seal(row) for row in rows]


class RowOpener:
    """Opens the personal values of rows read back as dicts (e.g. ``Store.query_dicts``).

    A value whose key is destroyed reads as ``ERASED``; values that are not sealed
    (None, or plaintext from before sealing) pass through; a sealed value that does not
    authenticate raises ``SealedValueCorrupt`` (tampering must not pass unnoticed).
    Keys are looked up once per call, for all its rows, and not kept between calls.
    """

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys

    def open(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return self.open_all([row])[0]

    def open_all(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        names = [c.name for c in PERSONAL_COLUMNS]
        key_ids = {
            parse_sealed(value).key_id
            for row in rows
            for name in names
            if is_sealed(value := row.get(name))
        }
        keys = self._keys.keys_by_id(key_ids) if key_ids else {}
        opened = []
        for row in rows:
            copy = dict(row)
            for name in names:
                value = copy.get(name)
                if not is_sealed(value):
                    continue
                if "event_id" not in row:
                    raise SealedValueCorrupt(f"select event_id with {name}: it is part of the AAD")
                parsed = parse_sealed(value)
                key = keys.get(parsed.key_id)
                copy[name] = (
                    ERASED
                    if key is None
                    else open_parsed(parsed, key, aad_for(row["event_id"], name))
                )
            opened.append(copy)
        return opened
