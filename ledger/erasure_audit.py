"""`verify` on the erasure records: each is signed by the checkpoint key, its event id is
the one its content gives, and the keys it says were destroyed are gone.

A record whose keys still exist is an erasure that was published but not finished (the
`erase` that published it was stopped before destroying them): running `erase` again
for the subject finishes it, under the same record.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.erasure_record import FAMILY, BadErasureRecord, open_record
from ledger.merkle.errors import ProofFailed
from ledger.merkle.notes import NoteVerifier
from ledger.privacy.store_keys import TABLE as KEY_TABLE
from ledger.store import Store

_RECORDS = f"""SELECT kafka_offset, toString(event_id), reason FROM trail
WHERE kafka_topic = {{topic:String}} AND family = '{FAMILY}' ORDER BY kafka_offset"""
_LIVE_KEYS = f"SELECT DISTINCT key_id FROM {KEY_TABLE} WHERE key_id IN {{ids:Array(String)}}"


@dataclass(frozen=True)
class RecordCheck:
    topic: str
    offset: int
    event_id: str
    problem: str | None

    def __str__(self) -> str:
        where = f"erasure record {self.event_id} ({self.topic}[0] offset {self.offset})"
        return f"{where}: {self.problem}" if self.problem else f"{where}: signed, keys gone"


def check_erasure_records(store: Store, topic: str, verifier: NoteVerifier) -> list[RecordCheck]:
    checks = []
    for offset, event_id, note in store.query(_RECORDS, {"topic": topic}):
        checks.append(
            RecordCheck(
                topic,
                int(offset),
                str(event_id),
                _problem(store, str(event_id), str(note or ""), verifier),
            )
        )
    return checks


def _problem(store: Store, event_id: str, note: str, verifier: NoteVerifier) -> str | None:
    try:
        record = open_record(note, verifier)
    except (ProofFailed, BadErasureRecord) as exc:
        return f"{exc} (a record signed by a retired key needs that key's public half)"
    if str(record.event_id) != event_id:
        return f"its content gives event id {record.event_id}, not the stored one"
    if record.key_ids:
        live = store.query(_LIVE_KEYS, {"ids": list(record.key_ids)})
        if live:
            return (
                f"{len(live)} key(s) it names as destroyed still exist: the erasure was "
                "published but not finished; run `audit-trail erase` for the subject again"
            )
    return None
