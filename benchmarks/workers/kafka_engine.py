"""Worker: ClickHouse's own Kafka table engine (chDB) draining the Confluent-framed copy of
the topics into a fresh store's ``trail`` table through materialized views.

Standard library and chDB only (it runs in the contender's side venv): the parent sends
every statement. The clock starts when the views are created (a Kafka table does not
consume before a view reads it) and stops at the first poll that sees every distinct event:
the engine is at-least-once, and a rebalance makes it store some messages twice, so a row
count could reach N while events are still missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import chdb

from benchmarks.procs import emit, worker_args
from benchmarks.registry_stub import RegistryStub

DATABASE = "audit"


# Per consumer of each Kafka table: what it read and how often the group rebalanced it,
# to explain a slow variant (e.g. several consumers per table) rather than guess.
CONSUMERS_SQL = (
    "SELECT table, consumer_id, num_messages_read, num_rebalance_assignments,"
    " num_rebalance_revocations, length(exceptions.text)"
    " FROM system.kafka_consumers ORDER BY table, consumer_id"
)


def _consumers(run: Callable[[str], str]) -> list[dict[str, object]] | str:
    keys = ("table", "consumer", "messages", "assignments", "revocations", "exceptions")
    try:
        return [
            {
                k: (v if k in ("table", "consumer") else int(v))
                for k, v in zip(keys, line.split("\t"), strict=True)
            }
            for line in run(CONSUMERS_SQL).splitlines()
            if line
        ]
    except Exception as error:  # a diagnostic only: never fail the measurement for it
        return f"system.kafka_consumers unreadable: {error}"


def main() -> None:
    args = worker_args()
    expected = int(args["expected"])
    conn = chdb.connect(args["data_dir"])  # type: ignore[no-untyped-call]

    def run(sql: str) -> str:
        return str(conn.query(sql, "TSV")).strip()

    run(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    run(f"USE {DATABASE}")
    for statement in args["trail_ddl"]:
        run(statement)
    with RegistryStub({int(k): v for k, v in args["schemas"].items()}) as stub:
        for statement in args["kafka_tables"]:
            run(statement.replace("{registry_url}", stub.url))
        emit("ready", engine=run("SELECT version()"))
        started = time.time()
        for statement in args["views"]:
            run(statement)
        emit("started", at=started)
        deadline = time.monotonic() + float(args["timeout_s"])
        stored = 0
        while stored < expected and time.monotonic() < deadline:
            time.sleep(0.05)
            stored = int(run("SELECT uniqExact(event_id) FROM trail"))
        finished = time.time()
        consumers = _consumers(run)
        for name in args["view_names"]:
            run(f"DROP VIEW {name}")
        rows, distinct, checksum = run(args["check_sql"]).split("\t")
        emit(
            "result",
            started=started,
            last_insert=finished,
            rows=stored,
            registry_requests=stub.requests,
            consumers=consumers,
            check={"rows": int(rows), "distinct_events": int(distinct), "checksum": int(checksum)},
        )
    conn.close()


if __name__ == "__main__":
    main()
