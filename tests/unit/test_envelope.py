"""Envelope checks without a broker: flags, the partition rule, payload against type."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from consumers.decoding import to_item
from consumers.envelope import (
    PayloadTypeMismatch,
    check_payload_type,
    envelope_flags,
    session_partition,
)
from ledger.columns import INDEX
from schemas import AvroCodec
from tests.support.kafka import default_partition
from tests.support.samples import one_of_each

SID = "3f2b8c1e-5d4a-4c1b-9e7f-0a1b2c3d4e5f"
NOW = datetime(2026, 11, 2, tzinfo=UTC)


def test_the_session_partition_is_kafka_pythons_default_partitioners() -> None:
    rng = random.Random(7)
    for _ in range(300):
        key = str(uuid.UUID(int=rng.getrandbits(128))).encode()
        count = rng.randint(1, 64)
        assert session_partition(key, count) == default_partition(key, count)


@pytest.mark.parametrize(
    ("key", "placed_right", "flags"),
    [
        (SID.encode(), True, None),
        (SID.encode(), False, "off_partition"),
        (None, True, "key_missing"),
        (b"", False, "key_missing,off_partition"),
        (b"session-42", True, "key_not_session"),
        (SID.upper().encode(), False, "key_not_session,off_partition"),
        (str(uuid.uuid4()).encode(), True, "key_not_session"),
        (b"x" * 1_000_000, True, "key_not_session"),  # oversize: compared, never hashed
        (b"\xff\xfe\x00", True, "key_not_session"),  # not even UTF-8
    ],
)
def test_flags_name_each_way_an_event_sits_apart_from_its_session(
    key: bytes | None, placed_right: bool, flags: str | None
) -> None:
    home = session_partition(SID.encode(), 6)
    partition = home if placed_right else (home + 1) % 6
    assert envelope_flags(SID, key, partition, 6) == flags


def test_an_unknown_partition_count_skips_only_the_placement_check() -> None:
    assert envelope_flags(SID, SID.encode(), 5, None) is None
    assert envelope_flags(SID, None, 5, None) == "key_missing"


def test_every_event_type_passes_with_its_own_payload_and_fails_with_any_other() -> None:
    codec = AvroCodec(uuids_as_text=True)
    sample = one_of_each()
    for event in sample.values():
        record = codec.decode(codec.encode(event.family, event.to_avro())).record
        check_payload_type(record)
        for other in sample.values():
            if other.family != event.family or other.event_type == event.event_type:
                continue
            with pytest.raises(PayloadTypeMismatch, match=f"event_type '{other.event_type}'"):
                check_payload_type(record | {"event_type": other.event_type})


def _message(value: bytes, key: bytes | None, partition: int) -> SimpleNamespace:
    return SimpleNamespace(
        topic="t", partition=partition, offset=7, timestamp=0, key=key, value=value
    )


def test_to_item_stores_a_misplaced_event_flagged_and_refuses_a_mismatched_payload() -> None:
    codec = AvroCodec(uuids_as_text=True)
    joined = one_of_each()["participant_joined"]
    value = codec.encode(joined.family, joined.to_avro())
    key = joined.key
    home = session_partition(key, 4)
    clean = to_item(codec, _message(value, key, home), NOW, partitions=4)
    assert clean.letter is None and clean.flags is None
    assert clean.row[INDEX["envelope_flags"]] is None
    away = to_item(codec, _message(value, None, (home + 1) % 4), NOW, partitions=4)
    assert away.letter is None and away.flags == "key_missing,off_partition"
    assert away.row[INDEX["envelope_flags"]] == "key_missing,off_partition"
    left = codec.encode(joined.family, joined.to_avro() | {"event_type": "participant_left"})
    refused = to_item(codec, _message(left, key, home), NOW, partitions=4)
    assert refused.letter is not None
    assert refused.letter.reason_code == "payload_type_mismatch"
    assert refused.row[INDEX["failure_code"]] == "payload_type_mismatch"
