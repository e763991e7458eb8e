"""A message cut short anywhere in its datum is a truncated datum, never a malformed one
(docs/contract.md), including cuts inside a UUID string or a multi-byte character."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from consumers.decoding import to_item
from schemas import (
    SESSION_FAMILY,
    AvroCodec,
    ConfluentSchemas,
    MalformedDatum,
    TruncatedDatum,
    default_registry,
)
from schemas.codec import HEADER_SIZE
from tests.support.samples import one_of_each

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def message(value: bytes | None) -> SimpleNamespace:
    return SimpleNamespace(
        topic="t", partition=0, offset=7, timestamp=1_700_000_000_000, key=b"k", value=value
    )


@pytest.mark.parametrize(
    "kind",
    ["session_access_attempted", "participant_joined", "chat_message_sent", "payment_succeeded"],
)
def test_every_cut_of_a_message_is_a_truncated_datum(kind: str) -> None:
    codec = AvroCodec(uuids_as_text=True)
    events = one_of_each(seed=61)
    event = events[kind]
    whole = codec.encode(event.family, event.to_avro())
    assert to_item(codec, message(whole), NOW).letter is None
    codes = {
        cut: item.letter.reason_code
        for cut in range(HEADER_SIZE, len(whole))
        if (item := to_item(codec, message(whole[:cut]), NOW)).letter is not None
    }
    assert len(codes) == len(whole) - HEADER_SIZE, "a cut message was stored"
    wrong = {cut: code for cut, code in codes.items() if code != "truncated_datum"}
    assert wrong == {}


@pytest.mark.parametrize("uuids_as_text", [True, False])
@pytest.mark.parametrize("kind", ["participant_joined", "payment_succeeded", "note_saved"])
def test_the_codec_itself_says_a_cut_message_is_truncated(kind: str, uuids_as_text: bool) -> None:
    # Every caller of decode (not only the consumer) gets the right error: cuts inside a
    # UUID or a timestamp included, where zero padding cannot complete the value.
    codec = AvroCodec(uuids_as_text=uuids_as_text)
    event = one_of_each(seed=61)[kind]
    whole = codec.encode(event.family, event.to_avro())
    wrong = {}
    for cut in range(HEADER_SIZE, len(whole)):
        try:
            codec.decode(whole[:cut])
        except TruncatedDatum:
            continue
        except MalformedDatum as exc:
            wrong[cut] = str(exc)
        else:
            wrong[cut] = "decoded"
    assert wrong == {}


def test_a_corrupt_body_is_still_malformed_from_the_codec() -> None:
    codec = AvroCodec(uuids_as_text=True)
    event = one_of_each(seed=61)["participant_joined"]
    whole = codec.encode(event.family, event.to_avro())
    corrupt = whole[:HEADER_SIZE] + b"\x7f" + whole[HEADER_SIZE + 1 :]
    with pytest.raises(MalformedDatum):
        codec.decode(corrupt)


def test_a_corrupt_body_is_still_malformed() -> None:
    codec = AvroCodec(uuids_as_text=True)
    event = one_of_each(seed=61)["participant_joined"]
    whole = codec.encode(event.family, event.to_avro())
    # The first field's length made negative: corrupt, and no cut could explain it.
    corrupt = whole[:HEADER_SIZE] + b"\x7f" + whole[HEADER_SIZE + 1 :]
    item = to_item(codec, message(corrupt), NOW)
    assert item.letter is not None and item.letter.reason_code == "malformed_datum"


def test_a_tombstone_keeps_its_null_value() -> None:
    item = to_item(AvroCodec(uuids_as_text=True), message(None), NOW)
    assert item.letter is not None
    assert (item.letter.reason_code, item.letter.value) == ("tombstone", None)


class _OneSchema:
    """A schema registry holding our newest session schema under every id (no HTTP)."""

    def schema_text(self, schema_id: int) -> str:
        return json.dumps(default_registry().latest(SESSION_FAMILY).source)


@pytest.mark.parametrize("kind", ["participant_joined", "note_saved"])
def test_a_cut_confluent_framed_message_is_truncated_too(kind: str) -> None:
    # The Confluent header is 5 bytes, not 10: the second look must start where it does.
    codec = AvroCodec(uuids_as_text=True)
    codec.registry_schemas = ConfluentSchemas(_OneSchema(), codec.registry)
    event = one_of_each(seed=61)[kind]
    newest = default_registry().latest(SESSION_FAMILY)
    whole = AvroCodec.encode_confluent(newest, 7, event.to_avro())
    assert to_item(codec, message(whole), NOW).letter is None
    codes = {
        cut: item.letter.reason_code
        for cut in range(5, len(whole))
        if (item := to_item(codec, message(whole[:cut]), NOW)).letter is not None
    }
    assert set(codes) == set(range(5, len(whole))), "a cut message was stored"
    assert {cut: code for cut, code in codes.items() if code != "truncated_datum"} == {}
