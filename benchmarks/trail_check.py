"""What a contender stored, comparably: row count, distinct events, and a content checksum.

The checksum covers every trail column both contenders fill from the message (envelope,
device, payload) plus the Kafka partition; not the topic (each reads its own copy), the
offset (the copies interleave differently), ingested_at, the hashes (the Kafka engine has
no chain) or the personal columns (ours seals them per subject with a random nonce, the
Kafka engine stores plaintext). Equal checksums: the same events, decoded the same way.
"""

from __future__ import annotations

from typing import Any

from ledger import Store
from ledger.columns import ROW_COLUMNS

_LEFT_OUT = {"kafka_topic", "kafka_offset", "ingested_at"}
CHECKED = tuple(c.name for c in ROW_COLUMNS if c.name not in _LEFT_OUT and not c.personal)

CHECK_SQL = (
    "SELECT count(), uniqExact(event_id), "
    f"toString(sum(cityHash64(tuple({', '.join(CHECKED)})))) FROM trail"
)


def check(store: Store) -> dict[str, Any]:
    rows, distinct, checksum = store.query(CHECK_SQL)[0]
    return {"rows": int(rows), "distinct_events": int(distinct), "checksum": int(checksum)}


def combine(checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Several stores' checks as one (the checksum is a sum, so it adds up mod 2**64)."""
    return {
        "rows": sum(c["rows"] for c in checks),
        "distinct_events": sum(c["distinct_events"] for c in checks),
        "checksum": sum(c["checksum"] for c in checks) % 2**64,
    }
