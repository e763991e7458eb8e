"""Producers: typed events, the Kafka producer that validates and sends them, and the
traffic simulator."""

from producers.jsonl import BadLine, JsonlReport, produce_file, produce_lines
from producers.producer import AuditProducer, Delivered, Delivery, DeliveryFailed, EventEncoder

__all__ = [
    "AuditProducer",
    "BadLine",
    "Delivered",
    "Delivery",
    "DeliveryFailed",
    "EventEncoder",
    "JsonlReport",
    "produce_file",
    "produce_lines",
]
