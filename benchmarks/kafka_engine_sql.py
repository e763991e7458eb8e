"""DDL for the contender: ClickHouse's Kafka table engine + a materialized view into ``trail``.

One Kafka table per topic (family), reading AvroConfluent with the schema fetched from a
registry stub; one materialized view per Kafka table maps the flat Avro columns onto the
same ``trail`` table the project's migrations create. What it does not do (and our
consumer does): per-row pydantic validation, dead letters, the hash chain, and
exactly-once resume from the store's head. ``prev_hash``/``row_hash`` are left empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks.avro_flat import FlatColumn, flat_columns
from ledger.columns import COLUMNS

_DIRECT = {
    "event_id": "event_id",
    "event_type": "event_type",
    "occurred_at": "occurred_at",
    "session_id": "session_id",
    "actor_id": "`actor.id`",
    "actor_role": "`actor.role`",
    "source_service": "`source.service`",
    "source_version": "`source.version`",
    "kafka_topic": "_topic",
    "kafka_partition": "_partition",
    "kafka_offset": "_offset",
    "ingested_at": "now64(6, 'UTC')",
    "prev_hash": "''",
    "row_hash": "''",
}


def _expression(name: str, family: str, flat: list[FlatColumn]) -> str:
    if name in _DIRECT:
        return _DIRECT[name]
    if name == "family":
        return f"'{family}'"
    if name == "schema_version":
        return "toUInt16(1)"
    for prefix, record in (("device_", "device.Device."), ("network_", "network.Network.")):
        if name.startswith(prefix):
            return f"`{record}{name[len(prefix) :]}`"
    sources = [c.quoted for c in flat if c.path.startswith("payload.") and c.field == name]
    if not sources:
        return "NULL"
    return sources[0] if len(sources) == 1 else f"coalesce({', '.join(sources)})"


def kafka_table(
    table: str,
    schema: Mapping[str, Any],
    *,
    brokers: str,
    topic: str,
    group: str,
    settings: Mapping[str, int | str],
) -> str:
    columns = ",\n    ".join(f"{c.quoted} {c.type}" for c in flat_columns(schema))
    extra = "".join(
        f",\n    {key} = {value if isinstance(value, int) else repr(value)}"
        for key, value in settings.items()
    )
    return (
        f"CREATE TABLE {table}\n(\n    {columns}\n)\nENGINE = Kafka\nSETTINGS\n"
        f"    kafka_broker_list = '{brokers}',\n"
        f"    kafka_topic_list = '{topic}',\n"
        f"    kafka_group_name = '{group}',\n"
        f"    kafka_format = 'AvroConfluent'{extra}"
    )


def materialized_view(view: str, source: str, family: str, schema: Mapping[str, Any]) -> str:
    flat = flat_columns(schema)
    select = ",\n    ".join(f"{_expression(c.name, family, flat)} AS {c.name}" for c in COLUMNS)
    return f"CREATE MATERIALIZED VIEW {view} TO trail AS\nSELECT\n    {select}\nFROM {source}"
