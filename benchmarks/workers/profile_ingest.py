"""Worker: our consumer in-process under a profiler, stopped once it has stored ``events``
rows; reports time per bucket and per stage (microseconds per stored event) and writes the
full profile next to the results.

pyinstrument (sampling, 1 ms) when installed: each sample's time goes to the innermost
bucket around it. Otherwise cProfile: each bucket's cumulative time (the Arrow build is
taken out of the chDB insert around it); cProfile's per-call cost inflates Python-heavy
buckets, so prefer pyinstrument.
"""

from __future__ import annotations

import cProfile
import importlib.util
import io
import pstats
import time
from pathlib import Path

from audit_trail import wiring
from audit_trail.settings import Settings
from benchmarks.procs import emit, worker_args
from benchmarks.profile_buckets import BUCKETS, bucket_of, fold, shares, stage_costs
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


def with_pyinstrument(service: IngestService, out: Path) -> tuple[str, dict[str, float]]:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    service.run()
    profiler.stop()
    out.write_text(profiler.output_text(unicode=False, color=False))
    session = profiler.last_session
    root = session.root_frame() if session is not None else None
    return "pyinstrument", fold(root) if root is not None else {}


def with_cprofile(service: IngestService, out: Path) -> tuple[str, dict[str, float]]:
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(service.run)
    whole = time.perf_counter() - started
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(60)
    out.write_text(text.getvalue())
    totals: dict[str, float] = {}
    for (path, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        label = bucket_of(path, function)
        if label is not None:
            totals[label] = totals.get(label, 0.0) + row[3]
    labels = {name: label for _, name, label, _stage in BUCKETS}
    arrow, insert = labels["arrow_stream"], labels["_insert"]
    if insert in totals and arrow in totals:
        totals[insert] -= totals[arrow]
    totals["other"] = max(0.0, whole - sum(totals.values()))
    return "cProfile (cumulative)", totals


def _warm_imports() -> None:
    """pyarrow imports pandas on the first insert (~2.5 s on a loaded machine): a one-off
    cost of the process, not of any event, so it is paid before the profiler starts."""
    if importlib.util.find_spec("pandas") is not None:
        importlib.import_module("pandas")


def main() -> None:
    args = worker_args()
    _warm_imports()
    settings = Settings()
    trail = wiring.store(settings, create=True)
    metrics = StopAt(int(args["events"]))
    service = wiring.ingest_service(settings, trail, metrics)
    metrics.service = service
    out = Path(args["output"])
    started = time.perf_counter()
    if importlib.util.find_spec("pyinstrument") is not None:
        profiler, totals = with_pyinstrument(service, out)
    else:
        profiler, totals = with_cprofile(service, out)
    seconds = time.perf_counter() - started
    rows = service.stats.rows
    emit(
        "result",
        profiler=profiler,
        rows=rows,
        seconds=seconds,
        events_per_s=rows / seconds,
        us_per_event=1e6 * seconds / max(1, rows),
        stages=stage_costs(totals, rows),
        buckets=shares(totals),
        profile_text=str(out),
    )
    trail.close()


if __name__ == "__main__":
    main()
