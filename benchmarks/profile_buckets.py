"""Where the consumer's time goes: profile frames folded into named buckets.

Each sampled frame's self time goes to the innermost enclosing bucket (so Arrow building
inside the chDB insert counts as Arrow building, not as the insert). Buckets are matched
by file path suffix and function name; whatever matches none is "other".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

BUCKETS: tuple[tuple[str, str, str], ...] = (
    ("kafka/consumer/group.py", "poll", "Kafka fetch (KafkaConsumer.poll)"),
    ("kafka/record/_crc32c.py", "crc_update", "Kafka record CRC-32C check (pure Python)"),
    ("kafka/consumer/group.py", "commit", "offset commit"),
    ("schemas/codec.py", "decode", "Avro decode (fastavro)"),
    ("producers/events/catalogue.py", "event_from_avro", "pydantic re-validation"),
    ("schemas/events/checks.py", "check_avro_values", "value check (the models' rules)"),
    ("producers/events/envelope.py", "_ip_address", "pydantic: IP address check (ipaddress)"),
    ("consumers/ingest.py", "_watch", "lag, progress, partition checks (every 5 s)"),
    ("json/encoder.py", "encode", "hash chain: json.dumps of canonical rows"),
    ("ledger/rows.py", "trail_row", "trail_row (record -> row tuple)"),
    ("ledger/privacy/sealing.py", "seal", "sealing personal fields (AES-GCM)"),
    ("ledger/chain.py", "link", "hash chain (canonical v2 binary + SHA-256)"),
    ("ledger/privacy/store_keys.py", "flush", "subject keys flush"),
    ("ledger/arrow_rows.py", "arrow_stream", "Arrow build (Python rows -> columns)"),
    ("ledger/embedded.py", "_insert", "chDB insert (engine)"),
    ("ledger/embedded.py", "_run", "chDB queries (chain heads, keys)"),
    ("consumers/dead_letters.py", "send_all", "dead-letter publish"),
)


def bucket_of(file_path: str | None, function: str | None) -> str | None:
    path = (file_path or "").replace("\\", "/")
    for suffix, name, label in BUCKETS:
        if function == name and path.endswith(suffix):
            return label
    return None


def fold(root: Any) -> dict[str, float]:
    """Seconds per bucket from a pyinstrument frame tree."""
    totals: dict[str, float] = {}
    stack: list[tuple[Any, str]] = [(root, "other")]
    while stack:
        frame, current = stack.pop()
        label = bucket_of(frame.file_path, frame.function) or current
        children: Iterable[Any] = frame.children
        self_time = frame.time - sum(child.time for child in frame.children)
        totals[label] = totals.get(label, 0.0) + max(0.0, self_time)
        stack.extend((child, label) for child in children)
    return totals


def shares(totals: dict[str, float]) -> list[dict[str, Any]]:
    whole = sum(totals.values()) or 1.0
    return [
        {"bucket": label, "seconds": seconds, "share": seconds / whole}
        for label, seconds in sorted(totals.items(), key=lambda kv: -kv[1])
    ]
