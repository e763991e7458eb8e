"""JSONL lines and event_id: required, or derived deterministically from the content."""

from __future__ import annotations

import json
from datetime import timedelta, timezone

import pytest

from producers.events import InvalidEvent
from producers.jsonl import parse_line
from tests.support.samples import one_of_each


def _fields(event_type: str = "payment_attempted") -> dict[str, object]:
    fields: dict[str, object] = json.loads(one_of_each()[event_type].model_dump_json())
    del fields["event_id"]
    return fields


def test_a_line_without_event_id_is_refused_by_default() -> None:
    with pytest.raises(InvalidEvent, match=r"no event_id.*--derive-event-id"):
        parse_line(json.dumps(_fields()))


def test_a_line_without_event_id_also_names_its_other_problems() -> None:
    with pytest.raises(InvalidEvent, match=r"no event_id.*currency") as refused:
        parse_line(json.dumps({**_fields(), "currency": "XXY"}))
    assert refused.value.errors[0].startswith("no event_id")


def test_a_line_with_event_id_keeps_it_even_when_deriving() -> None:
    event = one_of_each()["participant_joined"]
    line = event.model_dump_json()
    assert parse_line(line).event_id == event.event_id
    assert parse_line(line, derive_event_id=True).event_id == event.event_id


def test_derived_ids_follow_the_content_not_its_spelling() -> None:
    fields = _fields()
    first = parse_line(json.dumps(fields), derive_event_id=True)
    # Same event: other key order, other spacing, the same instant in another time zone.
    shifted = first.occurred_at.astimezone(timezone(timedelta(hours=5)))
    respelled = dict(reversed(list({**fields, "occurred_at": shifted.isoformat()}.items())))
    again = parse_line(json.dumps(respelled, indent=2).replace("\n", " "), derive_event_id=True)
    assert again.event_id == first.event_id and again.event_id.version == 5
    other = parse_line(
        json.dumps({**fields, "amount_minor": int(fields["amount_minor"]) + 1}),  # type: ignore[call-overload]
        derive_event_id=True,
    )
    assert other.event_id != first.event_id


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("[1, 2]", "one JSON object"),
        ('"text"', "one JSON object"),
        ("{not json", "invalid"),
        ('{"event_id": null, "event_type": "payment_attempted"}', "event_id"),
    ],
)
def test_bad_lines_name_what_is_wrong(line: str, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        parse_line(line, derive_event_id=True)


def test_every_event_type_derives_its_id_from_its_content() -> None:
    from producers.jsonl import derived_event_id

    for event_type, event in one_of_each().items():
        fields = json.loads(event.model_dump_json())
        del fields["event_id"]
        parsed = parse_line(json.dumps(fields), derive_event_id=True)
        assert parsed.event_id == derived_event_id(event), event_type
        assert parsed.model_copy(update={"event_id": event.event_id}) == event, event_type
