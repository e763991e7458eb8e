"""The ingest section: every contender of ``contenders.py`` drains the same filled topics,
round after round, each into a fresh store and a fresh consumer group; then medians, the
ratio of each of ours to each engine variant, and whether the stores hold the same events.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from audit_trail.stack import TopicLayout
from benchmarks import ingest
from benchmarks.contenders import ENGINES, OURS, Engine, Ours, for_round
from benchmarks.plan import Plan
from benchmarks.procs import WorkerFailed
from benchmarks.stats import median


def _drain(
    contender: Ours | Engine,
    plan: Plan,
    layout: TopicLayout,
    confluent: TopicLayout,
    python: Path,
    run_dir: Path,
    logs: Path,
) -> dict[str, Any]:
    events = plan.sizes.ingest_events
    name = contender.key.replace("_", "-")
    where = run_dir / name
    if isinstance(contender, Engine):
        return ingest.kafka_engine(
            plan.bootstrap, confluent, events, where, logs, python, contender.settings, name=name
        )
    if contender.processes == 1:
        return ingest.ours_one(
            plan.bootstrap, layout, events, where, logs, name=name, env=contender.env
        )
    return ingest.ours_two(
        plan.bootstrap, layout, events, where, logs, name=name, env=contender.env
    )


def run_section(
    plan: Plan, confluent: TopicLayout, python: Path, logs: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    layout = plan.topics.layout("ingest")
    runs: dict[str, list[dict[str, Any]]] = {}
    failed: dict[str, str] = {}
    keep = "ours_1p"  # its last store is kept: the reads grow it
    for i in range(plan.sizes.runs):
        run_dir = plan.work_dir / f"ingest-{i}"
        for contender in for_round(last=i == plan.sizes.runs - 1):
            log(f"ingest run {i + 1}/{plan.sizes.runs}: {contender.label}")
            previous = runs.setdefault(contender.key, [])
            try:
                result = _drain(contender, plan, layout, confluent, python, run_dir, logs)
            except WorkerFailed as failure:
                # One contender that stalls (e.g. the engine's consumers rebalancing
                # without end) is one line; the others are still measured.
                failed[contender.key] = str(failure).splitlines()[0]
                log(f"  FAILED: {failed[contender.key]}")
                continue
            if contender.key == keep:
                for old in previous:
                    shutil.rmtree(old["data_dir"], ignore_errors=True)
            else:
                shutil.rmtree(run_dir / contender.key.replace("_", "-"), ignore_errors=True)
            previous.append(result)
            log(f"  {result['events_per_s']:,.0f} ev/s, peak RSS {result['peak_rss_mb']:,.0f} MB")
    checks = {k: v[-1]["check"]["checksum"] for k, v in runs.items() if v}
    baseline = ingest.ours_baseline(plan.bootstrap, layout, plan.work_dir / "baseline", logs)
    shutil.rmtree(plan.work_dir / "baseline", ignore_errors=True)
    medians = {k: median([r["events_per_s"] for r in v]) for k, v in runs.items() if v}
    return {
        "events": plan.sizes.ingest_events,
        "consumer_idle_rss_mb": baseline,
        "runs": runs,
        "contenders": describe(),
        "same_content": len(set(checks.values())) == 1,
        "checksums": checks,
        "medians": medians,
        "peak_rss_mb": {k: median([r["peak_rss_mb"] for r in v]) for k, v in runs.items() if v},
        "ratios": ratios(medians),
        "failed": failed,
    }


def describe() -> dict[str, dict[str, Any]]:
    """What each contender was (into the JSON: a result names its settings)."""
    found: dict[str, dict[str, Any]] = {}
    for ours in OURS:
        found[ours.key] = {"label": ours.label, "processes": ours.processes, "env": dict(ours.env)}
    for engine in ENGINES:
        found[engine.key] = {
            "label": engine.label,
            "consumers_per_table": engine.consumers,
            "settings": dict(engine.settings),
        }
    return found


def ratios(medians: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """ours / engine, for every measured pair: ``ratios[ours_key][engine_key]``."""
    engines = [e.key for e in ENGINES if medians.get(e.key)]
    return {
        o.key: {e: medians[o.key] / medians[e] for e in engines} for o in OURS if o.key in medians
    }
