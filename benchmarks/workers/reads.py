"""Worker: grow the one-process ingest store to the read size, then time the readers:
``TrailReader.session_trail`` (as the session's client, and as an auditor),
``TrailReader.subject_rows`` (a subject access export) and, through the analysts' SQL
API (``run_readonly``), an auditor aggregate: the share of failed payment attempts per day.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from audit_trail import wiring
from audit_trail.settings import Settings
from benchmarks.procs import emit, worker_args
from benchmarks.replicate import copy_sql
from benchmarks.stats import percentiles
from ledger import Store
from ledger.access import Viewer
from ledger.reader import SESSION_SQL, TrailReader
from ledger.sql_guard import run_readonly

FAILED_SHARE_SQL = """
SELECT toDate(attempted_at) AS day, count() AS attempts,
       countIf(outcome = 'failed') / count() AS failed_share
FROM v_payment_attempts
GROUP BY day ORDER BY day
"""


def timed(calls: list[Callable[[], Any]]) -> tuple[list[float], list[int]]:
    seconds, sizes = [], []
    for call in calls:
        started = time.perf_counter()
        got = call()
        seconds.append(time.perf_counter() - started)
        sizes.append(len(got))
    return seconds, sizes


def summary(seconds: list[float], sizes: list[int]) -> dict[str, Any]:
    return {
        "ms": {k: v * 1000 if k != "n" else v for k, v in percentiles(seconds).items()},
        "rows_returned_mean": sum(sizes) / max(1, len(sizes)),
    }


def main() -> None:
    args = worker_args()
    settings = Settings()
    with wiring.reader(settings) as reader:
        store = reader.store
        grown = grow(store, int(args["target_rows"]), tuple(args["base_topics"]))
        sessions = store.query(
            "SELECT toString(session_id), anyIf(client_id, isNotNull(client_id)) FROM trail "
            "WHERE family != 'dead_letter' GROUP BY session_id "
            "HAVING isNotNull(anyIf(client_id, isNotNull(client_id))) "
            "ORDER BY cityHash64(session_id) LIMIT {n:UInt32}",
            {"n": 2 * int(args["sessions"])},
        )
        # Disjoint samples: read after the client, the auditor's sessions would be warm
        # (marks and pages cached) and look twice as fast as a first read really is.
        for_client, for_auditor = sessions[: len(sessions) // 2], sessions[len(sessions) // 2 :]
        people = store.query(
            "SELECT s FROM (SELECT DISTINCT arrayJoin(subjects) AS s FROM trail "
            "WHERE s LIKE 'client-%' OR s LIKE 'specialist-%') "
            "ORDER BY cityHash64(s) LIMIT {n:UInt32}",
            {"n": int(args["exports"])},
        )
        warm = 3
        for sid, client in for_client[:warm]:
            reader.session_trail(sid, Viewer("client", client))
        auditor = Viewer("auditor")
        as_client = timed(
            [
                partial(reader.session_trail, sid, Viewer("client", client))
                for sid, client in for_client
            ]
        )
        as_auditor = timed([partial(reader.session_trail, sid, auditor) for sid, _ in for_auditor])
        breakdown = session_breakdown(reader, store, for_client)
        for (subject,) in people[:warm]:
            list(reader.subject_rows(subject))
        exports = timed([partial(export, reader, subject) for (subject,) in people])
        run_readonly(store, FAILED_SHARE_SQL)

        def aggregate() -> list[tuple[Any, ...]]:
            return run_readonly(store, FAILED_SHARE_SQL).rows

        aggregates = timed([aggregate] * int(args["aggregates"]))
        emit(
            "result",
            **grown,
            session_read_client=summary(*as_client),
            session_read_auditor=summary(*as_auditor),
            session_read_breakdown=breakdown,
            subject_export=summary(*exports),
            failed_share_per_day=summary(*aggregates),
            api={
                "session": "ledger.reader.TrailReader.session_trail",
                "export": "ledger.reader.TrailReader.subject_rows",
                "aggregate": "ledger.sql_guard.run_readonly over v_payment_attempts",
            },
        )


def export(reader: TrailReader, subject: str) -> list[dict[str, Any]]:
    return list(reader.subject_rows(subject))


def session_breakdown(reader: TrailReader, store: Store, sessions: list[Any]) -> dict[str, Any]:
    """The parts of one session read, timed alone: the engine's floor for any query
    (``SELECT 1``), the row query as TrailReader sends it (every column; a party's
    took-part check runs on its rows), and the same with one column."""
    narrow = SESSION_SQL.replace("* EXCEPT (prev_hash, row_hash, chain_version)", "event_id")
    if narrow == SESSION_SQL:
        raise RuntimeError("SESSION_SQL changed its column list: update the breakdown")
    parts: dict[str, list[Callable[[], Any]]] = {
        "select_1": [partial(store.query, "SELECT 1") for _ in sessions],
        "row_query_all_columns": [
            partial(store.query_dicts, SESSION_SQL, {"sid": sid, "auditor": False})
            for sid, _ in sessions
        ],
        "row_query_event_id_only": [
            partial(store.query, narrow, {"sid": sid, "auditor": False}) for sid, _ in sessions
        ],
    }
    return {name: summary(*timed(calls))["ms"] for name, calls in parts.items()}


def grow(store: Store, target: int, base_topics: tuple[str, ...]) -> dict[str, Any]:
    (base, days), *_ = store.query(
        "SELECT count(), dateDiff('day', min(toDate(occurred_at)), max(toDate(occurred_at))) + 1 "
        "FROM trail"
    )
    copies = max(0, math.ceil(target / int(base)) - 1)
    started = time.perf_counter()
    for copy in range(1, copies + 1):
        store.execute(copy_sql(copy, int(days), base_topics))
    filled = time.perf_counter() - started
    settled = time.perf_counter()
    while time.perf_counter() - settled < 300:
        if not int(store.query("SELECT count() FROM system.merges")[0][0]):
            break
        time.sleep(1)
    (rows, parts), *_ = store.query(
        "SELECT (SELECT count() FROM trail), "
        "(SELECT count() FROM system.parts WHERE table = 'trail' AND active "
        "AND database = currentDatabase())"
    )
    return {
        "rows": int(rows),
        "base_rows": int(base),
        "copies": copies,
        "fill_seconds": filled,
        "merge_wait_seconds": time.perf_counter() - settled,
        "active_parts": int(parts),
    }


if __name__ == "__main__":
    main()
