"""AuditProducer: validate, encode, send; never drop an event silently.

Invalid input raises before anything reaches Kafka. A send that Kafka does not
acknowledge (after the client's own retries) surfaces to the caller twice over: through
the returned ``Delivery`` and, if nobody looked at it, from the next ``flush()``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from producers.events import Event
from producers.older_versions import fit, payload_fields
from schemas import AvroCodec, EncodeError, Retriable, SchemaVersion


class DeliveryFailed(Retriable):
    """Kafka did not acknowledge one or more events; they may be sent again (same event_id)."""


@dataclass(frozen=True)
class Delivered:
    topic: str
    partition: int
    offset: int


class Delivery:
    """The outcome of one send; ``result()`` blocks until Kafka answers."""

    __slots__ = ("_future", "_producer", "event")

    def __init__(self, event: Event, future: Any, producer: AuditProducer) -> None:
        self.event = event
        self._future = future
        self._producer = producer

    def result(self, timeout: float | None = 30.0) -> Delivered:
        try:
            meta = self._future.get(timeout=timeout)
        except KafkaError as exc:
            self._producer._observed(self._future)
            raise DeliveryFailed(
                f"event {self.event.event_id} ({self.event.event_type}) not delivered: {exc}"
            ) from exc
        return Delivered(meta.topic, meta.partition, meta.offset)

    def _record_failure(self, error: BaseException) -> None:
        # Kafka's errback: kept until flush() raises it or result() has shown it.
        self._producer._record_failure(self.event, self._future, error)


class EventEncoder:
    """Topic, key and Avro value of an event, exactly as ``AuditProducer`` sends them.

    ``schema_ids``: per family, the schema registry's id of its newest version; given, values
    are written in the Confluent wire format instead of the single-object encoding.

    ``versions``: per family, the schema version to write instead of the newest (a
    producer not yet upgraded; ``producers.older_versions``). Single-object encoding only.
    """

    def __init__(
        self,
        topics: Mapping[str, str],
        codec: AvroCodec | None = None,
        schema_ids: Mapping[str, int] | None = None,
        versions: Mapping[str, int] | None = None,
    ) -> None:
        self.codec = codec if codec is not None else AvroCodec()
        if versions and schema_ids is not None:
            raise ValueError("schema_ids name the newest versions: do not pin older ones too")
        self.topics = dict(topics)
        self.schema_ids = dict(schema_ids) if schema_ids is not None else None
        if self.schema_ids is not None:
            unknown = set(self.codec.registry.families) - set(self.schema_ids)
            if unknown:
                raise ValueError(f"no schema id given for event families {sorted(unknown)}")
        missing = set(self.codec.registry.families) - set(self.topics)
        if missing:
            raise ValueError(f"no topic configured for event families {sorted(missing)}")
        # Per family: its topic and the schema version it is written with (the newest).
        self._routes: dict[str, tuple[str, SchemaVersion]] = {
            family: (self.topics[family], self.codec.registry.latest(family))
            for family in self.codec.registry.families
        }
        self._pinned = dict(versions or {})
        self._older_fields: dict[int, dict[str, frozenset[str]]] = {}
        for family, number in self._pinned.items():
            self._version(family, number)  # an unknown family or version fails here

    def _version(self, family: str, number: int) -> SchemaVersion:
        for version in self.codec.registry.versions(family):
            if version.version == number:
                return version
        raise ValueError(f"{family} has no schema version {number}")

    def encode(self, event: Event, version: int | None = None) -> tuple[str, bytes, bytes]:
        """Topic, key and value for ``event``, written with ``version`` (else the pinned or
        newest one); raises ``EncodeError`` for a bad record or one that version lacks."""
        route = self._routes.get(event.family)
        if route is None:
            self.codec.registry.latest(event.family)  # raises: unknown family
            raise KeyError(event.family)
        topic, newest = route
        number = version if version is not None else self._pinned.get(event.family)
        if number is not None and number != newest.version:
            if self.schema_ids is not None:
                raise EncodeError("the Confluent framing writes the newest version only")
            older = self._version(event.family, number)
            fields = self._older_fields.get(older.fingerprint)
            if fields is None:
                fields = self._older_fields[older.fingerprint] = payload_fields(older)
            record = fit(older, fields, event.to_avro())
            return topic, event.key, self.codec.encode_with(older, record)
        if self.schema_ids is not None:
            schema_id = self.schema_ids[event.family]
            return (
                topic,
                event.key,
                self.codec.encode_confluent(newest, schema_id, event.to_avro()),
            )
        return topic, event.key, self.codec.encode_with(newest, event.to_avro())


class AuditProducer:
    """Sends typed events to their family's topic, keyed by session_id."""

    def __init__(
        self,
        bootstrap_servers: str,
        topics: Mapping[str, str],
        *,
        codec: AvroCodec | None = None,
        schema_ids: Mapping[str, int] | None = None,
        schema_versions: Mapping[str, int] | None = None,
        client_id: str = "audit-trail-producer",
        **kafka_config: Any,
    ) -> None:
        self._encoder = EventEncoder(topics, codec, schema_ids, schema_versions)
        self.codec = self._encoder.codec
        self.topics = self._encoder.topics
        config: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers,
            "client_id": client_id,
            "acks": "all",  # the trail is worth a round trip to every in-sync replica
            "enable_idempotence": True,  # broker drops duplicates of a retried batch
            "retries": 2**31 - 1,
            "delivery_timeout_ms": 120_000,
            "max_in_flight_requests_per_connection": 5,
            "linger_ms": 5,
            "max_block_ms": 30_000,
        }
        config.update(kafka_config)
        try:
            self._kafka = KafkaProducer(**config)
        except KafkaError as exc:
            raise DeliveryFailed(f"cannot reach Kafka at {bootstrap_servers}: {exc}") from exc
        self._lock = threading.Lock()
        self._failed: dict[Any, tuple[Event, BaseException]] = {}  # by future

    def encode(self, event: Event) -> tuple[str, bytes, bytes]:
        """Topic, key and value for ``event``; raises ``EncodeError`` for a bad record."""
        return self._encoder.encode(event)

    def send(self, event: Event, schema_version: int | None = None) -> Delivery:
        """Send ``event``, written with ``schema_version`` if given (see ``EventEncoder``)."""
        if not isinstance(event, Event):
            raise TypeError(f"send() takes an Event model, not {type(event).__name__}")
        topic, key, value = self._encoder.encode(event, schema_version)
        try:
            future = self._kafka.send(topic, key=key, value=value)
        except KafkaError as exc:
            raise DeliveryFailed(
                f"event {event.event_id} ({event.event_type}) not sent to {topic}: {exc}"
            ) from exc
        delivery = Delivery(event, future, self)
        future.add_errback(delivery._record_failure)
        return delivery

    def flush(self, timeout: float | None = None) -> None:
        """Wait for every send so far; raise ``DeliveryFailed`` if any was not acknowledged."""
        try:
            self._kafka.flush(timeout=timeout)
        except KafkaError as exc:
            raise DeliveryFailed(f"flush did not finish: {exc}") from exc
        with self._lock:
            failed, self._failed = list(self._failed.values()), {}
        if failed:
            event, error = failed[0]
            raise DeliveryFailed(
                f"{len(failed)} event(s) not delivered; first: {event.event_id} "
                f"({event.event_type}): {error}"
            )

    def close(self, timeout: float | None = 30.0) -> None:
        try:
            self.flush(timeout)
        finally:
            self._kafka.close(timeout=timeout)

    def __enter__(self) -> AuditProducer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record_failure(self, event: Event, future: Any, error: BaseException) -> None:
        with self._lock:
            self._failed[future] = (event, error)

    def _observed(self, future: Any) -> None:
        # The caller saw this failure through Delivery.result(); flush need not repeat it.
        with self._lock:
            self._failed.pop(future, None)
