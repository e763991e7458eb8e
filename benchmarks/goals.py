"""Issue 14's goals, judged on one run's sections: met, missed or not measured, and by how
much (the distance to the goal, so a miss says how far there is to go)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.contenders import (
    ONE_CONSUMER_ENGINES,
    OURS_ONE,
    OURS_TWO_PROCESSES,
    OURS_WORKERS,
    TWO_CONSUMER_ENGINE,
    labels,
)

SPEEDUP = 2.0  # ours / engine, both throughput goals
FRESHNESS_P99_S = {5_000: 1.0, 1_000: 0.5}  # rate (events/s) -> p99 limit


@dataclass(frozen=True)
class Goal:
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run
    margin: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def verdict(self) -> str:
        return "not measured" if self.met is None else "met" if self.met else "missed"


def _speedup(name: str, ours: float, engine: float, against: str) -> Goal:
    ratio = ours / engine
    met = ratio >= SPEEDUP
    if met:
        margin = f"x{ratio / SPEEDUP:.2f} of the goal"
    elif ratio > 0:
        margin = f"needs x{SPEEDUP / ratio:.2f} more throughput (x{ratio:.2f} of {against})"
    else:
        margin = "stored nothing"
    return Goal(name, f"x{ratio:.2f} ({ours:,.0f} vs {engine:,.0f} ev/s)", met, margin)


def throughput_goals(ingest: Mapping[str, Any]) -> list[Goal]:
    medians: Mapping[str, float] = ingest.get("medians", {})
    names = labels()
    one = f"ours, 1 process >= {SPEEDUP}x the engine at its best, 1 consumer"
    two = f"ours with workers >= {SPEEDUP}x the engine, 2 consumers"
    found: list[Goal] = []
    engines = {k: medians[k] for k in ONE_CONSUMER_ENGINES if medians.get(k)}
    if OURS_ONE in medians and engines:
        best = max(engines, key=lambda k: engines[k])
        found.append(_speedup(one, medians[OURS_ONE], engines[best], names[best]))
    else:
        found.append(Goal(one, "-", None, "ingest not run"))
    engine_2c = medians.get(TWO_CONSUMER_ENGINE)
    if engine_2c and OURS_WORKERS in medians:
        found.append(_speedup(two, medians[OURS_WORKERS], engine_2c, "the engine"))
    elif engine_2c and OURS_TWO_PROCESSES in medians:
        stand_in = medians[OURS_TWO_PROCESSES] / engine_2c
        found.append(
            Goal(
                two,
                "workers not built yet (AUDIT_INGEST_WORKERS, part 4)",
                None,
                f"stand-in, ours 2 processes (2 stores): x{stand_in:.2f}",
            )
        )
    else:
        found.append(Goal(two, "-", None, "ingest not run"))
    return found


def freshness_goals(freshness: Mapping[str, Any]) -> list[Goal]:
    found = []
    for rate, limit in FRESHNESS_P99_S.items():
        name = f"freshness p99 <= {limit} s at {rate:,}/s"
        measured = freshness.get(str(rate))
        if measured is None:
            found.append(Goal(name, "-", None, "freshness not run"))
            continue
        p99 = float(measured["send_to_queryable_s"]["p99"])
        met = p99 <= limit
        gap = f"{abs(limit - p99):.2f} s {'under' if met else 'over'}"
        found.append(Goal(name, f"p99 {p99:.2f} s", met, f"{gap} (x{p99 / limit:.2f})"))
    return found


def memory_goal(ingest: Mapping[str, Any]) -> Goal:
    """Our one-process consumer's peak RSS against the smallest of the engine processes on
    the same drain (the strictest reading of "the engine's process")."""
    name = "consumer peak RSS draining the backlog <= the engine's process"
    rss: Mapping[str, float] = ingest.get("peak_rss_mb", {})
    engines = {k: v for k, v in rss.items() if k.startswith("engine_")}
    ours = rss.get(OURS_WORKERS, rss.get(OURS_ONE))
    if ours is None or not engines:
        return Goal(name, "-", None, "ingest not run")
    smallest = min(engines, key=lambda k: engines[k])
    limit = engines[smallest]
    met = ours <= limit
    return Goal(
        name,
        f"{ours:,.0f} MB vs {limit:,.0f} MB ({labels()[smallest]})",
        met,
        f"{abs(ours - limit):,.0f} MB {'under' if met else 'over'} (x{ours / limit:.2f})",
    )


def evaluate(sections: Mapping[str, Any]) -> list[Goal]:
    ingest = sections.get("ingest", {})
    return [
        *throughput_goals(ingest),
        *freshness_goals(sections.get("freshness", {})),
        memory_goal(ingest),
    ]
