"""Dead letters: the bad message, its reason and where it came from, on their own topic.

The guard stops the consumer when nearly everything is bad: a broken deploy should page
someone, not quietly fill the dead-letter topic.

A letter always fits its topic: a value or key too large to republish (a message at the
broker's size limit, plus our headers, is over the producer's limit) is cut, and the
headers keep the original size and SHA-256 (the trail's row keeps both too). A refusal
that retrying cannot cure stops the consumer with an error instead of retrying forever.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError

from schemas import AuditTrailError, Retriable


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None  # None: a tombstone, republished as null
    reason_code: str
    reason: str

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("dlq.reason_code", self.reason_code.encode()),
            ("dlq.reason", self.reason[:MAX_REASON_CHARS].encode()),
            ("dlq.topic", self.topic.encode()),
            ("dlq.partition", str(self.partition).encode()),
            ("dlq.offset", str(self.offset).encode()),
            ("dlq.timestamp_ms", str(self.timestamp_ms).encode()),
        ]

    def fitted(self, max_value: int, max_key: int) -> tuple[bytes | None, bytes | None, Headers]:
        """Key, value and headers to publish: each cut to its limit, the cut recorded."""
        headers = self.headers()
        key, value = self.key, self.value
        if key is not None and len(key) > max_key:
            headers += _cut_headers("key", key, max_key)
            key = key[:max_key]
        if value is not None and len(value) > max_value:
            headers += _cut_headers("value", value, max_value)
            value = value[:max_value]
        return key, value, headers


Headers = list[tuple[str, bytes]]
# What a letter may carry: far under Kafka's 1 MiB default request and message limits,
# so the headers and a cut key always fit beside it.
MAX_VALUE_BYTES = 512 * 1024
MAX_KEY_BYTES = 4 * 1024
MAX_REASON_CHARS = 2000


def _cut_headers(what: str, data: bytes, kept: int) -> Headers:
    return [
        (f"dlq.{what}_bytes", str(len(data)).encode()),
        (f"dlq.{what}_sha256", hashlib.sha256(data).hexdigest().encode()),
        (f"dlq.{what}_kept_bytes", str(kept).encode()),
    ]


class TooManyDeadLetters(AuditTrailError):
    """Nearly every message is bad: stop and look (a producer deploy, a schema mix-up)."""


class DeadLetterPublishFailed(Retriable):
    """The dead-letter topic did not acknowledge: the batch must not be committed."""


class DeadLetterRefused(AuditTrailError):
    """The dead-letter topic refused a letter for good (size, authorization, no topic):
    retrying cannot help, so the consumer stops rather than spin."""


class DeadLetterPublisher:
    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        max_value_bytes: int = MAX_VALUE_BYTES,
        max_key_bytes: int = MAX_KEY_BYTES,
        **kafka_config: Any,
    ) -> None:
        self.topic = topic
        self.max_value_bytes, self.max_key_bytes = max_value_bytes, max_key_bytes
        # send() waits this long for the broker's metadata: bounded, so a consumer asked
        # to stop while the broker is away does not sit in send() for a minute.
        kafka_config.setdefault("max_block_ms", 10_000)
        self._kafka = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            client_id="audit-trail-dead-letters",
            **kafka_config,
        )

    def send_all(self, letters: list[DeadLetter], timeout_s: float = 30.0) -> None:
        """Publish ``letters`` and wait for every acknowledgement.

        All or nothing from the caller's view: on failure the whole call is retried, so a
        letter may reach the topic twice (dead letters are at-least-once; the trail is
        exactly-once and records each one at its offset).
        """
        if not letters:
            return
        sent = []
        for dl in letters:
            key, value, headers = dl.fitted(self.max_value_bytes, self.max_key_bytes)
            try:
                future = self._kafka.send(self.topic, key=key, value=value, headers=headers)
            except KafkaError as exc:
                raise self._failure(dl, exc) from exc
            sent.append((dl, future))
        for dl, future in sent:
            try:
                future.get(timeout=timeout_s)
            except KafkaError as exc:
                raise self._failure(dl, exc) from exc

    def _failure(self, letter: DeadLetter, exc: KafkaError) -> AuditTrailError:
        where = f"{letter.topic}[{letter.partition}]@{letter.offset}"
        # A timeout is the broker being away, whatever kafka-python's flag says.
        if exc.retriable or isinstance(exc, KafkaTimeoutError):
            return DeadLetterPublishFailed(f"dead-letter topic {self.topic}: {exc}")
        return DeadLetterRefused(
            f"dead-letter topic {self.topic} refused the letter for {where} "
            f"({letter.reason_code}) for good: {exc!r}. Nothing from it on is stored or "
            f"committed; fix the topic (exists? writable? max.message.bytes >= "
            f"{self.max_value_bytes + 64 * 1024}?) and start the consumer again."
        )

    def close(self, timeout_s: float = 10.0) -> None:
        self._kafka.close(timeout=timeout_s)


class DeadLetterGuard:
    """Counts outcomes; trips on a run of bad messages or a high bad ratio."""

    def __init__(self, max_consecutive: int, max_ratio: float, window: int) -> None:
        self.max_consecutive = max_consecutive
        self.max_ratio = max_ratio
        self._recent: deque[bool] = deque(maxlen=window)
        self._consecutive = 0

    def good(self) -> None:
        self._consecutive = 0
        self._recent.append(False)

    def bad(self, letter: DeadLetter) -> None:
        self._consecutive += 1
        self._recent.append(True)
        if self._consecutive >= self.max_consecutive:
            raise TooManyDeadLetters(
                f"{self._consecutive} consecutive messages could not be read; last at "
                f"{letter.topic}[{letter.partition}]@{letter.offset}: {letter.reason}. "
                "Stopping before dead-lettering everything: check producers and schemas/."
            )
        full = len(self._recent) == self._recent.maxlen
        ratio = sum(self._recent) / len(self._recent)
        if full and ratio > self.max_ratio:
            raise TooManyDeadLetters(
                f"{ratio:.0%} of the last {len(self._recent)} messages could not be read "
                f"(limit {self.max_ratio:.0%}); last at {letter.topic}[{letter.partition}]"
                f"@{letter.offset}: {letter.reason}"
            )
