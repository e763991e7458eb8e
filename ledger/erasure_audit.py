"""`verify` on the erasure records: each is signed by the checkpoint key, its event id is
the one its content gives, and the keys it says were destroyed are gone.

A record whose keys still exist is an erasure that was published but not finished (the
`erase` that published it was stopped before destroying them): running `erase` again
for the subject finishes it, under the same record.

A record signed by another key than this store's (a store rebuilt from Kafka with a key
of its own, a rotated key) cannot be checked here: it is listed as unchecked, naming the
key, not failed; `verify-proof --public-key` with that key checks it. A record whose
signature is this key's but wrong, or that is not a record at all, fails.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from ledger.erasure_record import FAMILY, BadErasureRecord, ErasureRecord, open_record
from ledger.merkle.errors import ProofFailed
from ledger.merkle.notes import DASH, NoteVerifier
from ledger.privacy.store_keys import TABLE as KEY_TABLE
from ledger.store_parts import TrailQueries

_RECORDS = f"""SELECT kafka_offset, toString(event_id), reason FROM trail
WHERE kafka_topic = {{topic:String}} AND family = '{FAMILY}' ORDER BY kafka_offset"""
_LIVE_KEYS = f"SELECT DISTINCT key_id FROM {KEY_TABLE} WHERE key_id IN {{ids:Array(String)}}"


@dataclass(frozen=True)
class RecordCheck:
    topic: str
    offset: int
    event_id: str
    problem: str | None
    unchecked: str | None = None  # signed by a key this store does not hold

    def __str__(self) -> str:
        where = f"erasure record {self.event_id} ({self.topic}[0] offset {self.offset})"
        if self.problem:
            return f"{where}: {self.problem}"
        if self.unchecked:
            return f"{where}: not checked here: {self.unchecked}"
        return f"{where}: signed, keys gone"


def check_erasure_records(
    store: TrailQueries, topic: str, verifier: NoteVerifier
) -> list[RecordCheck]:
    checks = []
    for offset, event_id, note in store.query(_RECORDS, {"topic": topic}):
        text = str(note or "")
        foreign = _foreign(text, verifier)
        # Another key's signature is not checked here; its content and keys still are.
        problem = _problem(store, str(event_id), text, None if foreign else verifier)
        checks.append(RecordCheck(topic, int(offset), str(event_id), problem, foreign))
    return checks


def _foreign(note: str, verifier: NoteVerifier) -> str | None:
    """Why the note cannot be checked with ``verifier`` (signed by other keys only)."""
    signers = [line.split(" ") for line in note.partition("\n\n")[2].splitlines()]
    ids = []
    for parts in signers:
        if len(parts) != 3 or parts[0] != DASH:
            return None  # malformed: a problem, not a foreign key
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            return None
        if parts[1] == verifier.name and raw[:4] == verifier.key_id:
            return None
        ids.append(f"{parts[1]}+{raw[:4].hex()}")
    if not ids:
        return None
    return (
        f"signed by {', '.join(ids)}, not this store's key {verifier.name}+"
        f"{verifier.key_id.hex()}; check it with that key's public half (`verify-proof`)"
    )


def _problem(
    store: TrailQueries, event_id: str, note: str, verifier: NoteVerifier | None
) -> str | None:
    try:
        record = open_record(note, verifier) if verifier else ErasureRecord.parse(note)
    except (ProofFailed, BadErasureRecord) as exc:
        return str(exc)
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
