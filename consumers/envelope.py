"""Envelope checks: does a decoded message agree with itself and with where Kafka put it?

Two kinds of contradiction, two outcomes (docs/contract.md, "Envelope contradictions"):

- The payload is not the record its ``event_type`` names (``participant_left`` carrying
  a ``ParticipantJoined``): no reading of the event is the right one, so it is refused
  (dead letter ``payload_type_mismatch``).
- The key or the partition is not the session's: the event itself is whole, but it sits
  apart from its session's other events, with no order between them. It is evidence, so
  it is stored, flagged in ``envelope_flags`` (hashed with the row: the flag cannot be
  removed without breaking the chain), and readers and ``verify`` show the flag.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from kafka.errors import KafkaError
from kafka.partitioner.default import murmur2

from consumers.metrics import IngestMetrics
from schemas import DeadLetter
from schemas.catalogue import EVENTS

log = logging.getLogger(__name__)

# Flag codes, in the order they are joined in ``envelope_flags``.
KEY_MISSING = "key_missing"  # no key at all: the partitioner placed it anywhere
KEY_NOT_SESSION = "key_not_session"  # a key that is not the session_id's canonical text
OFF_PARTITION = "off_partition"  # not in the partition murmur2(session_id) picks
FLAGS = (KEY_MISSING, KEY_NOT_SESSION, OFF_PARTITION)

# The Avro record each event_type must carry, e.g. audit_trail.session_event.NoteSaved.
_PAYLOAD_OF: dict[str, str] = {spec.event_type: spec.avro_branch for spec in EVENTS}


class PayloadTypeMismatch(DeadLetter):
    """``event_type`` names one record and the payload is another: the event means nothing."""

    reason_code = "payload_type_mismatch"


def check_payload_type(record: Mapping[str, Any]) -> None:
    """Raise ``PayloadTypeMismatch`` unless the payload is the record ``event_type`` names.

    An unknown ``event_type`` passes here: the event model refuses it (``invalid_event``).
    """
    event_type = record.get("event_type")
    expected = _PAYLOAD_OF.get(event_type) if isinstance(event_type, str) else None
    payload = record.get("payload")
    if expected is None or not isinstance(payload, tuple) or not payload:
        return
    if payload[0] != expected:
        raise PayloadTypeMismatch(
            f"event_type {event_type!r} carries a {str(payload[0]).rsplit('.', 1)[-1]} "
            f"payload, not the {expected.rsplit('.', 1)[-1]} it names"
        )


def envelope_flags(
    session_id: str, key: bytes | None, partition: int, partitions: int | None
) -> str | None:
    """The flags of an event of ``session_id`` read with ``key`` from ``partition``.

    ``partitions``: the topic's partition count, from the consumer's metadata (None when
    unknown: the placement is then not checked). Producers key by the session_id's text
    and partition with murmur2, as kafka-python and the Java client do by default; a
    producer on another partitioner (kcat's CRC32) gets ``off_partition`` even with the
    right key. None when nothing is wrong.
    """
    flags: list[str] = []
    expected = session_id.encode()
    if not key:
        flags.append(KEY_MISSING)
    elif key != expected:
        flags.append(KEY_NOT_SESSION)
    if partitions and partition != session_partition(expected, partitions):
        flags.append(OFF_PARTITION)
    return ",".join(flags) if flags else None


@functools.lru_cache(maxsize=65536)
def session_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, positive, modulo) gives ``key``.

    Cached: a session's events share the key, and pure-Python murmur2 is the costly part.
    """
    return (int(murmur2(key)) & 0x7FFFFFFF) % partitions


def partition_count(consumer: Any, topic: str) -> int | None:
    """``topic``'s partition count from the consumer's cached metadata (no request while
    subscribed). None, and the placement goes unchecked, if the topic has left the
    metadata and the broker is away: a check must never stop ingest."""
    try:
        found = consumer.partitions_for_topic(topic)
    except KafkaError:
        return None
    return len(found) if found else None


class FlagWatch:
    """Counts flagged events; logs the first of each topic and flags in a run (a
    misconfigured producer flags every event it sends, which should not flood the log)."""

    def __init__(self, metrics: IngestMetrics) -> None:
        self.metrics = metrics
        self._logged: set[tuple[str, str]] = set()

    def __call__(self, message: Any, flags: str) -> None:
        self.metrics.envelope_flagged(flags)
        if (message.topic, flags) in self._logged:
            return
        self._logged.add((message.topic, flags))
        key = message.key[:80] if message.key else message.key
        log.warning(
            "%s[%d]@%d stored with envelope flags %s (key %r): a producer keys or "
            "partitions events apart from their session (docs/contract.md, keys and "
            "partitions); more of these are counted, not logged",
            message.topic, message.partition, message.offset, flags, key,
        )  # fmt: skip
