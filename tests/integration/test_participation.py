"""Who took part (ledger.participation) on the real broker and engine: events that name a
person without proving they took part never open the session or its payments to them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from audit_trail.stack import TopicLayout, ensure_topics
from ledger import EmbeddedStore
from ledger.access import NotPermitted, Viewer
from ledger.privacy import RowOpener, StoreKeyStore
from ledger.reader import TOOK_PART_SQL, TrailReader
from producers import AuditProducer
from producers.events import (
    ChatMessageSent,
    Event,
    ParticipantJoined,
    ParticipantLeft,
    SessionAccessAttempted,
    SessionRated,
)
from schemas.events.envelope import Actor, Device, Source
from tests.support.ingest import family_topics, fill, service

pytestmark = pytest.mark.integration
SERVICE = Source(service="session-service", version="1")


@dataclass
class Probe:
    store: EmbeddedStore
    reader: TrailReader
    session: uuid.UUID
    booking: uuid.UUID
    client: str
    specialist: str


def _crafted(sid: uuid.UUID, at: Any) -> list[Event]:
    """Events naming strangers; only the last two prove taking part."""

    def env(who: str, role: str) -> dict[str, Any]:
        return {
            "occurred_at": at, "session_id": sid, "actor": Actor(id=who, role=role),  # type: ignore[arg-type]
            "device": Device(kind="mobile", os="ProbeOS"),
        }  # fmt: skip

    return [
        SessionAccessAttempted(**env("client-00999", "client"), source=SERVICE,
            participant_id="client-00999", participant_role="client", granted=False,
            denial_reason="not a participant"),
        SessionAccessAttempted(**env("specialist-00999", "specialist"), source=SERVICE,
            participant_id="specialist-00999", participant_role="specialist", granted=False),
        SessionRated(**env("client-00998", "client"), source=SERVICE, rater_id="client-00998",
            specialist_id="specialist-00998", service_stars=1),
        ParticipantLeft(**env("client-00997", "client"), source=SERVICE,
            participant_id="client-00997", participant_role="client"),
        ChatMessageSent(**env("client-00996", "client"), source=SERVICE, message_id=uuid.uuid4(),
            sender_id="client-00996", recipient_id="specialist-00996", size_bytes=3,
            has_attachments=False, attachment_count=0),
        SessionAccessAttempted(**env("client-00995", "client"), source=SERVICE,
            participant_id="client-00995", participant_role="client", granted=True),
        ParticipantJoined(**env("specialist-00994", "specialist"), source=SERVICE,
            participant_id="specialist-00994", participant_role="specialist"),
    ]  # fmt: skip


STRANGERS = [
    Viewer("client", "client-00999"),
    Viewer("specialist", "specialist-00999"),
    Viewer("client", "client-00998"),
    Viewer("specialist", "specialist-00998"),
    Viewer("client", "client-00997"),
    Viewer("client", "client-00996"),
    Viewer("specialist", "specialist-00996"),
    Viewer("specialist", "client-00995"),  # granted, but as a client
]
ADMITTED = [Viewer("client", "client-00995"), Viewer("specialist", "specialist-00994")]


@pytest.fixture(scope="module")
def probe(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probe]:
    suffix = uuid.uuid4().hex[:8]
    topics = TopicLayout(f"p.session-{suffix}", f"p.transaction-{suffix}", f"p.dlq-{suffix}")
    ensure_topics(kafka_bootstrap, topics)
    events = fill(kafka_bootstrap, topics, sessions=6, seed=77)
    done = next(e for e in events if e.event_type == "session_completed")
    booking = next(
        e.booking_id  # type: ignore[attr-defined]
        for e in events
        if e.session_id == done.session_id and e.event_type == "booking_initiated"
    )
    with AuditProducer(kafka_bootstrap, family_topics(topics)) as producer:
        for event in _crafted(done.session_id, done.occurred_at + timedelta(seconds=1)):
            producer.send(event)
    store = EmbeddedStore(Path(tmp_path_factory.mktemp("participation")) / "store")
    store.migrate()
    keys = StoreKeyStore(store, b"p" * 32)
    service(kafka_bootstrap, topics, store, keys=keys).run(until_idle=True)
    yield Probe(
        store,
        TrailReader(store, RowOpener(keys)),
        done.session_id,
        booking,
        done.client_id,  # type: ignore[attr-defined]
        done.specialist_id,  # type: ignore[attr-defined]
    )
    store.close()


@pytest.mark.parametrize("viewer", STRANGERS, ids=str)
def test_naming_a_person_is_not_taking_part(probe: Probe, viewer: Viewer) -> None:
    with pytest.raises(NotPermitted, match="not permitted"):
        probe.reader.session_trail(probe.session, viewer)
    with pytest.raises(NotPermitted, match="not permitted"):
        probe.reader.payment_trail(viewer, booking_id=probe.booking)
    ((count,),) = probe.store.query(
        TOOK_PART_SQL, {"sid": probe.session, "me": viewer.id, "role": viewer.role}
    )
    assert count == 0


@pytest.mark.parametrize("viewer", ADMITTED, ids=str)
def test_granted_access_and_joins_prove_taking_part(probe: Probe, viewer: Viewer) -> None:
    assert probe.reader.session_trail(probe.session, viewer)
    assert probe.reader.payment_trail(viewer, booking_id=probe.booking)


def test_sql_and_python_rules_agree_on_every_person_and_role(probe: Probe) -> None:
    rows = probe.store.query_dicts("SELECT *, subjects FROM trail WHERE family != 'dead_letter'")
    people = {(s, p) for r in rows for s in [r["session_id"]] for p in r["subjects"]}
    checked = 0
    for sid, person in sorted(people):
        session_rows = [r for r in rows if r["session_id"] == sid]
        for role in ("client", "specialist"):
            ((count,),) = probe.store.query(TOOK_PART_SQL, {"sid": sid, "me": person, "role": role})
            python = any(Viewer(role, person).took_part_in(r) for r in session_rows)  # type: ignore[arg-type]
            assert bool(count) == python, f"{role}:{person} in {sid}"
            checked += 1
    assert checked > 50


def test_parties_see_the_devices_of_parties_only(probe: Probe) -> None:
    """A denied stranger's device is theirs: the parties see that someone tried, not
    with what; the admitted ones' devices are the parties' to see."""
    admitted = {v.id for v in ADMITTED}
    for viewer in (Viewer("client", probe.client), Viewer("specialist", probe.specialist)):
        rows = probe.reader.session_trail(probe.session, viewer)
        by_actor: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_actor.setdefault(row["actor_id"], []).append(row)
        strangers = {v.id for v in STRANGERS} - admitted
        assert strangers & set(by_actor), "the strangers' events are in the trail"
        for actor, mine in by_actor.items():
            shown = any("device_os" in r for r in mine)
            if actor in strangers:
                assert not shown, f"{viewer} sees the device of {actor}"
            elif actor in admitted or actor in (probe.client, probe.specialist):
                assert shown, f"{viewer} misses the device of party {actor}"
        paid = probe.reader.payment_trail(viewer, booking_id=probe.booking)
        assert any("device_os" in r for r in paid if r["actor_id"] == probe.client)
    audited = probe.reader.session_trail(probe.session, Viewer("auditor"))
    assert any(r.get("device_os") == "ProbeOS" for r in audited), "auditors see every device"
