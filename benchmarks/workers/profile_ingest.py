"""Worker: our consumer in-process under a sampling profiler (pyinstrument), stopped once
it has stored ``events`` rows; reports time per bucket and writes the full profile."""

from __future__ import annotations

import time
from pathlib import Path

from pyinstrument import Profiler

from audit_trail import wiring
from audit_trail.settings import Settings
from benchmarks.procs import emit, worker_args
from benchmarks.profile_buckets import fold, shares
from consumers import IngestMetrics, IngestService


class StopAt(IngestMetrics):
    def __init__(self, rows: int) -> None:
        super().__init__()
        self.target = rows
        self.stored = 0
        self.service: IngestService | None = None

    def batch_stored(self, topic: str, rows: int, seconds: float) -> None:
        super().batch_stored(topic, rows, seconds)
        self.stored += rows
        if self.stored >= self.target and self.service is not None:
            self.service.stop()


def main() -> None:
    args = worker_args()
    settings = Settings()
    trail = wiring.store(settings)
    metrics = StopAt(int(args["events"]))
    service = wiring.ingest_service(settings, trail, metrics)
    metrics.service = service
    profiler = Profiler(interval=0.001)
    started = time.perf_counter()
    profiler.start()
    service.run()
    profiler.stop()
    seconds = time.perf_counter() - started
    session = profiler.last_session
    root = session.root_frame()
    out = Path(args["output"])
    out.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    emit(
        "result",
        rows=service.stats.rows,
        seconds=seconds,
        events_per_s=service.stats.rows / seconds,
        profiled_seconds=root.time if root is not None else 0.0,
        buckets=shares(fold(root)) if root is not None else [],
        profile_text=str(out),
    )
    trail.close()


if __name__ == "__main__":
    main()
