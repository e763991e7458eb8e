"""Envelopes that contradict themselves, sent as raw bytes by a plain kafka-python producer
(not ours), consumed by the real consumer into the embedded engine.

Key or partition apart from the session: stored, flagged, shown by verify and readers.
A payload that is not the record its event_type names: dead-lettered.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from audit_trail.stack import TopicLayout
from ledger import EmbeddedStore, verify
from ledger.access import Viewer
from ledger.privacy import RowOpener, StoreKeyStore
from ledger.reader import TrailReader
from producers.events import Event
from producers.simulation import simulate
from schemas import AvroCodec
from tests.support.ingest import DAY, cli_env, service
from tests.support.kafka import default_partition, read_all
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    opened = EmbeddedStore(Path(tmp_path_factory.mktemp("envelope")) / "store")
    opened.migrate()
    yield opened
    opened.close()


def _send(raw: KafkaProducer, topic: str, event: Event, key: bytes | None, **kw: Any) -> int:
    """Send ``event`` as its producer would encode it, with ``key``; its partition."""
    value = AvroCodec().encode(event.family, event.to_avro())
    return int(raw.send(topic, key=key, value=value, **kw).get(timeout=30).partition)


def _flags(store: EmbeddedStore, topics: TopicLayout) -> dict[str, str | None]:
    rows = store.query(
        "SELECT toString(event_id), envelope_flags FROM trail "
        "WHERE kafka_topic IN ({a:String}, {b:String}) AND family != 'dead_letter'",
        {"a": topics.session, "b": topics.transaction},
    )
    return {str(event_id): flags for event_id, flags in rows}


def _a_session_kcat_places_elsewhere(partitions: int) -> list[Event]:
    """Events of one session whose key CRC32 (kcat's default) and murmur2 place apart."""
    sessions: dict[uuid.UUID, list[Event]] = {}
    for event in simulate(20, 77, DAY):
        sessions.setdefault(event.session_id, []).append(event)
    for sid, events in sessions.items():
        key = str(sid).encode()
        families = [e.family for e in events]
        enough = families.count("session_event") >= 8 and families.count("transaction_event") >= 2
        if enough and zlib.crc32(key) % partitions != default_partition(key, partitions):
            return events
    raise AssertionError("no session that CRC32 and murmur2 place apart")


def test_events_keyed_or_placed_apart_from_their_session_are_stored_flagged(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    events = _a_session_kcat_places_elsewhere(partitions=4)
    session_events = [e for e in events if e.family == "session_event"]
    sid = events[0].session_id
    key = str(sid).encode()
    other = next(e.session_id for e in simulate(3, 5, DAY) if e.session_id != sid)
    raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    home = _send(raw, topics.session, session_events[0], key)  # as our producer sends it
    away = (home + 1) % 4
    expected: dict[str, str | None] = {str(session_events[0].event_id): None}
    cases: list[tuple[bytes | None, dict[str, int], str]] = [
        (None, {"partition": home}, "key_missing"),  # no key, placed right by luck
        (None, {"partition": away}, "key_missing,off_partition"),
        (b"", {}, "key_missing"),  # an empty key is no key either
        (b"session-42", {}, "key_not_session"),
        (str(other).encode(), {}, "key_not_session"),  # another session's UUID
        (key.upper(), {}, "key_not_session"),  # same UUID, other bytes: other partition
        (key, {"partition": zlib.crc32(key) % 4}, "off_partition"),  # kcat's CRC32
    ]
    for event, (bad_key, where, flags) in zip(
        session_events[1 : len(cases) + 1], cases, strict=True
    ):
        partition = _send(raw, topics.session, event, bad_key, **where)
        if flags.startswith("key_not_session") and partition != home:
            flags += ",off_partition"
        if flags == "key_missing" and partition != home:
            flags += ",off_partition"
        expected[str(event.event_id)] = flags
    # Transaction events are keyed by session_id too (Event.key), not by booking id.
    payments = [e for e in events if e.family == "transaction_event"]
    home_tx = _send(raw, topics.transaction, payments[0], key)
    expected[str(payments[0].event_id)] = None
    booking_key = str(payments[1].booking_id).encode()  # type: ignore[attr-defined]
    partition = _send(raw, topics.transaction, payments[1], booking_key)
    tx_flags = "key_not_session" + (",off_partition" if partition != home_tx else "")
    expected[str(payments[1].event_id)] = tx_flags
    raw.close()

    keys = StoreKeyStore(store, b"k" * 32)
    ingest = service(kafka_bootstrap, topics, store, keys=keys)
    ingest.run(until_idle=True)

    assert _flags(store, topics) == expected
    assert ingest.stats.dead_letters == 0
    flagged = {k: v for k, v in expected.items() if v is not None}
    assert len(flagged) == len(expected) - 2  # all but the two sent as our producer does
    # verify: the chains are intact (flags are facts, not corruption) and it lists them.
    report = verify(store, [topics.session, topics.transaction])
    assert report.ok, str(report)
    assert report.flagged.total == len(flagged)
    text = str(report)
    assert f"{len(flagged)} event(s) stored with envelope flags" in text
    assert all(event_id in text for event_id in flagged)
    # Readers show the flag with the event: auditors and the session's own parties.
    reader = TrailReader(store, RowOpener(keys))
    shown = {
        str(row["event_id"]): row.get("envelope_flags")
        for row in reader.session_trail(sid, Viewer("auditor"))
    }
    assert shown == expected
    joined = next(e for e in session_events if e.event_type == "participant_joined")
    party = Viewer(joined.participant_role, joined.participant_id)  # type: ignore[attr-defined]
    seen = {str(r["event_id"]): r.get("envelope_flags") for r in reader.session_trail(sid, party)}
    assert seen == expected
    timeline = store.query(
        "SELECT toString(event_id), envelope_flags FROM v_session_timeline "
        "WHERE session_id = {s:UUID}",
        {"s": sid},
    )
    assert dict(timeline) == expected


def test_a_flag_removed_afterwards_breaks_the_chain(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    event = next(iter(one_of_each(seed=8).values()))
    raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    topic = topics.session if event.family == "session_event" else topics.transaction
    _send(raw, topic, event, b"session-42")
    raw.close()
    service(kafka_bootstrap, topics, store).run(until_idle=True)
    assert _flags(store, topics)[str(event.event_id)] is not None
    store.execute(
        f"ALTER TABLE trail UPDATE envelope_flags = NULL WHERE event_id = '{event.event_id}' "
        "SETTINGS mutations_sync = 1"
    )
    report = verify(store, [topic])
    assert not report.ok
    assert report.first is not None and report.first.kind == "altered_row"


def test_a_payload_other_than_its_event_type_names_is_dead_lettered(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    codec = AvroCodec()
    sample = one_of_each(seed=21)
    joined, confirmed = sample["participant_joined"], sample["booking_confirmed"]
    good = [e for e in sample.values() if e.family == "session_event"]
    raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    key = str(good[0].session_id).encode()  # one key, one partition: offsets are known
    left = codec.encode("session_event", joined.to_avro() | {"event_type": "participant_left"})
    initiated = codec.encode(
        "transaction_event", confirmed.to_avro() | {"event_type": "booking_initiated"}
    )
    valid = [codec.encode(e.family, e.to_avro()) for e in good]
    for value in [valid[0], left, *valid[1:]]:
        raw.send(topics.session, key=key, value=value)
    raw.send(topics.transaction, key=str(confirmed.session_id).encode(), value=initiated)
    raw.flush()
    raw.close()

    ingest = service(kafka_bootstrap, topics, store)
    ingest.run(until_idle=True)

    stored = _flags(store, topics)
    # (Stored, though flagged: one key for events of several sessions.)
    assert sorted(stored) == sorted(str(e.event_id) for e in good)
    letters = read_all(kafka_bootstrap, topics.dead_letter, expected=2)
    assert sorted(r.value for r in letters) == sorted([left, initiated])
    headers = {r.value: dict(r.headers) for r in letters}
    assert headers[left]["dlq.reason_code"] == b"payload_type_mismatch"
    assert headers[left]["dlq.reason"] == (
        b"event_type 'participant_left' carries a ParticipantJoined payload, "
        b"not the ParticipantLeft it names"
    )
    assert headers[initiated]["dlq.reason_code"] == b"payload_type_mismatch"
    trail = store.query(
        "SELECT kafka_topic, kafka_offset, failure_code FROM trail "
        "WHERE kafka_topic IN ({a:String}, {b:String}) AND family = 'dead_letter' "
        "ORDER BY kafka_topic, kafka_offset",
        {"a": topics.session, "b": topics.transaction},
    )
    assert sorted(trail) == sorted(
        [
            (topics.session, 1, "payload_type_mismatch"),
            (topics.transaction, 0, "payload_type_mismatch"),
        ]
    )
    assert verify(store, [topics.session, topics.transaction]).ok


def test_the_cli_shows_flags_in_verify_and_timeline(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    events = [e for e in simulate(1, 31, DAY) if e.family == "session_event"][:3]
    raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    _send(raw, topics.session, events[0], events[0].key)
    _send(raw, topics.session, events[1], None, partition=0)
    raw.close()
    env = cli_env(kafka_bootstrap, topics) | {
        "AUDIT_DATA_DIR": str(tmp_path),
        "AUDIT_CONSUMER_GROUP": f"cli-{uuid.uuid4().hex[:8]}",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "audit_trail.cli", *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)

    consumed = cli("consume", "--until-idle")
    assert consumed.returncode == 0, consumed.stderr
    checked = cli("verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 event(s) stored with envelope flags (key_missing" in checked.stdout
    assert str(events[1].event_id) in checked.stdout
    shown = cli("timeline", str(events[0].session_id)).stdout.splitlines()
    flagged = [line for line in shown if line.endswith("]")]
    assert len(shown) == 3 and len(flagged) == 1 and "[key_missing" in flagged[0]
