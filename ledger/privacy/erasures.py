"""The record of erasures (the ``erasures`` table): an erasure is audit data too.

An erasure destroys the subject's data keys for the given purposes (``KeyStore.destroy``,
crypto-shredding); the trail rows stay, their personal values now unreadable. Record it
only after the keys are destroyed, so no record claims an erasure that did not happen:
who (subject id), when, which purposes, how many keys.

By default only ``personal`` is erased: payer name and e-mail on payment records
(``billing``) are accounting records the law makes us keep for 5 years; erase
``billing`` once that period has ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.privacy.erasure_notices import ErasureNotice
from ledger.privacy.keys import Purpose, check_purposes, check_subject
from ledger.store_parts import TrailQueries
from schemas import InvalidInput

MAX_UINT32 = 0xFFFF_FFFF

_RECORD = """INSERT INTO erasures (subject_id, erased_at, purposes, keys_destroyed, note)
SELECT {subject:String}, {erased_at:DateTime64(6, 'UTC')}, {purposes:Array(String)},
       {keys_destroyed:UInt32}, {note:String}"""
_ALL = "SELECT subject_id, arrayJoin(purposes), erased_at FROM erasures"
FROM_TOPIC_NOTE = (
    "applied from the erasures topic: this store sealed none of their data of this "
    "purpose (it stored it as [erased])"
)
_OF = """SELECT subject_id, erased_at, purposes, keys_destroyed, note FROM erasures
WHERE subject_id = {subject:String} ORDER BY erased_at"""


@dataclass(frozen=True)
class Erasure:
    subject_id: str
    erased_at: datetime
    purposes: tuple[str, ...]
    keys_destroyed: int
    note: str


def record_erasure(
    store: TrailQueries,
    subject_id: str,
    purposes: Sequence[Purpose],
    keys_destroyed: int,
    note: str = "",
    erased_at: datetime | None = None,
) -> Erasure:
    """Append one row to ``erasures``; returns what was recorded."""
    if not 0 <= keys_destroyed <= MAX_UINT32:
        raise InvalidInput(f"keys_destroyed {keys_destroyed} is outside 0..{MAX_UINT32}")
    erasure = Erasure(
        check_subject(subject_id),
        (erased_at or datetime.now(UTC)).astimezone(UTC),
        tuple(check_purposes(purposes)),
        keys_destroyed,
        note,
    )
    params: dict[str, Any] = {
        "subject": erasure.subject_id,
        "erased_at": erasure.erased_at,
        "purposes": list(erasure.purposes),
        "keys_destroyed": erasure.keys_destroyed,
        "note": erasure.note,
    }
    store.query(_RECORD, params)
    return erasure


def erasures_of(store: TrailQueries, subject_id: str) -> list[Erasure]:
    """Every recorded erasure of one subject, oldest first."""
    return [
        Erasure(str(subject), at, tuple(str(p) for p in kinds), int(count), str(note))
        for subject, at, kinds, count, note in store.query(_OF, {"subject": subject_id})
    ]


def record_notices(store: TrailQueries, notices: Iterable[ErasureNotice]) -> int:
    """Record each notice that ``erasures`` does not hold yet (a store built from Kafka
    learns of erasures made elsewhere); the number recorded.

    ``erase`` records its own notice with the notice's time, so it is not recorded twice.
    """
    known = {(str(s), str(p), at) for s, p, at in store.query(_ALL)}
    added = 0
    for notice in notices:
        at = notice.erased_at.astimezone(UTC)
        if (notice.subject_id, notice.purpose, at) in known:
            continue
        record_erasure(store, notice.subject_id, [notice.purpose], 0, FROM_TOPIC_NOTE, at)
        added += 1
    return added
