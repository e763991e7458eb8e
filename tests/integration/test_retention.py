"""Retention per category, by ClickHouse TTL: the clauses exist, and backdated events past
their retention are gone once the TTL runs (a merge; OPTIMIZE ... FINAL forces one)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit_trail.stack import TopicLayout
from ledger import EmbeddedStore, verify
from ledger.retention import RetentionPolicy, apply_retention, retention_drift
from producers import AuditProducer
from producers.simulation import simulate
from tests.support.ingest import family_topics, service

pytestmark = pytest.mark.integration
POLICY = RetentionPolicy()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    opened = EmbeddedStore(Path(tmp_path_factory.mktemp("retention")) / "store")
    opened.migrate()
    apply_retention(opened, POLICY)
    yield opened
    opened.close()


def test_each_category_has_its_ttl(store: EmbeddedStore) -> None:
    engine = store.query(
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
        "AND name = 'trail'"
    )[0][0]
    clauses = engine.split(" TTL ", 1)[1].split(" SETTINGS ")[0].split("toIntervalMonth(")[1:]
    assert [int(c.split(")")[0]) for c in clauses] == [12, 60, 24], engine
    assert "IN ('note_saved', 'file_transferred', 'chat_message_sent')" in clauses[0]
    assert "IN ('booking_initiated', " in clauses[1] and "'refund_issued')" in clauses[1]
    assert "NOT IN ('note_saved', " in clauses[2]
    assert not apply_retention(store, POLICY), "re-applying the same policy changes nothing"


def test_a_type_in_another_category_is_drift_though_the_months_agree(
    store: EmbeddedStore,
) -> None:
    # A store whose TTL was set when session_rated was kept as chat metadata: the same
    # months, another rule. Comparing months alone missed it, and verify judged expiry
    # by the catalogue's rule while the store deleted by the old one.
    own = EmbeddedStore(store.path, database="retention_drift")  # chDB: one path a process
    own.migrate()
    apply_retention(own, POLICY)
    at = "toDateTime(occurred_at)"
    chat = "'chat_message_sent', 'note_saved', 'file_transferred', 'session_rated'"
    own.execute(
        f"ALTER TABLE trail MODIFY TTL {at} + INTERVAL 12 MONTH WHERE event_type IN ({chat}), "
        f"{at} + INTERVAL 60 MONTH WHERE family = 'transaction_event', "
        f"{at} + INTERVAL 24 MONTH WHERE family != 'transaction_event' "
        f"AND event_type NOT IN ({chat})"
    )
    drift = retention_drift(own, POLICY)
    assert [d.table for d in drift] == ["trail"]
    assert "other retention categories than the catalogue" in str(drift[0])
    assert apply_retention(own, POLICY)
    assert retention_drift(own, POLICY) == []


def test_backdated_events_past_retention_are_gone_after_the_ttl_runs(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = {"13 months": now - timedelta(days=400), "3 years": now - timedelta(days=3 * 366),
            "6 years": now - timedelta(days=6 * 366), "today": now - timedelta(days=1)}  # fmt: skip
    sent: dict[str, Counter[str]] = {}
    with AuditProducer(kafka_bootstrap, family_topics(topics)) as producer:
        for label, day in days.items():
            counts: Counter[str] = Counter()
            for event in simulate(25, 5, day):
                producer.send(event)
                counts[POLICY.category_of(event.family, event.event_type)] += 1
            sent[label] = counts
    service(kafka_bootstrap, topics, store).run(until_idle=True)
    store.execute("OPTIMIZE TABLE trail FINAL")
    kept: dict[str, Counter[str]] = {label: Counter() for label in days}
    rows = store.query(
        "SELECT family, event_type, occurred_at FROM trail WHERE family != 'dead_letter' "
        "AND kafka_topic IN ({a:String}, {b:String})",
        {"a": topics.session, "b": topics.transaction},
    )
    for family, event_type, occurred_at in rows:
        label = min(days, key=lambda k: abs((days[k] - occurred_at).total_seconds()))
        kept[label][POLICY.category_of(family, event_type)] += 1
    assert kept["today"] == sent["today"]
    assert kept["13 months"] == Counter(
        billing=sent["13 months"]["billing"], other=sent["13 months"]["other"]
    )
    assert kept["3 years"] == Counter(billing=sent["3 years"]["billing"])
    assert kept["6 years"] == Counter()

    # The chain's links outlive the expired rows: verify accepts retention's holes...
    chosen = [topics.session, topics.transaction]
    assert verify(store, chosen, policy=POLICY).ok
    assert not verify(store, chosen).ok, "without the policy the holes are unexplained"
    # ...but not a row deleted before its retention ended.
    victim = store.query(
        "SELECT toString(event_id), kafka_topic, kafka_partition, kafka_offset FROM trail "
        "WHERE kafka_topic = {t:String} AND occurred_at > now() - INTERVAL 2 DAY "
        "AND family != 'dead_letter' ORDER BY kafka_offset DESC LIMIT 1 OFFSET 3",
        {"t": topics.session},
    )[0]
    store.execute(
        f"ALTER TABLE trail DELETE WHERE event_id = '{victim[0]}' SETTINGS mutations_sync = 2"
    )
    report = verify(store, chosen, policy=POLICY)
    assert not report.ok and report.first is not None
    assert (report.first.topic, report.first.partition) == (victim[1], victim[2])
    assert "before its retention ended" in report.first.detail
