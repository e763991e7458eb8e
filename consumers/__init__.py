"""The ingest service: Kafka into the append-only trail, through the store interface."""

from consumers.config import IngestConfig
from consumers.dead_letters import (
    DeadLetter,
    DeadLetterGuard,
    DeadLetterPublisher,
    DeadLetterPublishFailed,
    TooManyDeadLetters,
)
from consumers.erasure_feed import ErasureFeed
from consumers.erasure_publisher import KafkaErasurePublisher
from consumers.ingest import IngestService, IngestStats
from consumers.metrics import IngestMetrics

__all__ = [
    "DeadLetter",
    "DeadLetterGuard",
    "DeadLetterPublishFailed",
    "DeadLetterPublisher",
    "ErasureFeed",
    "IngestConfig",
    "IngestMetrics",
    "IngestService",
    "IngestStats",
    "KafkaErasurePublisher",
    "TooManyDeadLetters",
]
