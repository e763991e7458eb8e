"""Worker: a session's trail over HTTP against the direct ``TrailReader`` call, same run,
same store, same process.

Grows the ingest store to the read size (as the reads section does), then, for 1 and 16
concurrent viewers, times ``TrailReader.session_trail`` called directly (one thread per
viewer) and ``GET /v1/sessions/{id}/trail`` through the app `serve --no-ingest` runs
(FastAPI on uvicorn, bearer-token check, JSON encoding, request logging as `serve`
configures it), served from a thread of this process on the same store. The HTTP clients
run in a process of their own (``api_client``), one keep-alive connection and one token
per viewer, so their CPU is not this process's GIL. Each measurement reads its own
sessions (disjoint samples: a session read twice is warm and looks faster).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry

from audit_trail import logs, wiring
from audit_trail.api import ApiContext, create_app
from audit_trail.settings import Settings
from audit_trail.tokens import hs256_key, mint
from benchmarks.procs import Worker, emit, worker_args
from benchmarks.stats import percentiles
from benchmarks.workers.reads import grow
from ledger import EmbeddedStore
from ledger.access import Viewer
from ledger.reader import SESSION_SQL, TrailReader
from ledger.store import Store

SECRET = "benchmark-only-secret-" + "x" * 32
KID = "bench"
Plan = list[list[tuple[str, str, str]]]  # per viewer: (session id, client id, token)


def _ms(seconds: list[float]) -> dict[str, float]:
    return {k: v * 1000 if k != "n" else v for k, v in percentiles(seconds).items()}


def direct(reader: TrailReader, viewers: Plan) -> list[float]:
    """Each viewer a thread, reading its sessions one after another; all start together."""
    start = threading.Barrier(len(viewers))
    seconds: list[float] = []
    lock = threading.Lock()

    def viewer(reads: list[tuple[str, str, str]]) -> None:
        mine: list[float] = []
        start.wait()
        for sid, client, _token in reads:
            began = time.perf_counter()
            reader.session_trail(sid, Viewer("client", client))
            mine.append(time.perf_counter() - began)
        with lock:
            seconds.extend(mine)

    threads = [threading.Thread(target=viewer, args=(v,)) for v in viewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seconds


def over_http(url: str, viewers: Plan, logs_dir: Path) -> list[float]:
    done = Worker(
        f"api-client-{len(viewers)}",
        "api_client",
        {"url": url, "viewers": [[[sid, tok] for sid, _c, tok in v] for v in viewers]},
        logs_dir,
    ).wait(timeout_s=1800)
    result = done.last("result")
    if result["failed"]:
        raise RuntimeError(f"HTTP reads failed: {result['failed'][:3]}")
    seconds: list[float] = result["seconds"]
    return seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(settings: Settings, reader: TrailReader, store: Store) -> tuple[str, Any]:
    """The app `serve --no-ingest` runs, on a thread of this process; its URL."""
    context = ApiContext(
        reader=reader,
        store=store,
        keys={KID: hs256_key(KID, SECRET)},
        topics=[settings.topic_session, settings.topic_transaction],
        policy=wiring.retention_policy(settings),
        registry=CollectorRegistry(),
        readiness=lambda: [],
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_config=None)
    )
    threading.Thread(target=server.run, name="api", daemon=True).start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the API did not start within 60 s")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


WARM_READS = 8


def sessions_needed(concurrency: tuple[int, ...], reads: int) -> int:
    return sum(3 * (reads // c) * c + WARM_READS for c in concurrency)


def plans(sessions: list[tuple[str, str]], concurrency: tuple[int, ...], reads: int) -> Any:
    """Disjoint session samples: per concurrency, one for direct and one for HTTP, each
    split over the viewers (every read with the token of that session's client), and a
    few reads to warm code paths."""
    now = time.time()
    pool = iter(sessions)

    def plan(viewers: int, total: int) -> Plan:
        per_viewer = max(1, total // viewers)
        return [
            [
                (sid, client, mint(role="client", sub=client, ttl_s=7200, kid=KID,
                                   algorithm="HS256", signing_key=SECRET.encode(), now=now))
                for sid, client in (next(pool) for _ in range(per_viewer))
            ]
            for _ in range(viewers)
        ]  # fmt: skip

    return {
        c: {
            "warm": plan(1, WARM_READS),
            "direct": plan(c, reads),
            "http": plan(c, reads),
            "direct_one_connection": plan(c, reads),
        }
        for c in concurrency
    }


# The row query as TrailReader sends it, and with settings that are cheap to apply.
LEVERS = {
    "as_is": SESSION_SQL,
    # Keep decompressed blocks in memory: a long-lived process reads hot sessions again.
    "uncompressed_cache": SESSION_SQL + " SETTINGS use_uncompressed_cache = 1",
    # A range read of a few granules gains nothing from a pool of threads per query.
    "one_thread": SESSION_SQL + " SETTINGS max_threads = 1",
}


def lever_row_query(store: Store, sessions: list[tuple[str, str]]) -> dict[str, Any]:
    """The session row query alone, each variant on its own first-read sessions, then the
    same sessions again (warm)."""
    share = len(sessions) // len(LEVERS)
    out: dict[str, Any] = {}
    for i, (name, sql) in enumerate(LEVERS.items()):
        sample = sessions[i * share : (i + 1) * share]
        for read in ("first", "again"):
            seconds = []
            for sid, _ in sample:
                began = time.perf_counter()
                store.query_dicts(sql, {"sid": sid, "auditor": False})
                seconds.append(time.perf_counter() - began)
            out[f"{name}_{read}"] = _ms(seconds)
    return out


def main() -> None:
    args = worker_args()
    logs.configure(default_level="INFO")  # as `serve`: one access-log line per request
    settings = Settings()
    concurrency = tuple(int(c) for c in args["concurrency"])
    reads = int(args["reads"])
    logs_dir = Path(args["logs"])
    with wiring.reader(settings) as reader:
        store = reader.store
        grown = grow(store, int(args["target_rows"]), tuple(args["base_topics"]))
        lever_n = int(args["lever_sessions"])
        wanted = sessions_needed(concurrency, reads) + len(LEVERS) * lever_n
        sessions = [
            (str(sid), str(client))
            for sid, client in store.query(
                "SELECT toString(session_id), anyIf(client_id, isNotNull(client_id)) FROM trail "
                "WHERE family != 'dead_letter' GROUP BY session_id "
                "HAVING isNotNull(anyIf(client_id, isNotNull(client_id))) "
                "ORDER BY cityHash64(session_id) LIMIT {n:UInt32}",
                {"n": wanted},
            )
        ]
        if len(sessions) < wanted:
            raise RuntimeError(f"{len(sessions)} sessions stored, {wanted} needed: more rows")
        by_level = plans(sessions[: wanted - len(LEVERS) * lever_n], concurrency, reads)
        url, server = start_api(settings, reader, store)
        # The lever beside it: the same store opened again with reads on the writer's one
        # connection, as before the read pool (ledger.embedded_pool).
        single = EmbeddedStore(settings.data_dir, settings.database, create=False,
                               read_connections=0)  # fmt: skip
        single_reader = wiring.trail_reader(settings, single)
        measured: dict[str, Any] = {}
        try:
            for level in concurrency:
                runs = by_level[level]
                direct(reader, runs["warm"])  # a few reads first: code paths, not sessions
                over_http(url, runs["warm"], logs_dir)
                d = _ms(direct(reader, runs["direct"]))
                h = _ms(over_http(url, runs["http"], logs_dir))
                one = _ms(direct(single_reader, runs["direct_one_connection"]))
                measured[str(level)] = {
                    "direct_ms": d,
                    "http_ms": h,
                    "http_over_direct": {k: h[k] / d[k] for k in ("p50", "p99")},
                    "direct_one_connection_ms": one,
                    "read_pool_gain": {k: one[k] / d[k] for k in ("p50", "p99")},
                }
                emit("progress", level=level, **measured[str(level)])
        finally:
            server.should_exit = True
            single.close()
        levers = lever_row_query(store, sessions[wanted - len(LEVERS) * lever_n : wanted])
        emit(
            "result",
            **grown,
            reads_per_measurement=reads,
            concurrency=measured,
            row_query_levers=levers,
            api={
                "http": "GET /v1/sessions/{id}/trail (audit_trail.api, uvicorn), client tokens",
                "direct": "ledger.reader.TrailReader.session_trail",
            },
        )


if __name__ == "__main__":
    main()
