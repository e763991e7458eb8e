"""Worker: our consumer, built exactly as ``audit-trail consume`` builds it (settings from
the environment, ``wiring.store`` + ``wiring.ingest_service``), draining the topics.

Modes: ``until_idle`` (= ``--until-idle``) or, with ``wait_for_go``, start on the
parent's "go" and run until SIGTERM (two processes in one group: the parent stops both
once together they have stored everything).
"""

from __future__ import annotations

import resource
import signal
import time
from types import FrameType

from audit_trail import wiring
from audit_trail.settings import Settings
from benchmarks.procs import emit, wait_for_parent, worker_args
from benchmarks.trail_check import check
from consumers import IngestMetrics


class ReportingMetrics(IngestMetrics):
    """The consumer's own metrics, plus a progress report to the parent per stored batch."""

    def __init__(self) -> None:
        super().__init__()
        self.stored_rows = 0
        self.last_batch_at = 0.0

    def batch_stored(self, topic: str, rows: int, seconds: float) -> None:
        super().batch_stored(topic, rows, seconds)
        self.stored_rows += rows
        self.last_batch_at = time.time()
        emit("stored", rows=self.stored_rows, at=self.last_batch_at)


def main() -> None:
    args = worker_args()
    settings = Settings()
    trail = wiring.store(settings, create=True)
    metrics = ReportingMetrics()
    service = wiring.ingest_service(settings, trail, metrics)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        service.stop()

    signal.signal(signal.SIGTERM, stop)
    emit("ready")
    if args.get("baseline"):
        # Everything built, nothing consumed: the process's floor (Python, chDB, clients).
        emit("result", started=0.0, last_insert=0.0, rows=0, batches=0, dead_letters=0)
        trail.close()
        return
    if args.get("wait_for_go"):
        wait_for_parent()
    started = time.time()
    emit("started", at=started)
    service.run(until_idle=bool(args.get("until_idle")))
    emit(
        "result",
        started=started,
        last_insert=metrics.last_batch_at,
        rows=service.stats.rows,
        batches=service.stats.batches,
        dead_letters=service.stats.dead_letters,
        # CPU seconds, load-independent: this process, and its decoding workers (joined
        # when the run closed its pool).
        cpu_s=_cpu(resource.RUSAGE_SELF),
        cpu_children_s=_cpu(resource.RUSAGE_CHILDREN),
        check=check(trail),
    )
    trail.close()


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
