"""Worker: our consumer, built exactly as ``audit-trail consume`` builds it (settings from
the environment, ``wiring.store`` + ``wiring.ingest_service``), draining the topics.

Modes: ``until_idle`` (= ``--until-idle``) or, with ``wait_for_go``, start on the
parent's "go" and run until SIGTERM (two processes in one group: the parent stops both
once together they have stored everything).
"""

from __future__ import annotations

import signal
import time
from types import FrameType

from audit_trail import wiring
from audit_trail.settings import Settings
from benchmarks.counting_store import CountingStore
from benchmarks.procs import emit, wait_for_parent, worker_args
from benchmarks.trail_check import check
from consumers import IngestMetrics


def main() -> None:
    args = worker_args()
    settings = Settings()
    trail = wiring.store(settings)
    last_emit = [0.0]

    def on_stored(rows: int, at: float) -> None:
        # Every insert is a progress report (a few hundred per million rows).
        emit("stored", rows=rows, at=at)
        last_emit[0] = at

    counting = CountingStore(trail, on_stored)
    service = wiring.ingest_service(settings, counting, IngestMetrics())

    def stop(_signum: int, _frame: FrameType | None) -> None:
        service.stop()

    signal.signal(signal.SIGTERM, stop)
    emit("ready")
    if args.get("wait_for_go"):
        wait_for_parent()
    started = time.time()
    emit("started", at=started)
    service.run(until_idle=bool(args.get("until_idle")))
    emit(
        "result",
        started=started,
        last_insert=last_emit[0],
        rows=service.stats.rows,
        batches=service.stats.batches,
        dead_letters=service.stats.dead_letters,
        check=check(trail),
    )
    trail.close()


if __name__ == "__main__":
    main()
