"""Proof bundles: build them from the store (``prove_event``, ``prove_consistency``) and
check them with nothing but a public key (``check_bundle``).

An inclusion bundle holds, for every place the event is stored, the row as stored (UUIDs
as text, times as integer microseconds: the form the chain hashes), its leaf index, the
RFC 6962 inclusion path and the signed checkpoint it leads to. docs/merkle.md specifies
the JSON; anyone can check it with SHA-256 and Ed25519 alone.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.chain import hashed_form_select, row_hash
from ledger.columns import COLUMNS, INDEX
from ledger.merkle.errors import BadBundle, ProofFailed, TreeUnavailable
from ledger.merkle.hashing import (
    check_consistency,
    consistency_proof,
    inclusion_proof,
    root_from_inclusion,
)
from ledger.merkle.notes import Checkpoint, NoteVerifier
from ledger.merkle.tiles import StoredTree, leaf_of
from ledger.store_parts import TrailQueries
from schemas import InvalidInput

INCLUSION = "audit-trail-inclusion/1"
RECORD_FAMILY = "erasure"  # ledger.erasure_record.FAMILY
CONSISTENCY = "audit-trail-consistency/1"
_NAMES = [c.name for c in COLUMNS]
EVENT_SQL = f"""SELECT {hashed_form_select()} FROM trail
WHERE event_id = {{id:UUID}} AND kafka_topic IN {{topics:Array(String)}}
ORDER BY kafka_topic, kafka_partition, kafka_offset"""
# The same, reading only the event's session (the trail's order key) as the idempotency
# index (event_ids, ordered by event_id) names it: a range read instead of a scan. An
# event that index no longer holds (older than its 400 days) takes EVENT_SQL.
EVENT_BY_SESSION_SQL = f"""SELECT {hashed_form_select()} FROM trail
WHERE session_id IN (SELECT session_id FROM event_ids WHERE event_id = {{id:UUID}})
  AND event_id = {{id:UUID}} AND kafka_topic IN {{topics:Array(String)}}
ORDER BY kafka_topic, kafka_partition, kafka_offset"""
COVERING_SQL = """SELECT tree_size, first_offset, note FROM merkle_checkpoints
WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}
  AND first_offset <= {offset:UInt64} AND tree_size + first_offset > {offset:UInt64}
ORDER BY tree_size DESC, signed_at DESC LIMIT 1"""
SIZED_SQL = """SELECT first_offset, note FROM merkle_checkpoints
WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt16}
  AND tree_size = {size:UInt64} ORDER BY signed_at DESC LIMIT 1"""
LATEST_SQL = """SELECT kafka_topic, kafka_partition, argMax(note, (tree_size, signed_at))
FROM merkle_checkpoints WHERE kafka_topic IN {topics:Array(String)}
GROUP BY kafka_topic, kafka_partition ORDER BY kafka_topic, kafka_partition"""


def _b64(hashes: Iterable[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def latest_checkpoints(store: TrailQueries, topics: list[str]) -> list[tuple[str, int, str]]:
    """(topic, partition, signed note) of each partition's newest checkpoint."""
    rows = store.query(LATEST_SQL, {"topics": topics})
    return [(str(t), int(p), str(note)) for t, p, note in rows]


def prove_event(store: TrailQueries, event_id: str, topics: list[str]) -> dict[str, Any]:
    """The inclusion bundle of every stored row of ``event_id``."""
    try:
        wanted = uuid.UUID(event_id)
    except ValueError as exc:
        raise BadBundle(f"event id {event_id!r} is not a UUID") from exc
    where = {"id": wanted, "topics": topics}
    rows = store.query(EVENT_BY_SESSION_SQL, where) or store.query(EVENT_SQL, where)
    if not rows:
        raise TreeUnavailable(f"event {wanted} is not in the trail (expired, or never stored)")
    entries = []
    for row in rows:
        topic, partition = str(row[INDEX["kafka_topic"]]), int(row[INDEX["kafka_partition"]])
        offset = int(row[INDEX["kafka_offset"]])
        where = {"topic": topic, "partition": partition}
        covering = store.query(COVERING_SQL, {**where, "offset": offset})
        if not covering:
            raise TreeUnavailable(
                f"event {wanted} at {topic}[{partition}] offset {offset} is not covered by a "
                "signed checkpoint yet: the consumer signs one every second of ingest; "
                "run `audit-trail consume` and try again"
            )
        size, first, note = int(covering[0][0]), int(covering[0][1]), str(covering[0][2])
        tree = StoredTree(store, topic, partition, first, size)
        index = offset - first
        entries.append(
            {
                "topic": topic,
                "partition": partition,
                "offset": offset,
                "leaf_index": index,
                "tree_size": size,
                "row": dict(zip(_NAMES, row, strict=True)),
                "inclusion": _b64(inclusion_proof(index, size, tree.subtree)),
                "checkpoint": note,
            }
        )
    return {"format": INCLUSION, "event_id": str(wanted), "entries": entries}


def stored_checkpoint(store: TrailQueries, topic: str, partition: int, size: int) -> str:
    rows = store.query(SIZED_SQL, {"topic": topic, "partition": partition, "size": size})
    if not rows:
        raise TreeUnavailable(f"no checkpoint of {topic}[{partition}] has tree size {size}")
    return str(rows[0][1])


def prove_consistency(
    store: TrailQueries, topic: str, partition: int, old: int, new: int
) -> dict[str, Any]:
    """The bundle proving the checkpoint of size ``new`` extends that of size ``old``."""
    old_note = stored_checkpoint(store, topic, partition, old)
    new_note = stored_checkpoint(store, topic, partition, new)
    first = int(store.query(SIZED_SQL, {"topic": topic, "partition": partition, "size": new})[0][0])
    tree = StoredTree(store, topic, partition, first, new)
    return {
        "format": CONSISTENCY,
        "topic": topic,
        "partition": partition,
        "old": old_note,
        "new": new_note,
        "proof": _b64(consistency_proof(old, new, tree.subtree)) if old < new else [],
    }


@dataclass(frozen=True)
class Checked:
    """What a bundle proved, one line per entry."""

    lines: list[str]


def check_bundle(bundle: Mapping[str, Any], key: NoteVerifier) -> Checked:
    """Check a bundle with the public key alone; ProofFailed names the first bad leaf."""
    try:
        kind = bundle["format"]
        if kind == INCLUSION:
            return Checked(
                [_check_entry(e, str(bundle["event_id"]), key) for e in bundle["entries"]]
            )
        if kind == CONSISTENCY:
            return Checked([_check_consistency(bundle, key)])
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        if isinstance(exc, ProofFailed):
            raise
        raise BadBundle(f"the bundle is malformed: {type(exc).__name__}: {exc}") from exc
    raise BadBundle(f"unknown bundle format {bundle.get('format')!r}")


def _checkpoint(note: str, key: NoteVerifier, topic: str, partition: int) -> Checkpoint:
    checkpoint = Checkpoint.parse(key.open(note))
    if not checkpoint.origin.endswith(f"/{topic}/{partition}"):
        raise ProofFailed(f"the checkpoint is for {checkpoint.origin}, not {topic}[{partition}]")
    return checkpoint


def _check_entry(entry: Mapping[str, Any], event_id: str, key: NoteVerifier) -> str:
    topic, partition = str(entry["topic"]), int(entry["partition"])
    offset, index = int(entry["offset"]), int(entry["leaf_index"])
    where = f"leaf {index} ({topic}[{partition}] offset {offset})"
    checkpoint = _checkpoint(str(entry["checkpoint"]), key, topic, partition)
    stored = entry["row"]
    row = tuple(stored.get(name) for name in _NAMES)
    if (str(stored["event_id"]), str(stored["kafka_topic"])) != (event_id, topic):
        raise ProofFailed(f"{where}: the row is not event {event_id} of {topic}")
    if (int(stored["kafka_partition"]), int(stored["kafka_offset"])) != (partition, offset):
        raise ProofFailed(f"{where}: the row is stored at another place than the proof says")
    if index != offset - checkpoint.first_offset or checkpoint.size != int(entry["tree_size"]):
        raise ProofFailed(f"{where}: not the leaf or tree size the checkpoint gives")
    try:
        # In the form the row's chain_version names; a bundle from before versions
        # existed has none, and its rows are v1.
        recomputed = row_hash(str(stored["prev_hash"]), row)
    except (ValueError, InvalidInput) as exc:
        raise ProofFailed(f"{where}: the row cannot be hashed: {exc}") from exc
    if recomputed != stored["row_hash"]:
        raise ProofFailed(f"{where}: the event as stored does not match its row_hash")
    path = [base64.b64decode(h, validate=True) for h in entry["inclusion"]]
    try:
        root = root_from_inclusion(index, checkpoint.size, leaf_of(recomputed), path)
    except ProofFailed as exc:
        raise ProofFailed(f"{where}: {exc}") from exc
    if root != checkpoint.root:
        raise ProofFailed(
            f"{where}: the inclusion proof does not lead to the signed root of "
            f"{checkpoint.origin} at size {checkpoint.size}"
        )
    if stored.get("family") == RECORD_FAMILY:
        _check_record(stored, where, key)
    return f"ok: event {event_id} is {where} of {checkpoint.size} leaves, signed {checkpoint.time}"


def _check_record(stored: Mapping[str, Any], where: str, key: NoteVerifier) -> None:
    # An erasure record is signed itself, and its event id is the one its content gives.
    from ledger.erasure_record import BadErasureRecord, open_record  # (imports this package)

    try:
        record = open_record(str(stored.get("reason") or ""), key)
    except (ProofFailed, BadErasureRecord) as exc:
        raise ProofFailed(f"{where}: the erasure record does not check out: {exc}") from exc
    if str(record.event_id) != str(stored["event_id"]):
        raise ProofFailed(f"{where}: the erasure record's content gives another event id")


def _check_consistency(bundle: Mapping[str, Any], key: NoteVerifier) -> str:
    topic, partition = str(bundle["topic"]), int(bundle["partition"])
    old = _checkpoint(str(bundle["old"]), key, topic, partition)
    new = _checkpoint(str(bundle["new"]), key, topic, partition)
    if old.origin != new.origin or old.first_offset != new.first_offset:
        raise ProofFailed("the two checkpoints are of different trees")
    proof = [base64.b64decode(h, validate=True) for h in bundle["proof"]]
    check_consistency(old.size, new.size, old.root, new.root, proof)
    return f"ok: {new.origin} at size {new.size} ({new.time}) extends size {old.size} ({old.time})"
