"""Erasure beyond the store, on the real broker and chDB: notices on the erasures topic
that every store built from Kafka applies before sealing, and topics whose retention
bounds how long Kafka keeps personal data."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from audit_trail.stack import TopicLayout, ensure_topics
from consumers import ErasureFeed, KafkaErasurePublisher
from ledger import EmbeddedStore, verify
from ledger.erasure import erase_subject
from ledger.privacy import (
    ERASED,
    ErasureFeedFailed,
    ErasureNotice,
    ErasureNotPublished,
    RowOpener,
    StoreKeyStore,
    is_sealed,
)
from ledger.reader import TrailReader
from producers import AuditProducer
from producers.events import Actor, Event, Network
from tests.support.ingest import family_topics, fill, service
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration
MASTER_A, MASTER_B = b"a" * 32, b"b" * 32
NETWORK = ("network_ip", "network_country", "network_region", "network_city")


def _configs(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        described = admin.describe_configs(resources, config_filter="all")["topic"]
    finally:
        admin.close()
    return {name: {k: str(v["value"]) for k, v in described[name].items()} for name in names}


def test_created_topics_expire_personal_data_and_keep_erasures_for_ever(
    kafka_bootstrap: str,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    layout = TopicLayout(f"rt.s-{suffix}", f"rt.t-{suffix}", f"rt.d-{suffix}", f"rt.e-{suffix}")
    assert ensure_topics(kafka_bootstrap, layout, partitions=2, retention_days=3) == []
    found = _configs(kafka_bootstrap, list(layout.names()))
    for name in (layout.session, layout.transaction, layout.dead_letter):
        assert found[name]["cleanup.policy"] == "delete"
        assert found[name]["retention.ms"] == str(3 * 86_400_000)
        assert int(found[name]["segment.ms"]) <= 3_600_000
    assert found[layout.erasures]["cleanup.policy"] == "compact"
    assert found[layout.erasures]["retention.ms"] == "-1"


def test_an_existing_topic_with_another_retention_is_reported_and_left_as_it_is(
    kafka_bootstrap: str,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    layout = TopicLayout(f"ro.s-{suffix}", f"ro.t-{suffix}", f"ro.d-{suffix}", f"ro.e-{suffix}")
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        one = {"num_partitions": 1, "replication_factor": 1}
        admin.create_topics(
            {
                layout.session: {**one, "configs": {"retention.ms": "-1"}},
                layout.erasures: {**one, "configs": {"cleanup.policy": "delete"}},
            }
        )
    finally:
        admin.close()
    problems = ensure_topics(kafka_bootstrap, layout, partitions=1, retention_days=7)
    assert len(problems) == 2, problems  # kept for ever, and the expiring erasures
    assert any(layout.session in p and "for ever" in p for p in problems)
    assert any(layout.erasures in p and "compact" in p for p in problems)
    found = _configs(kafka_bootstrap, [layout.session, layout.erasures, layout.transaction])
    assert found[layout.session]["retention.ms"] == "-1", "reported, never altered"
    assert found[layout.erasures]["cleanup.policy"] == "delete"
    assert found[layout.transaction]["retention.ms"] == str(7 * 86_400_000)


def _payers_with_network(events: list[Event]) -> list[str]:
    """Clients who appear with an IP as actors and who paid: personal and billing data."""
    with_ip = {e.actor.id for e in events if e.network is not None and e.actor.role == "client"}
    payers = [getattr(e, "payer_id", None) for e in events]
    return sorted({p for p in payers if p in with_ip})


def _consume(bootstrap: str, topics: TopicLayout, store: EmbeddedStore, keys: Any) -> None:
    with ErasureFeed(bootstrap, topics.erasures) as feed:
        service(bootstrap, topics, store, keys=keys, erasures=feed).run(until_idle=True)


def _column_values(store: EmbeddedStore, subject: str, column: str, by: str) -> list[Any]:
    rows = store.query(f"SELECT {column} FROM trail WHERE {by} = {{s:String}}", {"s": subject})
    return [row[0] for row in rows]


def test_a_store_rebuilt_from_kafka_honours_the_erasures_made_before(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    events = fill(kafka_bootstrap, topics, sessions=30, seed=9)
    erased, billed, kept = _payers_with_network(events)[:3]
    first = EmbeddedStore(tmp_path / "first")
    first.migrate()
    keys = StoreKeyStore(first, MASTER_A)
    _consume(kafka_bootstrap, topics, first, keys)
    publisher = KafkaErasurePublisher(kafka_bootstrap, topics.erasures)
    erase_subject(first, keys, erased, settle_s=0, publisher=publisher)
    # Once the accounting period has ended, billing data goes too.
    now = datetime.now(UTC)
    publisher.publish(ErasureNotice.for_purposes(billed, ["personal", "billing"], now))
    publisher.close()
    first.close()

    # A new store (new directory, new master key) from the same topics.
    rebuilt = EmbeddedStore(tmp_path / "rebuilt")
    rebuilt.migrate()
    keys = StoreKeyStore(rebuilt, MASTER_B)
    _consume(kafka_bootstrap, topics, rebuilt, keys)
    try:
        for subject in (erased, billed):
            stored = [v for c in NETWORK for v in _column_values(rebuilt, subject, c, "actor_id")]
            assert ERASED in stored and set(stored) <= {ERASED, None}, "never clear, never sealed"
            personal_keys = rebuilt.query(
                "SELECT count() FROM subject_keys WHERE subject_id = {s:String} "
                "AND purpose = 'personal'",
                {"s": subject},
            )
            assert personal_keys[0][0] == 0, "no fresh key for an erased subject"
        billed_names = _column_values(rebuilt, billed, "payer_name", "payer_id")
        assert billed_names and set(billed_names) == {ERASED}
        assert all(is_sealed(v) for v in _column_values(rebuilt, erased, "payer_name", "payer_id"))
        assert all(is_sealed(v) for v in _column_values(rebuilt, kept, "network_ip", "actor_id"))

        reader = TrailReader(rebuilt, RowOpener(keys))
        exported = list(reader.subject_rows(erased))
        mine = [r for r in exported if r["actor_id"] == erased and "network_ip" in r]
        assert mine and {r["network_ip"] for r in mine} == {ERASED}
        sent_ips = {e.network.ip for e in events if e.actor.id == erased and e.network}
        assert not sent_ips & {str(v) for r in exported for v in r.values()}
        paid = [r for r in exported if r.get("payer_id") == erased]
        assert paid and all(r["payer_name"] not in (None, ERASED) for r in paid), "billing kept"
        billed_rows = [r for r in reader.subject_rows(billed) if r.get("payer_id") == billed]
        assert billed_rows and {r["payer_name"] for r in billed_rows} == {ERASED}
        others = [r for r in reader.subject_rows(kept) if r["actor_id"] == kept]
        assert {r.get("network_ip") for r in others} - {None, ERASED}, "others untouched"
        assert verify(rebuilt, [topics.session, topics.transaction]).ok
    finally:
        rebuilt.close()


def _wait(what: str, done: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_an_erasure_published_while_the_consumer_runs_applies_to_the_rows_after_it(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    subject = f"client-{uuid.uuid4().hex[:8]}"
    base = one_of_each()["participant_joined"]

    def joined() -> Event:
        return base.model_copy(
            update={
                "event_id": uuid.uuid4(),
                "actor": Actor(id=subject, role="client"),
                "network": Network(ip="198.51.100.77", country="FR", city="Lyon"),
            }
        )

    store = EmbeddedStore(tmp_path / "store")
    store.migrate()
    keys = StoreKeyStore(store, MASTER_A)
    feed = ErasureFeed(kafka_bootstrap, topics.erasures)
    consumer = service(kafka_bootstrap, topics, store, keys=keys, erasures=feed)
    running = threading.Thread(target=consumer.run)
    running.start()
    try:
        with AuditProducer(kafka_bootstrap, family_topics(topics)) as producer:
            before, after = joined(), joined()

            def stored(event: Event) -> Callable[[], bool]:
                sql = "SELECT count() FROM trail WHERE event_id = {e:UUID}"
                return lambda: store.query(sql, {"e": event.event_id})[0][0] == 1

            producer.send(before).result()
            _wait("the first row", stored(before))
            publisher = KafkaErasurePublisher(kafka_bootstrap, topics.erasures)
            publisher.publish([ErasureNotice(subject, "personal", datetime.now(UTC))])
            publisher.close()
            _wait("the feed", lambda: feed.erased(subject, "personal", before.occurred_at))
            producer.send(after).result()
            _wait("the second row", stored(after))
    finally:
        consumer.stop()
        running.join(timeout=30)
        feed.close()
    try:
        ips = store.query(
            "SELECT toString(event_id), network_ip, network_city FROM trail "
            "WHERE actor_id = {s:String}",
            {"s": subject},
        )
        by_id = {row[0]: row[1:] for row in ips}
        assert all(is_sealed(v) for v in by_id[str(before.event_id)])
        assert by_id[str(after.event_id)] == (ERASED, ERASED)
        made = store.query(
            "SELECT count() FROM subject_keys WHERE subject_id = {s:String}", {"s": subject}
        )
        assert made[0][0] == 1, "the key of the first row only"
        assert verify(store, [topics.session, topics.transaction]).ok
    finally:
        store.close()


def test_a_record_on_the_erasures_topic_that_is_not_a_notice_stops_the_consumer(
    kafka_bootstrap: str, topics: TopicLayout
) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    producer.send(topics.erasures, key=b"personal:x", value=b'{"v": 1, "subject_id": "x"}')
    producer.flush()
    producer.close()
    bad = r"@0 is not an erasure notice.*must be strings.*stops"
    with pytest.raises(ErasureFeedFailed, match=bad):
        ErasureFeed(kafka_bootstrap, topics.erasures)


def test_a_feed_on_a_missing_topic_says_how_to_create_it(kafka_bootstrap: str) -> None:
    with pytest.raises(ErasureFeedFailed, match=r"does not exist.*audit-trail topics"):
        ErasureFeed(kafka_bootstrap, f"no-such-erasures-{uuid.uuid4().hex[:8]}")


def test_a_tombstone_or_a_replayed_older_notice_never_withdraws_an_erasure(
    kafka_bootstrap: str, topics: TopicLayout
) -> None:
    from kafka import KafkaProducer

    now = datetime.now(UTC)
    notice = ErasureNotice("client-00043", "personal", now)
    older = ErasureNotice("client-00043", "personal", datetime(2026, 1, 1, tzinfo=UTC))
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for value in (notice.value(), None, older.value()):
        producer.send(topics.erasures, key=notice.key(), value=value)
    producer.flush()
    producer.close()
    with ErasureFeed(kafka_bootstrap, topics.erasures) as feed:
        assert feed.erased("client-00043", "personal", now)
        assert not feed.erased("client-00044", "personal", now)


def test_a_publisher_without_a_broker_fails_clearly(topics: TopicLayout) -> None:
    started = time.monotonic()
    with pytest.raises(ErasureNotPublished, match=r"127\.0\.0\.1:1.*nothing was erased"):
        KafkaErasurePublisher("127.0.0.1:1", topics.erasures)
    assert time.monotonic() - started < 60


class Unpublishable:
    """The notice never gets out (what KafkaErasurePublisher raises when Kafka is down)."""

    def publish(self, notices: Any, record: Any = None) -> None:
        raise ErasureNotPublished("the erasure notice did not reach Kafka; nothing was erased")


def test_an_erasure_whose_notice_is_not_published_destroys_no_key(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.migrate()
    keys = StoreKeyStore(store, MASTER_A)
    keys.key_for("client-00043", "personal")
    keys.flush()
    try:
        with pytest.raises(ErasureNotPublished):
            erase_subject(store, keys, "client-00043", settle_s=0, publisher=Unpublishable())
        left = store.query("SELECT count() FROM subject_keys WHERE subject_id = 'client-00043'")
        assert left[0][0] == 1
        assert store.query("SELECT count() FROM erasures")[0][0] == 0
    finally:
        store.close()
