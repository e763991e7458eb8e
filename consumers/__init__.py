"""The ingest service: Kafka into the append-only trail, through the store interface."""

from consumers.config import IngestConfig
from consumers.dead_letters import (
    DeadLetter,
    DeadLetterGuard,
    DeadLetterPublisher,
    DeadLetterPublishFailed,
    TooManyDeadLetters,
)
from consumers.ingest import IngestService, IngestStats
from consumers.metrics import IngestMetrics

__all__ = [
    "DeadLetter",
    "DeadLetterGuard",
    "DeadLetterPublishFailed",
    "DeadLetterPublisher",
    "IngestConfig",
    "IngestMetrics",
    "IngestService",
    "IngestStats",
    "TooManyDeadLetters",
]
