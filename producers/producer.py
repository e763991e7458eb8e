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
from schemas import AvroCodec, Retriable


class DeliveryFailed(Retriable):
    """Kafka did not acknowledge one or more events; they may be sent again (same event_id)."""


@dataclass(frozen=True)
class Delivered:
    topic: str
    partition: int
    offset: int


class Delivery:
    """The outcome of one send; ``result()`` blocks until Kafka answers."""

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


class AuditProducer:
    """Sends typed events to their family's topic, keyed by session_id."""

    def __init__(
        self,
        bootstrap_servers: str,
        topics: Mapping[str, str],
        *,
        codec: AvroCodec | None = None,
        client_id: str = "audit-trail-producer",
        **kafka_config: Any,
    ) -> None:
        self.codec = codec if codec is not None else AvroCodec()
        self.topics = dict(topics)
        missing = set(self.codec.registry.families) - set(self.topics)
        if missing:
            raise ValueError(f"no topic configured for event families {sorted(missing)}")
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
        value = self.codec.encode(event.family, event.to_avro())
        return self.topics[event.family], event.key, value

    def send(self, event: Event) -> Delivery:
        if not isinstance(event, Event):
            raise TypeError(f"send() takes an Event model, not {type(event).__name__}")
        topic, key, value = self.encode(event)
        try:
            future = self._kafka.send(topic, key=key, value=value)
        except KafkaError as exc:
            raise DeliveryFailed(
                f"event {event.event_id} ({event.event_type}) not sent to {topic}: {exc}"
            ) from exc
        future.add_errback(self._record_failure, event, future)
        return Delivery(event, future, self)

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
