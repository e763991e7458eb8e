"""Worker: ClickHouse's own Kafka table engine (in chDB) draining the Confluent-framed copy
of the topics into a fresh store's ``trail`` table through materialized views.

The clock starts when the views are created (a Kafka table does not consume before a
view reads it) and stops at the first poll of ``count()`` that sees every event.
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.kafka_engine_sql import kafka_table, materialized_view
from benchmarks.procs import emit, worker_args
from benchmarks.registry_stub import RegistryStub
from benchmarks.trail_check import check
from ledger import EmbeddedStore
from schemas import SESSION_FAMILY, TRANSACTION_FAMILY, default_registry


def main() -> None:
    args = worker_args()
    expected = int(args["expected"])
    store = EmbeddedStore(Path(args["data_dir"]))
    store.migrate()
    registry = default_registry()
    topics = {SESSION_FAMILY: args["session_topic"], TRANSACTION_FAMILY: args["transaction_topic"]}
    with RegistryStub() as stub:
        settings = {**args.get("settings", {}), "format_avro_schema_registry_url": stub.url}
        for family, topic in topics.items():
            schema = registry.latest(family).source
            store._execute(
                kafka_table(
                    f"kafka_{family}",
                    schema,
                    brokers=args["bootstrap"],
                    topic=topic,
                    group=args["group"],
                    settings=settings,
                )
            )
        emit("ready")
        started = time.time()
        for family in topics:
            schema = registry.latest(family).source
            store._execute(materialized_view(f"mv_{family}", f"kafka_{family}", family, schema))
        emit("started", at=started)
        deadline = time.monotonic() + float(args["timeout_s"])
        stored = 0
        while stored < expected and time.monotonic() < deadline:
            time.sleep(0.05)
            stored = int(store.query("SELECT count() FROM trail")[0][0])
        finished = time.time()
        for family in topics:
            store._execute(f"DROP VIEW mv_{family}")
        emit(
            "result",
            started=started,
            last_insert=finished,
            rows=stored,
            registry_requests=stub.requests,
            check=check(store),
        )
    store.close()


if __name__ == "__main__":
    main()
