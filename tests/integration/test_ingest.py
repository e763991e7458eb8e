"""The consumer on the real broker and the embedded engine: exactly once, dead letters,
replays, a store outage, and verify."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.errors import CommitFailedError

from audit_trail.stack import TopicLayout
from ledger import EmbeddedStore, verify
from ledger.access import Viewer
from ledger.privacy import PERSONAL_COLUMNS, RowOpener, StoreKeyStore
from ledger.privacy.cipher import is_sealed
from ledger.reader import TrailReader
from producers import AuditProducer
from producers.simulation import simulate
from schemas import AvroCodec
from tests.support.ingest import (
    DAY,
    family_topics,
    fill,
    offsets_contiguous,
    service,
    stored_ids,
)
from tests.support.kafka import read_all
from tests.support.outage import OutageStore
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    opened = EmbeddedStore(Path(tmp_path_factory.mktemp("ingest")) / "store")
    opened.migrate()
    yield opened
    opened.close()


def _count(store: EmbeddedStore, topics: TopicLayout) -> int:
    return len(stored_ids(store, topics))


def test_every_simulated_event_is_stored_exactly_once(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    sent = fill(kafka_bootstrap, topics, sessions=200)
    ingest = service(kafka_bootstrap, topics, store, batch_max_rows=700)
    ingest.run(until_idle=True)
    ids = stored_ids(store, topics)
    assert sorted(ids) == sorted(str(e.event_id) for e in sent)
    assert offsets_contiguous(store, topics.session)
    assert offsets_contiguous(store, topics.transaction)
    assert ingest.stats.rows == len(sent) and ingest.stats.dead_letters == 0
    report = verify(store, [topics.session, topics.transaction])
    assert report.ok, str(report)


def test_a_batch_never_spans_two_months_of_the_trail(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    # One session (one partition), its events stamped in October or November out of
    # order: every change of month must cut the batch (one insert = one table part).
    months = [10, 10, 11, 10, 11, 11, 11, 10]  # five runs of one month
    meeting = [e for e in simulate(1, 11, DAY) if e.family == "session_event"][: len(months)]
    sent = [
        event.model_copy(update={"occurred_at": datetime(2026, month, 20 - i, 9, tzinfo=UTC)})
        for i, (event, month) in enumerate(zip(meeting, months, strict=True))
    ]
    with AuditProducer(kafka_bootstrap, family_topics(topics), linger_ms=20) as producer:
        for event in sent:
            producer.send(event)
    ingest = service(kafka_bootstrap, topics, store, batch_max_rows=1000, batch_max_age_s=30)
    ingest.run(until_idle=True)
    assert sorted(stored_ids(store, topics)) == sorted(str(e.event_id) for e in sent)
    assert ingest.stats.batches == 5
    assert offsets_contiguous(store, topics.session)
    assert verify(store, [topics.session]).ok


def test_group_reset_to_the_start_adds_no_row(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    fill(kafka_bootstrap, topics, sessions=60, seed=2)
    group = f"reset-{uuid.uuid4().hex[:6]}"
    service(kafka_bootstrap, topics, store, group).run(until_idle=True)
    before = _count(store, topics)
    # Move the same group's committed offsets back to 0 on every partition.
    resetter = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group)
    parts = [
        TopicPartition(t, p)
        for t in (topics.session, topics.transaction)
        for p in resetter.partitions_for_topic(t)
    ]
    resetter.assign(parts)
    resetter.commit({tp: OffsetAndMetadata(0, "", -1) for tp in parts})
    resetter.close()
    again = service(kafka_bootstrap, topics, store, group)
    again.run(until_idle=True)
    assert again.stats.rows == 0
    assert _count(store, topics) == before
    # A brand-new group (no committed offsets at all) adds nothing either.
    fresh = service(kafka_bootstrap, topics, store)
    fresh.run(until_idle=True)
    assert fresh.stats.rows == 0 and _count(store, topics) == before


def test_poison_messages_go_to_the_dead_letter_topic_good_ones_are_stored(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    codec = AvroCodec()
    good = [e for e in one_of_each(seed=21).values() if e.family == "session_event"]
    raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    key = str(good[0].session_id).encode()  # one key: everything lands in one partition
    valid = [codec.encode(e.family, e.to_avro()) for e in good]
    unknown = b"\xc3\x01" + (0xDEADBEEF).to_bytes(8, "little") + valid[0][10:]
    poison = [b"not avro at all", unknown, valid[1][:-3]]
    sequence = [valid[0], poison[0], valid[1], poison[1], valid[2], poison[2], *valid[3:]]
    for value in sequence:
        raw.send(topics.session, key=key, value=value)
    raw.flush()
    raw.close()
    ingest = service(kafka_bootstrap, topics, store)
    ingest.run(until_idle=True)
    assert sorted(stored_ids(store, topics)) == sorted(str(e.event_id) for e in good)
    assert ingest.stats.dead_letters == 3
    letters = read_all(kafka_bootstrap, topics.dead_letter, expected=3)
    assert [r.value for r in letters] == poison
    reasons = [dict(r.headers)["dlq.reason_code"].decode() for r in letters]
    assert reasons == ["bad_marker", "unknown_fingerprint", "truncated_datum"]
    offsets = [int(dict(r.headers)["dlq.offset"]) for r in letters]
    assert offsets == [1, 3, 5]
    assert all(dict(r.headers)["dlq.topic"].decode() == topics.session for r in letters)
    # The trail records each refusal at its offset, so offsets stay contiguous.
    trail = store.query(
        "SELECT kafka_offset, failure_code FROM trail WHERE kafka_topic = {t:String} "
        "AND family = 'dead_letter' ORDER BY kafka_offset",
        {"t": topics.session},
    )
    assert trail == [(1, "bad_marker"), (3, "unknown_fingerprint"), (5, "truncated_datum")]
    assert offsets_contiguous(store, topics.session)
    assert verify(store, [topics.session]).ok


def test_a_bad_deploy_stops_the_consumer_with_a_clear_error(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    from consumers import TooManyDeadLetters

    raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for i in range(40):
        raw.send(topics.session, key=b"k", value=b"garbage %d" % i)
    raw.flush()
    raw.close()
    ingest = service(kafka_bootstrap, topics, store, dead_letter_max_consecutive=25)
    with pytest.raises(TooManyDeadLetters, match="25 consecutive messages"):
        ingest.run(until_idle=True)
    assert _count(store, topics) == 0


def test_store_outage_mid_run_loses_nothing(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    flaky = OutageStore(store)
    first = fill(kafka_bootstrap, topics, sessions=40, seed=31)
    ingest = service(kafka_bootstrap, topics, flaky, batch_max_rows=200, retry_max_s=0.5)
    ingest.run(until_idle=True)
    assert _count(store, topics) == len(first)
    group = ingest.config.group_id
    flaky.down.set()
    try:
        second = fill(kafka_bootstrap, topics, sessions=80, seed=32)
        during = service(kafka_bootstrap, topics, flaky, group, batch_max_rows=200)
        worker = threading.Thread(target=during.run, kwargs={"until_idle": True})
        worker.start()
        deadline = time.monotonic() + 60
        while flaky.refused < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert flaky.refused >= 5, "the consumer never tried to insert"
        assert during.metrics.store_available._value.get() == 0
        assert _count(store, topics) == len(first), "rows stored during the outage"
        assert _committed(kafka_bootstrap, group, topics) == len(first), "committed past the store"
    finally:
        flaky.down.clear()
    worker.join(timeout=120)
    assert not worker.is_alive()
    assert sorted(stored_ids(store, topics)) == sorted(str(e.event_id) for e in first + second)
    assert during.metrics.store_available._value.get() == 1
    assert verify(store, [topics.session, topics.transaction]).ok


def test_a_refused_commit_does_not_stop_the_consumer(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    # Kafka refuses commits while the group rebalances. The real consumer's first two
    # commits are refused (injected: a rebalance cannot be timed into a flush); the rows
    # are stored, the run goes on, and later commits catch the offsets up.
    sent = fill(kafka_bootstrap, topics, sessions=40, seed=5)
    group = f"refused-{uuid.uuid4().hex[:6]}"
    ingest = service(kafka_bootstrap, topics, store, group, batch_max_rows=300)
    real_commit = ingest.consumer.commit
    refused = []

    def refusing(offsets: object = None, timeout_ms: int | None = None) -> None:
        if len(refused) < 2:
            refused.append(offsets)
            raise CommitFailedError("group rebalanced (injected)")
        real_commit(offsets, timeout_ms=timeout_ms)

    ingest.consumer.commit = refusing  # type: ignore[method-assign]
    ingest.run(until_idle=True)
    assert len(refused) == 2 and ingest.metrics.commit_failures._value.get() == 2
    assert sorted(stored_ids(store, topics)) == sorted(str(e.event_id) for e in sent)
    assert _committed(kafka_bootstrap, group, topics) == len(sent)
    assert offsets_contiguous(store, topics.session)
    assert offsets_contiguous(store, topics.transaction)


def _committed(bootstrap: str, group: str, topics: TopicLayout) -> int:
    probe = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    try:
        total = 0
        for topic in (topics.session, topics.transaction):
            for p in probe.partitions_for_topic(topic):
                total += probe.committed(TopicPartition(topic, p)) or 0
        return total
    finally:
        probe.close()


def test_metrics_endpoint_reports_rows_lag_latency_and_dead_letters(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    import socket
    import urllib.request

    sent = fill(kafka_bootstrap, topics, sessions=30, seed=41)
    raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    raw.send(topics.session, key=b"x", value=b"\xc3\x01 not really")
    raw.flush()
    raw.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ingest = service(kafka_bootstrap, topics, store)
    ingest.metrics.serve(port)
    ingest.run(until_idle=True)
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    stored = sum(v for k, v in samples.items() if k.startswith("audit_ingest_rows_total"))
    assert stored == len(sent) + 1  # the dead letter is a trail row too
    assert samples['audit_ingest_dead_letters_total{reason="unknown_fingerprint"}'] == 1
    assert samples["audit_ingest_batch_seconds_count"] >= 2
    assert any(k.startswith("audit_ingest_lag_records{") for k in samples)
    assert samples["audit_store_available"] == 1


def test_records_decoded_in_workers_are_stored_in_order_once_and_sealed(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    """Two workers and small chunks (many per partition and poll): offsets in order,
    dead letters at their offsets, personal fields sealed by the consumer process."""
    sent = fill(kafka_bootstrap, topics, sessions=150, seed=97)  # events no other test sends
    codec = AvroCodec()
    victim = next(e for e in sent if e.family == "session_event")
    raw = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    poison = [b"not avro", codec.encode(victim.family, victim.to_avro())[:-2], None]
    for value in poison:
        raw.send(topics.session, key=victim.key, value=value)
    raw.flush()
    raw.close()
    keys = StoreKeyStore(store, b"k" * 32)
    ingest = service(kafka_bootstrap, topics, store, keys=keys, workers=2, chunk_rows=40)
    ingest.run(until_idle=True)
    assert sorted(stored_ids(store, topics)) == sorted(str(e.event_id) for e in sent)
    assert ingest.stats.dead_letters == 3
    assert offsets_contiguous(store, topics.session)
    assert offsets_contiguous(store, topics.transaction)
    report = verify(store, [topics.session, topics.transaction])
    assert report.ok, str(report)
    personal = [c.name for c in PERSONAL_COLUMNS]
    values = store.query(
        f"SELECT {', '.join(personal)} FROM trail WHERE kafka_topic IN ({{a:String}}, "
        "{b:String}) AND family NOT IN ('dead_letter', 'duplicate')",
        {"a": topics.session, "b": topics.transaction},
    )
    found = [v for row in values for v in row if v is not None]
    assert found and all(is_sealed(v) for v in found), "a personal value stored in clear"
    opened = TrailReader(store, RowOpener(keys)).session_trail(victim.session_id, Viewer("auditor"))
    assert str(victim.event_id) in {str(row["event_id"]) for row in opened}
