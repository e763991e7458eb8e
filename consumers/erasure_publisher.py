"""Publishing erasure notices to the erasures topic, acknowledged by every in-sync replica.

``erase`` publishes before it destroys any key: when the broker is down, nothing is
erased and the command says so (an erasure only in the store would be undone by the
next store built from Kafka). Publishing the same notice again is harmless: compaction
keeps one record per subject and purpose.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from ledger.erasure_record import SignedRecord
from ledger.privacy import ErasureNotice, ErasureNotPublished

# Bounds how long `erase` waits for a broker that does not answer.
_TIMEOUT_S = 15.0


class KafkaErasurePublisher:
    """``ledger.erasure.ErasurePublisher`` on a Kafka topic."""

    def __init__(self, bootstrap_servers: str, topic: str, **kafka_config: Any) -> None:
        self.topic = topic
        self._where = f"topic {topic} at {bootstrap_servers}"
        try:
            self._kafka = KafkaProducer(
                bootstrap_servers=bootstrap_servers,
                acks="all",
                enable_idempotence=True,
                client_id="audit-trail-erasures",
                max_block_ms=int(_TIMEOUT_S * 1000),
                request_timeout_ms=int(_TIMEOUT_S * 1000) // 2,
                delivery_timeout_ms=int(_TIMEOUT_S * 1000),
                **kafka_config,
            )
        except KafkaError as exc:
            raise self._failed(exc) from exc

    def publish(self, notices: Sequence[ErasureNotice], record: SignedRecord | None = None) -> None:
        """Send every notice (then the record) and wait for all acknowledgements, or raise."""
        messages = [(n.key(), n.value()) for n in notices]
        if record is not None:
            messages.append((record.key(), record.value()))
        try:
            sent = [self._kafka.send(self.topic, key=k, value=v) for k, v in messages]
            self._kafka.flush(timeout=_TIMEOUT_S)
            for future in sent:
                future.get(timeout=_TIMEOUT_S)
        except KafkaError as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: Exception) -> ErasureNotPublished:
        return ErasureNotPublished(
            f"the erasure notice did not reach Kafka ({self._where}: {type(exc).__name__}: "
            f"{exc}); nothing was erased: run the erasure again once the broker answers"
        )

    def close(self) -> None:
        # Nothing is left to deliver (publish waited for every acknowledgement).
        with contextlib.suppress(KafkaError):
            self._kafka.close(timeout=_TIMEOUT_S)
