"""Where the consumer's time goes: profile frames folded into named buckets.

Each sampled frame's self time goes to the innermost enclosing bucket (so Arrow building
inside the chDB insert counts as Arrow building, not as the insert). Buckets are matched
by file path suffix and function name; whatever matches none is "other". Buckets add up
to the issue's stages (poll/fetch, decode, check, seal, hash, row build, Arrow build,
insert, commit, ...), reported in microseconds per stored event. A function renamed or
moved falls into "other" until its line here follows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# The stages of the profile, in pipeline order; every bucket belongs to one.
STAGES: tuple[str, ...] = (
    "poll/fetch",
    "decode",
    "check",
    "seal",
    "hash",
    "row build",
    "Arrow build",
    "insert",
    "store queries (keys, heads)",
    "commit",
    "resume and checkpoints",
    "dead letters",
    "lag and progress",
    "other",
)

# (file path suffix, function, bucket label, stage)
BUCKETS: tuple[tuple[str, str, str, str], ...] = (
    ("kafka/consumer/group.py", "poll", "Kafka fetch (KafkaConsumer.poll)", "poll/fetch"),
    ("kafka/record/_crc32c.py", "crc_update", "Kafka record CRC-32C (pure Python)", "poll/fetch"),
    ("kafka/consumer/group.py", "commit", "offset commit", "commit"),
    ("schemas/codec.py", "decode", "Avro decode (fastavro)", "decode"),
    ("schemas/events/parsing.py", "event_from_avro", "pydantic re-validation", "check"),
    ("schemas/events/checks.py", "check_avro_values", "value check (the models' rules)", "check"),
    ("producers/events/envelope.py", "_ip_address", "pydantic: IP address check", "check"),
    ("consumers/ingest.py", "_watch", "lag, progress, partition checks", "lag and progress"),
    ("json/encoder.py", "encode", "hash chain: json.dumps of canonical rows", "hash"),
    ("ledger/rows.py", "trail_row", "trail_row (record -> row tuple)", "row build"),
    ("ledger/privacy/sealing.py", "seal", "sealing personal fields (AES-GCM)", "seal"),
    ("ledger/chain.py", "link", "hash chain (canonical v2 binary + SHA-256)", "hash"),
    ("ledger/privacy/store_keys.py", "flush", "subject keys flush", "store queries (keys, heads)"),
    ("ledger/arrow_rows.py", "arrow_stream", "Arrow build (rows -> columns)", "Arrow build"),
    ("ledger/embedded.py", "_insert", "chDB insert (engine)", "insert"),
    (
        "ledger/embedded.py",
        "_run",
        "chDB queries (chain heads, keys)",
        "store queries (keys, heads)",
    ),
    ("consumers/dead_letters.py", "send_all", "dead-letter publish", "dead letters"),
    ("ledger/retention.py", "expired", "expiry check before sealing", "seal"),
    ("consumers/positions.py", "resume", "resume: chain heads, offsets", "resume and checkpoints"),
    (
        "ledger/merkle/checkpointer.py",
        "sign_due",
        "checkpoints (tree, signing)",
        "resume and checkpoints",
    ),
)
STAGE_OF: dict[str, str] = {label: stage for _, _, label, stage in BUCKETS}


def bucket_of(file_path: str | None, function: str | None) -> str | None:
    path = (file_path or "").replace("\\", "/")
    for suffix, name, label, _stage in BUCKETS:
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


def stage_costs(totals: dict[str, float], events: int) -> list[dict[str, Any]]:
    """Per stage, in pipeline order: seconds, microseconds per stored event, share of the
    profiled time. A bucket not in ``BUCKETS`` (e.g. "other") counts as "other"."""
    seconds = dict.fromkeys(STAGES, 0.0)
    for label, spent in totals.items():
        seconds[STAGE_OF.get(label, "other")] += spent
    whole = sum(seconds.values()) or 1.0
    per_event = 1e6 / max(1, events)
    return [
        {
            "stage": stage,
            "seconds": spent,
            "us_per_event": spent * per_event,
            "share": spent / whole,
        }
        for stage, spent in seconds.items()
    ]
