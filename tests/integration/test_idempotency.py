"""event_id is the idempotency key, on the real broker and the embedded engine: a repeat
is recorded at its offset as a duplicate and shown once; other content is a conflict."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer

from audit_trail.stack import TopicLayout
from ledger import EmbeddedStore, verify
from ledger.access import Viewer
from ledger.privacy import RowOpener, StoreKeyStore
from ledger.reader import TrailReader
from producers import AuditProducer, EventEncoder
from producers.events import Event
from producers.simulation import simulate
from tests.support.ingest import DAY, cli_env, family_topics, offsets_contiguous, service

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    opened = EmbeddedStore(Path(tmp_path_factory.mktemp("idem")) / "store")
    opened.migrate()
    yield opened
    opened.close()


def _send(bootstrap: str, topics: TopicLayout, events: list[Event]) -> None:
    with AuditProducer(bootstrap, family_topics(topics), linger_ms=20) as producer:
        for event in events:
            producer.send(event)


def _rows(store: EmbeddedStore, topics: TopicLayout) -> list[tuple[str, str, str]]:
    """(event_id, family, event_type) of every stored row of ``topics``."""
    return [
        (str(eid), str(family), str(event_type))
        for eid, family, event_type in store.query(
            "SELECT toString(event_id), family, event_type FROM trail "
            "WHERE kafka_topic IN ({a:String}, {b:String})",
            {"a": topics.session, "b": topics.transaction},
        )
    ]


def _events_once(store: EmbeddedStore, topics: TopicLayout, sent: list[Event]) -> None:
    stored = Counter(eid for eid, family, _ in _rows(store, topics) if family != "duplicate")
    assert stored == Counter(str(e.event_id) for e in {e.event_id: e for e in sent}.values())
    assert offsets_contiguous(store, topics.session)
    assert offsets_contiguous(store, topics.transaction)


def _day(seed: int, sessions: int = 6) -> list[Event]:
    return list(simulate(sessions, seed, DAY))


def test_same_event_twice_in_one_batch_is_stored_once_and_verifies(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    events = _day(seed=501)
    joined = next(e for e in events if e.event_type == "participant_joined")
    moved = joined.model_copy(update={"occurred_at": joined.occurred_at + timedelta(seconds=1)})
    repeats = [*events[:5], moved, *events[-3:]]
    _send(kafka_bootstrap, topics, events + repeats)
    ingest = service(kafka_bootstrap, topics, store, batch_max_rows=10_000, batch_max_age_s=30)
    ingest.run(until_idle=True)
    _events_once(store, topics, events)
    rows = _rows(store, topics)
    assert Counter(t for _, f, t in rows if f == "duplicate") == {
        "duplicate_event": 8,
        "event_id_conflict": 1,
    }
    assert ingest.dedup.counts.repeats == 8 and ingest.dedup.counts.conflicts == 1
    repeats = ingest.metrics.registry.get_sample_value
    assert repeats("audit_ingest_event_id_repeats_total", {"kind": "duplicate_event"}) == 8
    assert repeats("audit_ingest_event_id_repeats_total", {"kind": "event_id_conflict"}) == 1
    report = verify(store, [topics.session, topics.transaction])
    assert report.ok, str(report)
    assert report.repeats == 8 and report.conflict_count == 1
    assert "8 duplicate(s), 1 conflict(s)" in str(report)
    later = moved.occurred_at.astimezone(UTC).isoformat()
    assert f"occurred_at: {joined.occurred_at.astimezone(UTC).isoformat()} -> {later}" in (
        report.conflicts[0].detail
    )


def test_a_repeat_in_a_later_run_is_found_in_the_store(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    # Run 1 stores the day and ends; run 2 is a new consumer (nothing in memory, as
    # after a crash or a rebalance) that reads the same events sent again: only the
    # store can know them.
    events = _day(seed=502)
    _send(kafka_bootstrap, topics, events)
    group = f"idem-{uuid.uuid4().hex[:6]}"
    service(kafka_bootstrap, topics, store, group=group).run(until_idle=True)
    _send(kafka_bootstrap, topics, events)
    again = service(kafka_bootstrap, topics, store, group=group)
    again.run(until_idle=True)
    _events_once(store, topics, events)
    assert again.dedup.counts.repeats == len(events)
    report = verify(store, [topics.session, topics.transaction])
    assert report.ok, str(report)
    assert report.repeats == len(events)


def test_same_id_on_another_partition_and_topic_is_a_duplicate(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    events = _day(seed=503, sessions=2)
    _send(kafka_bootstrap, topics, events)
    service(kafka_bootstrap, topics, store).run(until_idle=True)
    encoder = EventEncoder(family_topics(topics))
    raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    event = events[0]
    topic, _key, value = encoder.encode(event)
    other = topics.transaction if topic == topics.session else topics.session
    for partition in range(4):  # every partition of its own topic, whatever the key
        raw.send(topic, key=b"another-key", value=value, partition=partition)
    raw.send(other, key=b"x", value=value, partition=1)  # and the other topic
    raw.flush()
    raw.close()
    again = service(kafka_bootstrap, topics, store)
    again.run(until_idle=True)
    _events_once(store, topics, events)
    assert again.dedup.counts.repeats == 5
    assert verify(store, [topics.session, topics.transaction]).ok


def test_same_id_with_other_content_is_a_recorded_conflict(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    events = _day(seed=504)
    paid = next(e for e in events if e.event_type == "payment_attempted")
    forged = paid.model_copy(update={"amount_minor": paid.amount_minor + 1})  # type: ignore[attr-defined]
    _send(kafka_bootstrap, topics, events)
    service(kafka_bootstrap, topics, store).run(until_idle=True)
    _send(kafka_bootstrap, topics, [forged, paid])
    again = service(kafka_bootstrap, topics, store)
    again.run(until_idle=True)
    _events_once(store, topics, events)
    assert (again.dedup.counts.repeats, again.dedup.counts.conflicts) == (1, 1)
    report = verify(store, [topics.session, topics.transaction])
    assert report.ok, str(report)  # the chain is whole: the conflict is reported
    assert report.conflict_count == 1 and report.repeats == 1
    (conflict,) = report.conflicts
    assert conflict.event_id == str(paid.event_id)
    assert f"amount_minor: {paid.amount_minor} -> {paid.amount_minor + 1}" in conflict.detail  # type: ignore[attr-defined]
    assert "CONFLICT" in str(report)
    # The stored content is the first one's.
    ((amount,),) = store.query(
        "SELECT amount_minor FROM trail WHERE event_id = {id:UUID} AND family != 'duplicate'",
        {"id": paid.event_id},
    )
    assert amount == paid.amount_minor  # type: ignore[attr-defined]


def test_every_reader_and_view_shows_a_repeated_event_once(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    events = _day(seed=505, sessions=3)
    _send(kafka_bootstrap, topics, events)
    keys = StoreKeyStore(store, b"i" * 32)
    service(kafka_bootstrap, topics, store, keys=keys).run(until_idle=True)
    _send(kafka_bootstrap, topics, events)  # everything twice
    service(kafka_bootstrap, topics, store, keys=keys).run(until_idle=True)
    reader = TrailReader(store, RowOpener(keys))
    booking = next(e for e in events if e.event_type == "booking_initiated")
    sid = booking.session_id
    client = booking.client_id  # type: ignore[attr-defined]
    in_session = sorted(str(e.event_id) for e in events if e.session_id == sid)
    for viewer in (Viewer("auditor", None), Viewer("client", client)):
        shown = [str(r["event_id"]) for r in reader.session_trail(sid, viewer)]
        assert sorted(shown) == in_session, viewer
    payments = reader.payment_trail(
        Viewer("auditor", None),
        booking_id=booking.booking_id,  # type: ignore[attr-defined]
    )
    paid = [e for e in events if e.session_id == sid and e.event_type.startswith("payment_")]
    assert len(payments) == len(paid) > 0
    exported = Counter(str(r["event_id"]) for r in reader.subject_rows(client))
    assert exported and set(exported.values()) == {1}
    # The analyst view: each event once; each repeat is a row of its own (family
    # 'duplicate', its own event_id), as a dead letter is.
    timeline = store.query(
        "SELECT toString(event_id), family FROM v_session_timeline WHERE session_id = {s:UUID}",
        {"s": sid},
    )
    assert set(Counter(eid for eid, _ in timeline).values()) == {1}
    assert sorted(eid for eid, family in timeline if family != "duplicate") == in_session
    assert sum(family == "duplicate" for _, family in timeline) == len(in_session)
    attempts = store.query(
        "SELECT count() FROM v_payment_attempts WHERE session_id = {s:UUID}", {"s": sid}
    )
    assert attempts[0][0] == len({(e.transaction_id, e.attempt_number) for e in paid})  # type: ignore[attr-defined]
    joins = store.query(
        "SELECT sum(joins) FROM v_participation WHERE session_id = {s:UUID}", {"s": sid}
    )
    assert joins[0][0] == sum(
        1 for e in events if e.session_id == sid and e.event_type == "participant_joined"
    )


def test_the_lookup_window_bounds_what_counts_as_stored(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    from ledger.idempotency import stored_events  # here: the module is part of the fix
    from ledger.trail_row import TrailRow

    events = _day(seed=506, sessions=1)
    _send(kafka_bootstrap, topics, events)
    service(kafka_bootstrap, topics, store).run(until_idle=True)
    rows = [
        TrailRow._make(r)
        for r in store.query(
            "SELECT * EXCEPT (prev_hash, row_hash, chain_version) FROM trail "
            "WHERE kafka_topic = {t:String}",
            {"t": topics.session},
        )
    ]
    now = datetime.now(UTC)
    assert len(stored_events(store, rows, now - timedelta(days=7))) == len(rows) > 0
    assert stored_events(store, rows, now + timedelta(seconds=1)) == {}


def test_produce_file_twice_with_derived_ids_stores_each_event_once(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    events = _day(seed=507, sessions=2)
    lines = []
    for event in events:
        fields = json.loads(event.model_dump_json())
        del fields["event_id"]
        lines.append(json.dumps(fields))
    path = tmp_path / "day.jsonl"
    path.write_text("\n".join(lines) + "\n")
    env = cli_env(kafka_bootstrap, topics) | {
        "AUDIT_DATA_DIR": str(tmp_path / "store"),
        "AUDIT_CONSUMER_GROUP": f"idem-{uuid.uuid4().hex[:6]}",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "audit_trail.cli", *args],
            env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip

    refused = cli("produce", "--file", str(path))
    assert refused.returncode == 1
    assert "line 1: no event_id" in refused.stderr and "--derive-event-id" in refused.stderr
    assert "Traceback" not in refused.stderr
    for _ in range(2):
        sent = cli("produce", "--file", str(path), "--derive-event-id")
        assert sent.returncode == 0, sent.stderr
    consumed = cli("consume", "--until-idle")
    assert consumed.returncode == 0, consumed.stderr
    assert f"{len(events)} duplicates of a stored event_id, 0 event_id conflicts" in consumed.stdout
    counts = cli("counts")
    assert re.search(rf"total\s+{len(events)}$", counts.stdout, re.M), counts.stdout
    assert f"({len(events)} repeated deliveries" in counts.stdout
    checked = cli("verify")
    assert checked.returncode == 0, checked.stdout
    assert f"{len(events)} duplicate(s), 0 conflict(s)" in checked.stdout


def test_repeats_across_sigkilled_consumers_are_each_recorded_once(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    # The whole day sent twice (a relay replaying its outbox); the consumer is killed
    # while it stores the second copies, and restarted: only the store remembers which
    # ids it has, and the rows of a killed flush are read and judged again. The store is
    # read through the CLI: this test process holds another chDB directory.
    events = _day(seed=508, sessions=120)
    _send(kafka_bootstrap, topics, events)
    _send(kafka_bootstrap, topics, events)
    env = cli_env(kafka_bootstrap, topics) | {
        "AUDIT_DATA_DIR": str(tmp_path / "store"),
        "AUDIT_CONSUMER_GROUP": f"idem-kill-{uuid.uuid4().hex[:6]}",
        "AUDIT_BATCH_MAX_ROWS": "300",
    }
    command = [sys.executable, "-m", "audit_trail.cli"]

    def stored() -> tuple[int, int]:
        """(events, repeats) as `counts` prints them."""
        out = subprocess.run(
            [*command, "counts"], env=env, capture_output=True, text=True, timeout=120
        ).stdout
        total = re.search(r"total\s+(\d+)$", out, re.M)
        repeats = re.search(r"\((\d+) repeated deliveries", out)
        return int(total[1]) if total else 0, int(repeats[1]) if repeats else 0

    group = env["AUDIT_CONSUMER_GROUP"]
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    at_kill = []
    try:
        # Kill once the first copies are stored (repeats in flight), then again later.
        for target in (len(events) + 300, len(events) + 1200):
            proc = subprocess.Popen([*command, "consume"], env=env, stdout=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while _committed(admin, group) < target and time.monotonic() < deadline:
                assert proc.poll() is None, "the consumer died by itself"
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            at_kill.append(stored())
    finally:
        admin.close()
    # Each kill landed with repeats stored and rows still to come (partitions progress
    # apart: some may still be storing first copies).
    assert all(r > 0 and n + r < 2 * len(events) for n, r in at_kill), at_kill
    final = subprocess.run(
        [*command, "consume", "--until-idle"], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert final.returncode == 0, final.stderr[-3000:]
    assert stored() == (len(events), len(events))
    checked = subprocess.run(
        [*command, "verify"], env=env, capture_output=True, text=True, timeout=300
    )
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert f"{len(events)} duplicate(s), 0 conflict(s)" in checked.stdout


def _committed(admin: KafkaAdminClient, group: str) -> int:
    offsets = admin.list_group_offsets({group: None}).get(group, {})
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


def test_a_repeat_creates_no_key(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    # Repeats are settled before sealing (ledger.trail_writer): a duplicate row holds no
    # personal data, so sealing it would only leave a key that seals nothing stored.
    events = _day(seed=508, sessions=2)
    _send(kafka_bootstrap, topics, events)
    service(kafka_bootstrap, topics, store, keys=StoreKeyStore(store, b"k" * 32)).run(
        until_idle=True
    )
    ((keys_before,),) = store.query("SELECT count() FROM subject_keys")
    assert keys_before > 0
    _send(kafka_bootstrap, topics, events)  # every event again, read by a new process
    again = service(kafka_bootstrap, topics, store, keys=StoreKeyStore(store, b"k" * 32))
    again.run(until_idle=True)
    assert again.dedup.counts.repeats == len(events)
    ((keys_after,),) = store.query("SELECT count() FROM subject_keys")
    assert keys_after == keys_before
