"""A rollout on the real broker and engine: services still on v1 keep sending session
events as v1 while upgraded ones send v2; one consumer stores both into one trail, the
readers show v2's new field, and the chain verifies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit_trail.cli.reader_cmd import _SHOWN
from audit_trail.stack import TopicLayout, ensure_topics
from ledger import EmbeddedStore, verify
from ledger.access import Viewer
from ledger.privacy import RowOpener, StoreKeyStore
from ledger.reader import TrailReader
from producers import AuditProducer
from producers.events import Event
from producers.simulation import schema_version_of, simulate
from schemas import SESSION_FAMILY
from tests.support.ingest import family_topics, service

pytestmark = pytest.mark.integration
DAY = datetime(2026, 11, 3, tzinfo=UTC)


@dataclass
class Rollout:
    store: EmbeddedStore
    reader: TrailReader
    events: list[Event]
    topics: TopicLayout


@pytest.fixture(scope="module")
def rollout(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rollout]:
    suffix = uuid.uuid4().hex[:8]
    topics = TopicLayout(f"e.session-{suffix}", f"e.transaction-{suffix}", f"e.dlq-{suffix}")
    ensure_topics(kafka_bootstrap, topics)
    store = EmbeddedStore(Path(tmp_path_factory.mktemp("evolution")) / "store")
    store.migrate()
    keys = StoreKeyStore(store, b"e" * 32)
    events = list(simulate(40, 616, DAY))
    routes = family_topics(topics)
    # Two producers at once, as during a rollout: v1 services pinned to v1, the rest newest.
    with (
        AuditProducer(kafka_bootstrap, routes, schema_versions={SESSION_FAMILY: 1}) as old,
        AuditProducer(kafka_bootstrap, routes) as new,
    ):
        for event in events:
            (old if schema_version_of(event) == 1 else new).send(event)
    service(kafka_bootstrap, topics, store, keys=keys).run(until_idle=True)
    yield Rollout(store, TrailReader(store, RowOpener(keys)), events, topics)
    store.close()


def test_both_versions_land_in_one_trail_and_nothing_is_refused(rollout: Rollout) -> None:
    counts = dict(
        rollout.store.query(
            "SELECT concat(family, ' v', toString(schema_version)), count() FROM trail "
            "GROUP BY family, schema_version"
        )
    )
    assert counts.get("session_event v1", 0) > 20 and counts.get("session_event v2", 0) > 20
    assert "dead_letter v0" not in counts, counts
    assert sum(counts.values()) == len(rollout.events)


def test_v2_fields_are_stored_for_v2_events_and_empty_for_v1(rollout: Rollout) -> None:
    rows = rollout.store.query_dicts(
        "SELECT event_id, event_type, schema_version, waiting_room_ms, screen_share_id "
        "FROM trail WHERE event_type IN ('participant_joined', 'screen_share_started')"
    )
    sent = {str(e.event_id): e for e in rollout.events}
    shares = [r for r in rows if r["event_type"] == "screen_share_started"]
    assert shares and all(r["schema_version"] == 2 and r["screen_share_id"] for r in shares)
    for row in (r for r in rows if r["event_type"] == "participant_joined"):
        event = sent[str(row["event_id"])]
        assert row["waiting_room_ms"] == event.waiting_room_ms  # type: ignore[attr-defined]
        assert (row["waiting_room_ms"] is None) == (row["schema_version"] == 1)


def test_readers_show_the_new_field_and_the_chain_verifies(rollout: Rollout) -> None:
    joined = next(
        e
        for e in rollout.events
        if e.event_type == "participant_joined" and e.waiting_room_ms is not None  # type: ignore[attr-defined]
    )
    rows = rollout.reader.session_trail(str(joined.session_id), Viewer("auditor"))
    shown = [{k: r[k] for k in _SHOWN if k in r} for r in rows]
    assert joined.waiting_room_ms in [r.get("waiting_room_ms") for r in shown]  # type: ignore[attr-defined]
    report = verify(rollout.store, [rollout.topics.session, rollout.topics.transaction])
    assert report.ok, report
