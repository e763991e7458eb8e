"""One benchmark run, section by section, on the local broker and the embedded engine."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from audit_trail.stack import kafka_up
from benchmarks import (
    contender_env,
    fill,
    freshness,
    goals,
    ingest,
    ingest_section,
    ingest_workers,
    report,
    topics,
)
from benchmarks.plan import Plan, Sizes
from benchmarks.procs import Worker, WorkerFailed
from benchmarks.stats import median

SECTIONS = ("ingest", "workers", "reads", "api", "freshness", "producer", "profile")
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Options:
    scale: float
    runs: int
    sections: tuple[str, ...]
    bootstrap: str | None
    work_dir: Path | None
    keep_work: bool
    kafka_engine_python: Path | None
    rows: int | None = None  # stored rows for reads and api (default 10M x scale)


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def timed(name: str, timings: dict[str, float], step: Callable[[], Any]) -> Any:
    log(f"{name} ...")
    started = time.perf_counter()
    value = step()
    timings[name] = time.perf_counter() - started
    log(f"{name} done in {timings[name]:.0f} s")
    return value


def attempt(
    name: str, timings: dict[str, float], results: dict[str, Any], step: Callable[[], Any]
) -> None:
    """A section that may fail alone: its failure is one line in the log and in the JSON
    (``failed``), and the sections measured before and after it are kept."""
    try:
        results["sections"][name] = timed(name, timings, step)
    except WorkerFailed as failure:
        first = str(failure).splitlines()[0]
        results.setdefault("failed", {})[name] = first
        log(f"{name} FAILED: {first} (the worker's log is in the work dir's logs/)")


def run(options: Options) -> dict[str, Any]:
    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    bootstrap = options.bootstrap or os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or kafka_up()
    work = options.work_dir or Path(tempfile.mkdtemp(prefix="audit-trail-bench-"))
    plan = Plan(
        stamp.lower(),
        options.scale,
        Sizes.for_scale(options.scale, options.runs, options.rows),
        bootstrap,
        work,
    )
    logs = work / "logs"
    timings: dict[str, float] = {}
    results: dict[str, Any] = {
        "plan": plan.describe(),
        "environment": environment(),
        "sections": {},
        "timings_s": timings,
    }
    sections = results["sections"]
    ingest_layout = plan.topics.layout("ingest")
    confluent = plan.topics.confluent(ingest_layout)
    fresh_layouts = {r: plan.topics.layout(f"fresh-{r}") for r in plan.sizes.freshness_rates}
    producer_layout = plan.topics.layout("producer")
    log(f"bootstrap {bootstrap}; work dir {work}; scale {options.scale}")
    try:
        topics.create(
            bootstrap, [ingest_layout, confluent, *fresh_layouts.values(), producer_layout]
        )
        needs_fill = {"ingest", "workers", "reads", "api", "profile"} & set(options.sections)
        if needs_fill:
            with_copy = "ingest" in options.sections
            sections["fill"] = timed(
                "fill topics",
                timings,
                lambda: fill.fill(
                    bootstrap,
                    ingest_layout,
                    confluent if with_copy else None,
                    plan.sizes.ingest_events,
                    logs,
                ),
            )
        store_for_reads: Path | None = None
        if "ingest" in options.sections:
            python = options.kafka_engine_python or contender_env.contender_python()
            results["environment"]["kafka_engine_chdb"] = contender_env.KAFKA_ENGINE_CHDB
            sections["ingest"] = timed(
                "ingest",
                timings,
                lambda: ingest_section.run_section(plan, confluent, python, logs, log),
            )
            ours = sections["ingest"]["runs"].get("ours_1p")
            store_for_reads = Path(ours[-1]["data_dir"]) if ours else None
        if "workers" in options.sections:
            # One process against the same process with a decoding worker per core.
            cores = len(os.sched_getaffinity(0))
            sections["workers"] = timed(
                "workers",
                timings,
                lambda: ingest_workers.section(plan, logs, max(2, cores), log),
            )
        if {"reads", "api"} & set(options.sections) and store_for_reads is None:
            store_for_reads = Path(
                timed(
                    "ingest for reads",
                    timings,
                    lambda: ingest.ours_one(
                        bootstrap,
                        ingest_layout,
                        plan.sizes.ingest_events,
                        work / "reads-store",
                        logs,
                    ),
                )["data_dir"]
            )
        if "reads" in options.sections:
            attempt("reads", timings, results, lambda: reads_section(plan, store_for_reads, logs))
        if "api" in options.sections:
            attempt("api", timings, results, lambda: api_section(plan, store_for_reads, logs))
        if "freshness" in options.sections:
            attempt(
                "freshness",
                timings,
                results,
                lambda: freshness.measure(bootstrap, fresh_layouts, plan.sizes, work, logs),
            )
        if "producer" in options.sections:
            attempt(
                "producer", timings, results, lambda: producer_section(plan, producer_layout, logs)
            )
        if "profile" in options.sections:
            attempt("profile", timings, results, lambda: profile_section(plan, stamp, logs))
    finally:
        deleted = topics.delete_run_topics(bootstrap, plan.topics.prefix)
        log(f"deleted {len(deleted)} topics of this run")
        if not options.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    timings["total"] = time.perf_counter() - started
    results["goals"] = [g.as_dict() for g in goals.evaluate(sections)]
    path = report.write(results, RESULTS, stamp)
    print()
    print(report.table(results))
    print()
    print(report.goals_table(results["goals"]))
    print()
    log(f"total {timings['total'] / 60:.1f} min; results in {path}")
    return results


def reads_section(plan: Plan, store: Path, logs: Path) -> dict[str, Any]:
    layout = plan.topics.layout("ingest")
    sizes = plan.sizes
    env = {"AUDIT_DATA_DIR": str(store), "KAFKA_BOOTSTRAP_SERVERS": plan.bootstrap}
    done = Worker(
        "reads",
        "reads",
        {
            "target_rows": sizes.read_rows,
            "base_topics": [layout.session, layout.transaction],
            "sessions": sizes.read_sessions,
            "exports": sizes.read_exports,
            "aggregates": sizes.read_aggregates,
        },
        logs,
        env=env,
    ).wait(timeout_s=3600)
    return {**done.last("result"), "peak_rss_mb": done.peak_rss_mb}


def api_section(plan: Plan, store: Path | None, logs: Path) -> dict[str, Any]:
    if store is None:
        raise RuntimeError("the api section needs the ingest store")
    layout = plan.topics.layout("ingest")
    sizes = plan.sizes
    env = {"AUDIT_DATA_DIR": str(store), "KAFKA_BOOTSTRAP_SERVERS": plan.bootstrap}
    done = Worker(
        "api",
        "api_reads",
        {
            "target_rows": sizes.read_rows,
            "base_topics": [layout.session, layout.transaction],
            "reads": sizes.api_reads,
            "concurrency": list(sizes.api_concurrency),
            "lever_sessions": 150,
            "logs": str(logs),
        },
        logs,
        env=env,
    ).wait(timeout_s=3600)
    return {**done.last("result"), "peak_rss_mb": done.peak_rss_mb}


def producer_section(plan: Plan, layout: Any, logs: Path) -> dict[str, Any]:
    done = Worker(
        "producer",
        "producer_bench",
        {
            "bootstrap": plan.bootstrap,
            "topics": asdict(layout),
            "events": plan.sizes.producer_events,
            "runs": plan.sizes.runs,
        },
        logs,
    ).wait(timeout_s=3600)
    result = done.last("result")
    rates = {k: median(v) for k, v in result["events_per_s"].items()}
    return {
        **result,
        "overhead_pct": 100 * (rates["raw"] / rates["audit"] - 1),
        "overhead_prebuilt_pct": 100 * (rates["raw"] / rates["audit_prebuilt"] - 1),
    }


def profile_section(plan: Plan, stamp: str, logs: Path) -> dict[str, Any]:
    layout = plan.topics.layout("ingest")
    output = RESULTS / f"{stamp}-profile.txt"
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = ingest.consumer_env(
        plan.bootstrap, layout, plan.work_dir / "profile-store", f"bench-profile-{stamp.lower()}"
    )
    done = Worker(
        "profile",
        "profile_ingest",
        {"events": plan.sizes.profile_events, "output": str(output)},
        logs,
        env=env,
    ).wait(timeout_s=3600)
    return {**done.last("result"), "peak_rss_mb": done.peak_rss_mb}


def git_state() -> dict[str, Any]:
    """Which code was measured (read-only git queries)."""
    repo = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "uncommitted_files": len(changed.splitlines())}


def environment() -> dict[str, Any]:
    return {
        "git": git_state(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "chdb": version("chdb"),
        "chdb_core": version("chdb-core"),
        "sections": list(SECTIONS),
    }
