"""Readers on the real broker and engine: who sees what, subject export, erasure, SQL.

One simulated day is produced, consumed with personal fields encrypted, and read back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from audit_trail.stack import TopicLayout
from ledger import EmbeddedStore, verify
from ledger.access import NETWORK_FIELDS, NotPermitted, Viewer
from ledger.erasure import erase_subject
from ledger.privacy import ERASED, RowOpener, StoreKeyStore
from ledger.reader import TOOK_PART_SQL, TrailReader
from ledger.sql_guard import WriteRefused, run_readonly
from producers.events import Event
from schemas import InvalidInput
from tests.support.ingest import fill, service

pytestmark = pytest.mark.integration
ID_FIELDS = (
    "client_id", "specialist_id", "participant_id", "payer_id", "author_id", "sender_id",
    "recipient_id", "rater_id",
)  # fmt: skip


@dataclass
class Day:
    store: EmbeddedStore
    keys: StoreKeyStore
    reader: TrailReader
    events: list[Event]
    topics: TopicLayout


@pytest.fixture(scope="module")
def day(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    from audit_trail.stack import ensure_topics

    suffix = uuid.uuid4().hex[:8]
    topics = TopicLayout(f"r.session-{suffix}", f"r.transaction-{suffix}", f"r.dlq-{suffix}")
    ensure_topics(kafka_bootstrap, topics)
    store = EmbeddedStore(Path(tmp_path_factory.mktemp("readers")) / "store")
    store.migrate()
    keys = StoreKeyStore(store, b"k" * 32)
    events = fill(kafka_bootstrap, topics, sessions=120, seed=404)
    service(kafka_bootstrap, topics, store, keys=keys).run(until_idle=True)
    yield Day(store, keys, TrailReader(store, RowOpener(keys)), events, topics)
    store.close()


def _involves(event: Event, subject: str) -> bool:
    return event.actor.id == subject or any(getattr(event, f, None) == subject for f in ID_FIELDS)


def _session_with_both(day: Day) -> tuple[uuid.UUID, str, str]:
    for event in day.events:
        if event.event_type == "session_completed":
            return event.session_id, event.client_id, event.specialist_id  # type: ignore[attr-defined]
    raise AssertionError("no completed session")


def test_parties_see_their_session_with_devices_but_never_the_others_network(day: Day) -> None:
    sid, client, specialist = _session_with_both(day)
    for me, other, role in ((client, specialist, "client"), (specialist, client, "specialist")):
        rows = day.reader.session_trail(str(sid), Viewer(role, me))  # type: ignore[arg-type]
        sent = [e for e in day.events if e.session_id == sid]
        assert [r["event_id"] for r in rows] == [
            e.event_id for e in sorted(sent, key=lambda e: (e.occurred_at, e.event_id))
        ]
        others = [r for r in rows if r["actor_id"] == other]
        assert others and all("device_os" in r for r in others), "the other party's device"
        assert all(not set(NETWORK_FIELDS) & set(r) for r in others), "never their network"
        mine = [r for r in rows if r["actor_id"] == me and "network_ip" in r]
        assert mine and all(re.match(r"^[0-9.]+$", r["network_ip"]) for r in mine)


def test_auditor_sees_everything_decrypted(day: Day) -> None:
    sid, _, _ = _session_with_both(day)
    rows = day.reader.session_trail(str(sid), Viewer("auditor"))
    ips = {r["network_ip"] for r in rows if "network_ip" in r}
    sent_ips = {e.network.ip for e in day.events if e.session_id == sid and e.network}
    assert ips == sent_ips
    payer_names = {r["payer_name"] for r in rows if "payer_name" in r}
    assert payer_names and all(not n.startswith("enc:") for n in payer_names)


def test_a_third_party_gets_the_same_refusal_for_real_and_unknown_sessions(day: Day) -> None:
    sid, _, _ = _session_with_both(day)
    stranger = Viewer("client", "client-99999")
    messages = []
    for session in (str(sid), str(uuid.uuid4())):
        with pytest.raises(NotPermitted) as caught:
            day.reader.session_trail(session, stranger)
        messages.append(str(caught.value).replace(session, "<id>"))
    assert messages[0] == messages[1]
    _, client, _ = _session_with_both(day)
    with pytest.raises(NotPermitted):
        day.reader.session_trail(str(sid), Viewer("specialist", client))  # right id, wrong role


class CountingStore:
    """The store, counting the queries a reader sends."""

    def __init__(self, store: EmbeddedStore) -> None:
        self.store, self.sent = store, 0

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        self.sent += 1
        return self.store.query(sql, params)

    def query_dicts(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        self.sent += 1
        return self.store.query_dicts(sql, params)


def test_a_party_read_is_one_query_and_lets_in_whom_the_took_part_sql_does(day: Day) -> None:
    counting = CountingStore(day.store)
    reader = TrailReader(counting, RowOpener(day.keys))  # type: ignore[arg-type]
    sessions = day.store.query(
        "SELECT DISTINCT session_id FROM trail WHERE family != 'dead_letter' "
        "ORDER BY session_id LIMIT 20"
    )
    allowed = refused = 0
    for (sid,) in sessions:
        people = day.store.query(
            "SELECT DISTINCT arrayJoin(subjects) FROM trail WHERE session_id = {s:UUID}",
            {"s": sid},
        )
        for (person,) in people:
            for role in ("client", "specialist"):
                ((took_part,),) = day.store.query(
                    TOOK_PART_SQL, {"sid": sid, "me": person, "role": role}
                )
                counting.sent = 0
                try:
                    rows = reader.session_trail(sid, Viewer(role, person))
                except NotPermitted:
                    assert not took_part, f"{role}:{person} took part in {sid}"
                    refused += 1
                else:
                    assert took_part and rows, f"{role}:{person} did not take part in {sid}"
                    allowed += 1
                assert counting.sent == 1, "the check runs on the rows of the one query"
    assert allowed and refused


@pytest.mark.parametrize(
    "crafted",
    ["x' OR '1'='1", "'; DROP TABLE trail; --", "a" * 500, "client-1\n", "", "ü" * 3],
)
def test_crafted_ids_get_clear_validation_errors(day: Day, crafted: str) -> None:
    with pytest.raises(InvalidInput, match="invalid session id"):
        day.reader.session_trail(crafted, Viewer("auditor"))
    with pytest.raises(InvalidInput, match=r"invalid|needs"):
        Viewer.parse(f"client:{crafted}")
    with pytest.raises(InvalidInput, match="invalid subject id"):
        list(day.reader.subject_rows(crafted))
    with pytest.raises(InvalidInput, match="invalid booking id"):
        day.reader.payment_trail(Viewer("auditor"), booking_id=crafted)
    assert day.store.query("SELECT count() FROM trail")[0][0] > 0  # still there


def test_payment_trail_of_a_booking(day: Day) -> None:
    failed = next(e for e in day.events if e.event_type == "payment_failed")
    booking = failed.booking_id  # type: ignore[attr-defined]
    payer = failed.payer_id  # type: ignore[attr-defined]
    rows = day.reader.payment_trail(Viewer("client", payer), booking_id=str(booking))
    sent = [
        e
        for e in day.events
        if getattr(e, "booking_id", None) == booking
        and e.event_type.startswith(("payment", "refund"))
    ]
    assert sorted(r["event_id"] for r in rows) == sorted(e.event_id for e in sent)
    assert any(r.get("failure_code") for r in rows)


def test_subject_export_is_complete_and_only_about_them(day: Day) -> None:
    subject = next(e.client_id for e in day.events if e.event_type == "session_completed")  # type: ignore[attr-defined]
    rows = list(day.reader.subject_rows(subject))
    expected = {e.event_id for e in day.events if _involves(e, subject)}
    assert {r["event_id"] for r in rows} == expected
    for row in rows:
        if row["actor_id"] != subject:
            assert not set(NETWORK_FIELDS) & set(row)
        if row.get("payer_id") not in (None, subject):
            assert "payer_name" not in row
    mine = [r for r in rows if r["actor_id"] == subject and "network_ip" in r]
    assert mine and not any(str(r["network_ip"]).startswith("enc:") for r in mine)


def test_erase_shreds_personal_fields_keeps_billing_and_verify_passes(day: Day) -> None:
    subject = next(
        e.payer_id
        for e in day.events
        if e.event_type == "payment_succeeded"  # type: ignore[attr-defined]
    )
    sent_ips = {e.network.ip for e in day.events if e.actor.id == subject and e.network}
    payer_name = next(e.payer_name for e in day.events if getattr(e, "payer_id", None) == subject)  # type: ignore[attr-defined]
    report = erase_subject(day.store, day.keys, subject, publisher=None)
    assert report.keys_destroyed >= 1 and "billing" in str(report)
    fresh = TrailReader(day.store, RowOpener(StoreKeyStore(day.store, b"k" * 32)))
    for reader in (day.reader, fresh):
        exported = list(reader.subject_rows(subject))
        assert exported, "the trail stays"
        shown = {str(v) for row in exported for v in row.values()}
        assert not sent_ips & shown, "an erased IP is still readable"
        assert any(row.get("network_ip") == ERASED for row in exported)
        billing = [r for r in exported if r.get("payer_id") == subject and "payer_name" in r]
        assert billing and all(r["payer_name"] == payer_name for r in billing)
        sid = next(r["session_id"] for r in exported if r["actor_id"] == subject)
        audited = reader.session_trail(str(sid), Viewer("auditor"))
        assert not sent_ips & {str(v) for r in audited for v in r.values()}
    dumped = [
        row
        for view in ("v_session_timeline", "v_payment_attempts", "v_participation")
        for row in run_readonly(day.store, f"SELECT * FROM {view}").records()
    ]
    assert not sent_ips & {str(v) for r in dumped for v in r.values()}
    assert not {payer_name} & {str(v) for r in dumped for v in r.values()}, "sql never decrypts"
    assert verify(day.store, [day.topics.session, day.topics.transaction]).ok


def test_sql_is_read_only(day: Day) -> None:
    rows = run_readonly(
        day.store,
        "SELECT toDate(attempted_at) AS day, countIf(outcome = 'failed') / count() AS failed "
        "FROM v_payment_attempts GROUP BY day ORDER BY day",
    ).records()
    assert rows and 0 <= rows[0]["failed"] <= 1
    for statement in (
        "DROP TABLE trail",
        "ALTER TABLE trail DELETE WHERE 1",
        "INSERT INTO trail SELECT * FROM trail",
        "SELECT 1; DROP TABLE trail",
        "TRUNCATE TABLE trail",
    ):
        with pytest.raises(WriteRefused):
            run_readonly(day.store, statement)
    with pytest.raises(InvalidInput):
        run_readonly(day.store, "SELECT * FROM file('/etc/hostname', 'LineAsString')")
    assert day.store.query("SELECT count() FROM trail")[0][0] > 0
