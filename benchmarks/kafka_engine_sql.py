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
from benchmarks.confluent import registry_schemas
from benchmarks.trail_check import CHECK_SQL
from ledger import migrations
from ledger.columns import COLUMNS, Column
from ledger.retention import RetentionPolicy
from schemas import default_registry

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
    "chain_version": "toUInt8(1)",  # the column's default: no hash to say the form of
}


def _expression(column: Column, family: str, version: int, flat: list[FlatColumn]) -> str:
    name = column.name
    if name in _DIRECT:
        return _DIRECT[name]
    if name == "family":
        return f"'{family}'"
    if name == "schema_version":
        # The fill writes every event with its family's latest schema (AvroCodec.encode);
        # the Confluent header's schema id is not a column ClickHouse exposes.
        return f"toUInt16({version})"
    for prefix, record in (("device_", "device.Device."), ("network_", "network.Network.")):
        if name.startswith(prefix):
            return f"`{record}{name[len(prefix) :]}`"
    sources = [c.quoted for c in flat if c.path.startswith("payload.") and c.field == name]
    if not sources:
        quoted = column.type.replace("'", "\\'")
        return f"CAST(NULL, '{quoted}')"  # a typed NULL: the view's column needs a type
    return sources[0] if len(sources) == 1 else f"coalesce({', '.join(sources)})"


REGISTRY_URL = "{registry_url}"  # the worker puts its registry stub's URL here


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
    every = {**settings, "format_avro_schema_registry_url": REGISTRY_URL}
    extra = "".join(
        f",\n    {key} = {value if isinstance(value, int) else repr(value)}"
        for key, value in every.items()
    )
    return (
        f"CREATE TABLE {table}\n(\n    {columns}\n)\nENGINE = Kafka\nSETTINGS\n"
        f"    kafka_broker_list = '{brokers}',\n"
        f"    kafka_topic_list = '{topic}',\n"
        f"    kafka_group_name = '{group}',\n"
        f"    kafka_format = 'AvroConfluent'{extra}"
    )


def materialized_view(
    view: str, source: str, family: str, schema: Mapping[str, Any], version: int
) -> str:
    flat = flat_columns(schema)
    select = ",\n    ".join(f"{_expression(c, family, version, flat)} AS {c.name}" for c in COLUMNS)
    return f"CREATE MATERIALIZED VIEW {view} TO trail AS\nSELECT\n    {select}\nFROM {source}"


_TRAIL_DDL = ("CREATE TABLE IF NOT EXISTS trail", "ALTER TABLE trail ")


def trail_ddl() -> list[str]:
    """The ``trail`` table exactly as the project's migrations and retention build it
    (columns, order key, materialized ``subjects``, bloom indexes, TTL). Views and other
    tables are left out: ingest never touches them (and engine 25.8 lacks view comments)."""
    statements = [
        statement
        for migration in migrations.available()
        if "embedded" in migration.backends
        for statement in migration.statements()
        if statement.startswith(_TRAIL_DDL)
    ]
    ttl = RetentionPolicy().ttl_sql()
    return [*statements, f"ALTER TABLE trail MODIFY TTL {ttl}"]


def worker_args(
    *,
    bootstrap: str,
    topics: Mapping[str, str],
    group: str,
    data_dir: str,
    expected: int,
    timeout_s: float,
    settings: Mapping[str, int | str],
) -> dict[str, Any]:
    """Everything ``workers.kafka_engine`` needs, as plain statements (it imports no project
    code: it runs under another chDB)."""
    registry = default_registry()
    tables, views, names = [], [], []
    for family, topic in topics.items():
        latest = registry.latest(family)
        schema = latest.source
        tables.append(
            kafka_table(
                f"kafka_{family}",
                schema,
                brokers=bootstrap,
                topic=topic,
                group=group,
                settings=settings,
            )
        )
        views.append(
            materialized_view(f"mv_{family}", f"kafka_{family}", family, schema, latest.version)
        )
        names.append(f"mv_{family}")
    return {
        "data_dir": data_dir,
        "expected": expected,
        "timeout_s": timeout_s,
        "trail_ddl": trail_ddl(),
        "kafka_tables": tables,
        "views": views,
        "view_names": names,
        "schemas": registry_schemas(registry),
        "check_sql": CHECK_SQL,
    }
