"""Erasure notices on the wire, the index they build, the sealer that honours it, and the
topic configs the erasure promise needs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from audit_trail import topic_configs
from audit_trail.topic_layout import TopicLayout, TopicsError
from ledger.columns import INDEX, ROW_COLUMNS
from ledger.privacy import (
    ERASED,
    BadErasureNotice,
    ErasureIndex,
    ErasureNotice,
    RowSealer,
    SubjectKey,
    is_sealed,
)
from ledger.privacy.keys import Purpose
from ledger.trail_row import TrailRow

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)


def test_a_notice_round_trips_and_its_key_names_purpose_and_subject() -> None:
    notice = ErasureNotice("client-00043", "personal", AT)
    assert notice.key() == b"personal:client-00043"
    assert ErasureNotice.parse(notice.key(), notice.value()) == notice
    body = json.loads(notice.value())
    assert set(body) == {"v", "subject_id", "purpose", "erased_at"}  # nothing else about them


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        (None, b"\xff\xfe", "UTF-8 JSON"),
        (None, b"[1, 2]", "version-1"),
        (None, b'{"v": 2, "subject_id": "a", "purpose": "personal", "erased_at": "x"}', "version"),
        (None, b'{"v": 1, "subject_id": 7, "purpose": "personal", "erased_at": "x"}', "strings"),
        (None, b'{"v": 1, "subject_id": "a", "purpose": "all", "erased_at": "2026-11-20T12:00:00+00:00"}', "purpose"),  # noqa: E501
        (None, b'{"v": 1, "subject_id": "a", "purpose": "personal", "erased_at": "soon"}', "ISO 8601"),  # noqa: E501
        (None, b'{"v": 1, "subject_id": "a", "purpose": "personal", "erased_at": "2026-11-20T12:00:00"}', "timezone"),  # noqa: E501
        (None, b'{"v": 1, "subject_id": "a", "purpose": "personal"}', "missing"),
        (None, b'{"v": 1, "subject_id": "x\' OR 1=1 --", "purpose": "personal", "erased_at": "2026-11-20T12:00:00+00:00"}', "subject id"),  # noqa: E501
        (None, json.dumps({"v": 1, "subject_id": "a" * 65, "purpose": "personal", "erased_at": AT.isoformat()}).encode(), "subject id"),  # noqa: E501
        (b"personal:someone-else", ErasureNotice("a", "personal", AT).value(), "does not match"),
    ],
)  # fmt: skip
def test_a_record_that_is_not_a_notice_is_refused_naming_what_is_wrong(
    key: bytes | None, value: bytes, named: str
) -> None:
    with pytest.raises(BadErasureNotice, match=named):
        ErasureNotice.parse(key, value)


def test_an_erasure_covers_what_happened_up_to_it_and_only_its_purpose() -> None:
    index = ErasureIndex()
    assert index.add(ErasureNotice("client-1", "personal", AT))
    assert index.erased("client-1", "personal", AT)
    assert index.erased("client-1", "personal", AT - timedelta(days=300))
    assert not index.erased("client-1", "personal", AT + timedelta(microseconds=1))
    assert not index.erased("client-1", "billing", AT - timedelta(days=1))
    assert not index.erased("client-2", "personal", AT - timedelta(days=1))
    # A replayed older notice never shrinks what is erased; a later one extends it.
    assert not index.add(ErasureNotice("client-1", "personal", AT - timedelta(days=1)))
    assert index.erased("client-1", "personal", AT)
    assert index.add(ErasureNotice("client-1", "personal", AT + timedelta(days=1)))
    assert index.erased("client-1", "personal", AT + timedelta(hours=1))


class CountingKeys:
    """A key store that counts the keys it is asked for (unit level: no store)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def key_for(self, subject_id: str, purpose: Purpose) -> SubjectKey:
        self.asked.append((subject_id, purpose))
        return SubjectKey(f"k{len(self.asked)}", b"k" * 32)

    def flush(self) -> None: ...

    def key_by_id(self, key_id: str) -> bytes | None:
        return None

    def keys_by_id(self, key_ids: Any) -> dict[str, bytes | None]:
        return {}

    def destroy(self, subject_id: str, purposes: Any) -> int:
        return 0


def _row(actor: str, payer: str, occurred_at: datetime) -> TrailRow:
    values: list[Any] = [None] * len(ROW_COLUMNS)
    values[INDEX["event_id"]] = "5d3c4a8e-0f6b-4d84-9a57-1c2b3d4e5f60"
    values[INDEX["occurred_at"]] = occurred_at
    values[INDEX["actor_id"]] = actor
    values[INDEX["payer_id"]] = payer
    values[INDEX["network_ip"]] = "203.0.113.43"
    values[INDEX["network_city"]] = "Lyon"
    values[INDEX["payer_name"]] = "Ada Example"
    values[INDEX["payer_email"]] = "ada@example.com"
    return TrailRow._make(values)


def test_the_sealer_stores_an_erased_subjects_values_as_erased_and_makes_no_key() -> None:
    index = ErasureIndex()
    index.add(ErasureNotice("client-43", "personal", AT))
    keys = CountingKeys()
    sealer = RowSealer(keys, erasures=index)
    before = sealer.seal(_row("client-43", "client-43", AT - timedelta(days=1)))
    assert before[INDEX["network_ip"]] == before[INDEX["network_city"]] == ERASED
    assert is_sealed(before[INDEX["payer_name"]]), "billing is kept by a personal erasure"
    assert keys.asked == [("client-43", "billing")], "no personal key for an erased subject"
    after = sealer.seal(_row("client-43", "client-43", AT + timedelta(days=1)))
    assert is_sealed(after[INDEX["network_ip"]]), "new data after the erasure is sealed"
    other = sealer.seal(_row("client-44", "client-44", AT - timedelta(days=1)))
    assert is_sealed(other[INDEX["network_ip"]])


def test_a_billing_notice_erases_payer_fields_too() -> None:
    index = ErasureIndex()
    for notice in ErasureNotice.for_purposes("client-43", ["personal", "billing"], AT):
        index.add(notice)
    keys = CountingKeys()
    row = RowSealer(keys, erasures=index).seal(_row("client-43", "client-43", AT))
    assert row[INDEX["payer_name"]] == row[INDEX["payer_email"]] == ERASED
    assert keys.asked == []


WEEK = topic_configs.expiring(7)


@pytest.mark.parametrize(
    ("found", "named"),
    [
        ({"cleanup.policy": "delete", "retention.ms": "-1", "segment.ms": "3600000"}, "for ever"),
        ({"cleanup.policy": "delete", "retention.ms": str(30 * 86_400_000), "segment.ms": "3600000"}, "30 days"),  # noqa: E501
        ({"cleanup.policy": "compact", "retention.ms": WEEK["retention.ms"], "segment.ms": "3600000"}, "compaction"),  # noqa: E501
        ({"cleanup.policy": "delete", "retention.ms": WEEK["retention.ms"], "segment.ms": "604800000"}, "segment.ms"),  # noqa: E501
    ],
)  # fmt: skip
def test_an_event_topic_keeping_data_longer_than_promised_is_reported(
    found: dict[str, str], named: str
) -> None:
    problems = topic_configs.check("audit.session-events", WEEK, found)
    assert len(problems) == 1 and named in problems[0] and "audit.session-events" in problems[0]


def test_shorter_retention_and_the_created_configs_pass_the_check() -> None:
    assert topic_configs.check("t", WEEK, WEEK) == []
    assert topic_configs.check("t", WEEK, {**WEEK, "retention.ms": "86400000"}) == []
    compacted = topic_configs.never_expiring_compacted()
    assert topic_configs.check("e", compacted, compacted) == []


@pytest.mark.parametrize("policy", ["delete", "compact,delete"])
def test_an_erasures_topic_that_expires_is_reported(policy: str) -> None:
    found = {"cleanup.policy": policy, "retention.ms": "604800000"}
    compacted = topic_configs.never_expiring_compacted()
    problems = topic_configs.check("audit.erasures", compacted, found)
    assert len(problems) == 1 and "compact" in problems[0]


@pytest.mark.parametrize("days", [0, -1, 3651, True, 1.5])
def test_a_retention_outside_whole_days_is_refused(days: Any) -> None:
    with pytest.raises(ValueError, match="whole days"):
        TopicLayout("a", "b", "c").configs(days)


def test_every_topic_but_the_erasures_expires() -> None:
    configs = TopicLayout("s", "t", "d", "e").configs(3)
    assert {n for n, c in configs.items() if c["retention.ms"] == str(3 * 86_400_000)} == {
        "s",
        "t",
        "d",
    }
    assert configs["e"]["cleanup.policy"] == "compact"


def test_one_topic_in_two_roles_is_refused() -> None:
    with pytest.raises(TopicsError, match="its own name"):
        TopicLayout("audit.session-events", "t", "d", "audit.session-events")
