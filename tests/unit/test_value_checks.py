"""The consumer's value check (schemas.events.checks) accepts exactly what the models
accept: a property test over generated valid and invalid records, the tricky spellings
a careless producer or an attacker would send pinned as examples."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from consumers.decoding import to_item
from schemas import AvroCodec
from schemas.events.checks import check_avro_values
from schemas.events.parsing import InvalidEvent, event_from_avro
from tests.support.samples import one_of_each

CODEC = AvroCodec(uuids_as_text=True)  # as the consumer decodes


def _records() -> list[dict[str, Any]]:
    found = []
    for seed in (3, 11, 29):  # several, so optional fields come both set and null
        for event in one_of_each(seed).values():
            found.append(CODEC.decode(CODEC.encode(event.family, event.to_avro())).record)
    return found


RECORDS = _records()
NESTED = ("actor", "source", "device", "network")

# Values near every rule's edge, and spellings the two regex engines could read apart.
TRICKY_TEXT = [
    "",
    " ",
    "a",
    "A" * 64,
    "A" * 65,
    "x" * 200,
    "x" * 201,
    "client-7",
    "client-7\n",
    "client 7",
    "-client",
    "o'brien",
    "EUR",
    "eur",
    "XXX",
    "EURO",
    "RON",
    "192.0.2.10",
    "192.0.2.256",
    "01.2.3.4",
    "::1",
    "::ffff:192.0.2.1",
    "fe80::1%eth0",
    "ana@example.com",
    "ana@example.com\n",
    "a\x1cna@example.com",
    "a\x85na@example.com",
    "a\u2003b@example.com",
    "ana@example",
    "image/png",
    "Image/png",
    "0" * 64,
    "0" * 63,
    "F" * 64,
    "RO",
    "ro",
    "00000000-0000-4000-8000-000000000001",
    "00000000-0000-4000-8000-00000000000G",
    "00000000-0000-4000-8000-00000000000A",
    "{00000000-0000-4000-8000-000000000001}",
    "urn:uuid:00000000-0000-4000-8000-000000000001",
    "00000000000040008000000000000001",
    "0000-0000-0000-4000-8000-0000-0000-0001",
    "participant_joined",
    "payment_failed",
    "no_such_type",
    "online",
    "card",
    "client",
    "root",
]
TRICKY_INT = [-1, 0, 1, 4, 5, 6, 100, 101, 1000, 1001, 1440, 1441, 86_400, 86_401]
TRICKY_INT += [86_400_000, 86_400_001, 604_800_000, 604_800_001, 10**12, 10**12 + 1]

TEXT = st.one_of(
    st.sampled_from(TRICKY_TEXT),
    st.text(max_size=80),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@ \n-]{0,66}", fullmatch=True),
)
INT = st.one_of(st.sampled_from(TRICKY_INT), st.integers(-(2**40), 2**40))


def _paths(record: dict[str, Any]) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for name, value in record.items():
        if name == "payload":
            paths += [("payload", field) for field in value[1]]
        elif name in NESTED and isinstance(value, dict):
            paths += [(name, field) for field in value]
        else:
            paths.append((name,))
    return paths


def _get(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    if path[0] == "payload":
        return record["payload"][1][path[1]]
    return record[path[0]] if len(path) == 1 else record[path[0]][path[1]]


def _set(record: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    if path[0] == "payload":
        branch, payload = record["payload"]
        record["payload"] = (branch, {**payload, path[1]: value})
    elif len(path) == 1:
        record[path[0]] = value
    else:
        record[path[0]] = {**record[path[0]], path[1]: value}


def _like(current: Any) -> st.SearchStrategy[Any]:
    """A value of the type Avro would have given the field (or null)."""
    if isinstance(current, bool):
        return st.booleans()
    if isinstance(current, int):
        return st.one_of(INT, st.none())
    if isinstance(current, str):
        return st.one_of(TEXT, st.none())
    return st.just(None)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    record = copy.deepcopy(draw(st.sampled_from(RECORDS)))
    paths = _paths(record)
    for path in draw(st.lists(st.sampled_from(paths), max_size=3, unique=True)):
        _set(record, path, draw(_like(_get(record, path))))
    return record


def accepted_by_models(record: dict[str, Any]) -> bool:
    try:
        event_from_avro(record)
    except InvalidEvent:
        return False
    return True


def accepted_by_checks(record: dict[str, Any]) -> bool:
    try:
        check_avro_values(record)
    except InvalidEvent as exc:
        assert exc.errors, "a refusal names what is wrong"
        return False
    return True


@settings(
    max_examples=1500,
    deadline=None,  # a shared 2-core machine: no timing in a property test
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(records())
@example(RECORDS[0])
def test_the_checks_accept_exactly_what_the_models_accept(record: dict[str, Any]) -> None:
    assert accepted_by_checks(record) == accepted_by_models(record)


@pytest.mark.parametrize("text", TRICKY_TEXT)
def test_every_tricky_text_is_judged_alike_in_every_text_field(text: str) -> None:
    for record in RECORDS[:19]:  # one of each event type
        for path in _paths(record):
            if isinstance(_get(record, path), str):
                changed = copy.deepcopy(record)
                _set(changed, path, text)
                assert accepted_by_checks(changed) == accepted_by_models(changed), (path, text)


def test_every_generated_event_passes() -> None:
    assert all(accepted_by_checks(r) for r in RECORDS)


def test_a_refusal_names_each_bad_field() -> None:
    record = copy.deepcopy(next(r for r in RECORDS if r["event_type"] == "payment_failed"))
    _set(record, ("payload", "currency"), "eur")
    _set(record, ("actor", "id"), "client 7")
    with pytest.raises(InvalidEvent) as refused:
        check_avro_values(record)
    assert [line.split(":")[0] for line in refused.value.errors] == ["actor.id", "currency"]


def test_the_consumer_dead_letters_a_bad_value_with_one_line_naming_it() -> None:
    event = one_of_each(seed=3)["payment_failed"]
    record = event.to_avro()
    record["payload"][1]["currency"] = "EURO"
    value = CODEC.encode(event.family, record)  # Avro cannot tell: a string is a string
    message = SimpleNamespace(
        topic="t", partition=0, offset=9, timestamp=1_700_000_000_000, key=event.key, value=value
    )
    item = to_item(CODEC, message, datetime(2026, 11, 2, tzinfo=UTC))
    assert item.letter is not None and item.letter.reason_code == "invalid_event"
    assert "\n" not in item.letter.reason
    assert "currency: Value error, 'EURO' is not an ISO 4217 currency code" in item.letter.reason
    assert item.row.family == "dead_letter"
