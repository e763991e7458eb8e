"""Dead letters: the bad message, its reason and where it came from, on their own topic.

The guard stops the consumer when nearly everything is bad: a broken deploy should page
someone, not quietly fill the dead-letter topic.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from schemas import AuditTrailError, Retriable


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    reason_code: str
    reason: str

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("dlq.reason_code", self.reason_code.encode()),
            ("dlq.reason", self.reason.encode()),
            ("dlq.topic", self.topic.encode()),
            ("dlq.partition", str(self.partition).encode()),
            ("dlq.offset", str(self.offset).encode()),
            ("dlq.timestamp_ms", str(self.timestamp_ms).encode()),
        ]


class TooManyDeadLetters(AuditTrailError):
    """Nearly every message is bad: stop and look (a producer deploy, a schema mix-up)."""


class DeadLetterPublishFailed(Retriable):
    """The dead-letter topic did not acknowledge: the batch must not be committed."""


class DeadLetterPublisher:
    def __init__(self, bootstrap_servers: str, topic: str, **kafka_config: Any) -> None:
        self.topic = topic
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
        try:
            futures = [
                self._kafka.send(self.topic, key=dl.key, value=dl.value, headers=dl.headers())
                for dl in letters
            ]
            for future in futures:
                future.get(timeout=timeout_s)
        except KafkaError as exc:
            raise DeadLetterPublishFailed(f"dead-letter topic {self.topic}: {exc}") from exc

    def close(self) -> None:
        self._kafka.close(timeout=10)


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
