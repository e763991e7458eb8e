"""Worker: our consumer running in-process (a thread), and a poller thread that finds when
sampled events become queryable.

The parent relays the producer's samples on stdin, one JSON line each:
``{"id": event_id, "sid": session_id, "sent": wall-clock send time}``, then ``end``.
The poller asks the store, on a connection of its own, for the oldest pending samples
(at most ``MAX_ASKED``): ``WHERE session_id IN (...) AND event_id IN (...)``, a
primary-key read of a few sessions. Between polls it sleeps ``poll_ms``, or three times
the last poll's duration if that is longer, so polling takes at most a quarter of one
core; send -> queryable is the time the answering poll returned minus the send time.
chDB allows one process per store directory, so the poller lives in the consumer's
process.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from audit_trail import wiring
from audit_trail.settings import Settings
from benchmarks.procs import emit, worker_args
from consumers import IngestMetrics
from ledger import EmbeddedStore

MAX_ASKED = 64
FOUND_SQL = (
    "SELECT toString(event_id) FROM trail "
    "WHERE session_id IN {sids:Array(UUID)} AND event_id IN {ids:Array(UUID)}"
)


class Samples:
    def __init__(self) -> None:
        self.pending: dict[str, tuple[str, float]] = {}
        self.ended = threading.Event()
        self.received = 0
        self._lock = threading.Lock()

    def read(self) -> None:
        for line in sys.stdin:
            if line.strip() == "end":
                break
            sample = json.loads(line)
            with self._lock:
                self.pending[sample["id"]] = (sample["sid"], float(sample["sent"]))
                self.received += 1
        self.ended.set()

    def snapshot(self, limit: int | None = None) -> dict[str, tuple[str, float]]:
        """The pending samples, oldest first (``limit`` of them)."""
        with self._lock:
            oldest = sorted(self.pending.items(), key=lambda item: item[1][1])
        return dict(oldest[:limit])

    def resolve(self, ids: list[str]) -> None:
        with self._lock:
            for event_id in ids:
                self.pending.pop(event_id, None)


def main() -> None:
    args = worker_args()
    settings = Settings()
    trail = wiring.store(settings, create=True)
    service = wiring.ingest_service(settings, trail, IngestMetrics())
    consuming = threading.Thread(target=service.run, name="ingest", daemon=True)
    consuming.start()
    deadline = time.monotonic() + 60
    while len(service.consumer.assignment()) < int(args["partitions"]):
        if time.monotonic() > deadline:
            raise SystemExit("the consumer got no assignment within 60 s")
        time.sleep(0.05)
    poller_store = EmbeddedStore(settings.data_dir, settings.database)
    samples = Samples()
    threading.Thread(target=samples.read, name="samples", daemon=True).start()
    emit("ready")

    poll_s = float(args["poll_ms"]) / 1000
    latencies: list[float] = []
    poll_seconds: list[float] = []
    give_up: float | None = None
    busy = 0.0
    started = time.monotonic()
    while True:
        pending = samples.snapshot(MAX_ASKED)
        if samples.ended.is_set():
            give_up = give_up or time.monotonic() + float(args["drain_timeout_s"])
            if not pending or time.monotonic() > give_up:
                break
        if pending:
            asked = time.monotonic()
            rows = poller_store.query(
                FOUND_SQL,
                {"sids": sorted({sid for sid, _ in pending.values()}), "ids": sorted(pending)},
            )
            answered = time.time()
            busy = time.monotonic() - asked
            poll_seconds.append(busy)
            found = [str(r[0]) for r in rows]
            latencies.extend(answered - pending[event_id][1] for event_id in found)
            samples.resolve(found)
        time.sleep(max(poll_s, 3 * busy))

    service.stop()
    consuming.join(timeout=60)
    result: dict[str, Any] = {
        "samples": samples.received,
        "latencies_s": latencies,
        "never_seen": len(samples.snapshot()),
        "polls": len(poll_seconds),
        "poll_ms_mean": 1000 * sum(poll_seconds) / max(1, len(poll_seconds)),
        "poll_busy_share": sum(poll_seconds) / (time.monotonic() - started),
        "rows": service.stats.rows,
    }
    emit("result", **result)
    poller_store.close()
    trail.close()


if __name__ == "__main__":
    main()
