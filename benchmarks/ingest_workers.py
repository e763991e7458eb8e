"""Decoding workers against one process, side by side in one run: the same consumer
(``audit-trail consume --until-idle``) drains the same backlog into a fresh store, once
with ``AUDIT_INGEST_WORKERS=0`` and once with N workers, alternating run by run, so the
machine's other load falls on both alike. Reported as a ratio.

Where the time goes is measured apart, in this process, on the same kind of records:
decoding a chunk, pickling it to a worker and its items back, and one real pool's round
trip. Those say what a worker saves the consumer process and what shipping costs it.
"""

from __future__ import annotations

import pickle
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from benchmarks import ingest
from benchmarks.plan import Plan
from benchmarks.stats import median
from consumers.chunks import InProcess, chunks_of
from consumers.workers import WorkerPool
from producers.simulation import simulate
from schemas import AvroCodec

DAY = datetime(2026, 11, 2, tzinfo=UTC)


def section(plan: Plan, logs: Path, workers: int, log: Callable[[str], None]) -> dict[str, Any]:
    layout = plan.topics.layout("ingest")
    events = plan.sizes.ingest_events
    runs: dict[str, list[dict[str, Any]]] = {"in_process": [], "workers": []}
    for i in range(plan.sizes.runs):
        for key, count in (("in_process", 0), ("workers", workers)):
            data_dir = plan.work_dir / f"workers-{i}" / key
            result = ingest.ours_one(
                plan.bootstrap,
                layout,
                events,
                data_dir,
                logs,
                name=f"ours-1p-{count}w",
                env={"AUDIT_INGEST_WORKERS": str(count)},
            )
            shutil.rmtree(data_dir, ignore_errors=True)
            runs[key].append(result)
            log(f"  run {i + 1}, {count} workers: {result['events_per_s']:,.0f} ev/s")
    ratios = [
        w["events_per_s"] / p["events_per_s"]
        for p, w in zip(runs["in_process"], runs["workers"], strict=True)
    ]
    checks = {r["check"]["checksum"] for rs in runs.values() for r in rs}
    # CPU per event (microseconds): what the machine's other load does not change.
    cpu = {
        key: {
            "consumer": median([r["cpu_s"] for r in rs]) * 1e6 / events,
            "workers": median([r["cpu_children_s"] for r in rs]) * 1e6 / events,
        }
        for key, rs in runs.items()
    }
    return {
        "events": events,
        "workers": workers,
        "runs": runs,
        "ratios": ratios,
        "same_content": len(checks) == 1,
        "medians": {k: median([r["events_per_s"] for r in v]) for k, v in runs.items()},
        "cpu_us_per_event": cpu,
        "costs_us_per_event": costs(workers),
    }


def costs(workers: int, count: int = 4000, size: int = 500) -> dict[str, float]:
    """Microseconds per event of each part of shipping records to workers."""
    codec = AvroCodec(uuids_as_text=True)
    encoder = AvroCodec()
    records = [
        SimpleNamespace(
            offset=i,
            timestamp=1_700_000_000_000,
            key=e.key,
            value=encoder.encode(e.family, e.to_avro()),
            headers=[],
        )
        for i, e in enumerate(list(simulate(count // 10 + 50, 5, DAY))[:count])
    ]
    chunks = chunks_of("t", 0, records, size, DAY, 4)
    n = len(records)
    decoded = InProcess(codec).decode(chunks)
    shipped = [pickle.dumps(c, pickle.HIGHEST_PROTOCOL) for c in chunks]
    returned = [pickle.dumps(items, pickle.HIGHEST_PROTOCOL) for items in decoded]
    pool = WorkerPool(workers, codec)
    try:
        pool.decode(chunks)  # started and warm (pydantic builds its validators lazily)
        pool.decode(chunks)
        result = {
            "decode_check": _per_event(lambda: InProcess(codec).decode(chunks), n),
            "build_chunks": _per_event(lambda: chunks_of("t", 0, records, size, DAY, 4), n),
            "pickle_chunks": _per_event(lambda: [pickle.dumps(c, -1) for c in chunks], n),
            "unpickle_chunks": _per_event(lambda: [pickle.loads(b) for b in shipped], n),
            "pickle_items": _per_event(lambda: [pickle.dumps(i, -1) for i in decoded], n),
            "unpickle_items": _per_event(lambda: [pickle.loads(b) for b in returned], n),
            "pool_round_trip": _per_event(lambda: pool.decode(chunks), n),
        }
    finally:
        pool.close()
    result["bytes_out_per_event"] = sum(map(len, shipped)) / n
    result["bytes_back_per_event"] = sum(map(len, returned)) / n
    return result


def _per_event(step: Callable[[], object], events: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - started)
    return best * 1e6 / events
