"""The printed table (medians over runs, ratios, goals) and the JSON results file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from benchmarks.goals import FRESHNESS_P99_S
from benchmarks.stats import median

Row = tuple[str, str, str, str]


def _num(value: float, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _render(rows: list[Row]) -> str:
    """Rows as aligned columns under a header line."""
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def _goal(ok: bool | None, text: str) -> str:
    if ok is None:
        return text
    return f"{text}  {'MET' if ok else 'MISSED'}"


def ingest_rows(section: dict[str, Any]) -> list[Row]:
    """One row per contender (median, each run's rate, ratios to each engine variant),
    then each one's peak RSS on the drain."""
    rates = {k: [r["events_per_s"] for r in v] for k, v in section["runs"].items() if v}
    med = {k: median(v) for k, v in rates.items()}
    described = section.get("contenders", {})
    ratios = section.get("ratios", {})
    rows: list[Row] = []
    for key, values in rates.items():
        label = described.get(key, {}).get("label", key)
        compared = "; ".join(
            f"x{ratio:.2f} vs {engine}" for engine, ratio in ratios.get(key, {}).items()
        )
        spread = ", ".join(_num(r) for r in values)
        rows.append(
            (
                f"ingest {section['events']:,} events: {key} = {label}",
                f"{_num(med[key])} ev/s  [{spread}]",
                compared,
                "",
            )
        )
    for key, why in section.get("failed", {}).items():
        rows.append((f"ingest: {key} FAILED", why, "", ""))
    peaks = section.get("peak_rss_mb", {})
    rows.append(
        (
            "peak RSS on the drain (MB)",
            ", ".join(f"{k} {_num(v)}" for k, v in peaks.items()),
            f"ours idle {_num(section.get('consumer_idle_rss_mb', math.nan))} MB",
            "",
        )
    )
    return rows


def freshness_rows(section: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for rate, measured in section.items():
        lat = measured["send_to_queryable_s"]
        limit = FRESHNESS_P99_S.get(int(rate))
        produced = measured["producer"]["events_per_s"]
        rows.append(
            (
                f"freshness at {int(rate):,}/s (sent {produced:,.0f}/s), send->queryable",
                f"p50 {lat['p50']:.3f} s  p99 {lat['p99']:.3f} s",
                f"{lat['n']:,} samples, {measured['never_seen']} unseen, "
                f"polls {measured['poll_ms_mean']:.0f} ms",
                _goal(lat["p99"] <= limit, f"p99 <= {limit} s") if limit else "",
            )
        )
    return rows


def reads_rows(section: dict[str, Any]) -> list[Row]:
    def line(key: str, label: str, goal: str, limit: float | None) -> Row:
        ms = section[key]["ms"]
        return (
            f"{label} over {section['rows']:,} rows",
            f"p50 {ms['p50']:.1f} ms  p99 {ms['p99']:.1f} ms",
            f"{ms['n']} queries, {section[key]['rows_returned_mean']:.0f} rows each",
            _goal(ms["p99"] <= limit, goal) if limit is not None else "",
        )

    return [
        line("session_read_client", "session trail (as its client)", "p99 <= 20 ms", 20),
        line("session_read_auditor", "session trail (as auditor)", "", None),
        line("subject_export", "subject export", "p99 <= 500 ms", 500),
        line("failed_share_per_day", "failed payment share per day", "", None),
    ]


def api_rows(section: dict[str, Any]) -> list[Row]:
    """Per concurrency: HTTP p50/p99 beside the direct call's, and their ratio."""
    goals = {"1": 10.0, "16": 20.0}
    rows: list[Row] = []
    for level, m in section["concurrency"].items():
        http, direct, ratio = m["http_ms"], m["direct_ms"], m["http_over_direct"]
        limit = goals.get(level)
        rows.append(
            (
                f"GET session trail over HTTP, {level} viewer(s), {section['rows']:,} rows",
                f"p50 {http['p50']:.1f} / p99 {http['p99']:.1f} ms",
                f"direct p50 {direct['p50']:.1f} / p99 {direct['p99']:.1f} ms; "
                f"x{ratio['p50']:.2f} / x{ratio['p99']:.2f}",
                _goal(http["p99"] <= limit, f"p99 <= {limit:.0f} ms") if limit else "",
            )
        )
        one = m["direct_one_connection_ms"]
        rows.append(
            (
                f"  direct, reads on the writer's one connection, {level} viewer(s)",
                f"p50 {one['p50']:.1f} / p99 {one['p99']:.1f} ms",
                f"read pool x{m['read_pool_gain']['p50']:.2f} / x{m['read_pool_gain']['p99']:.2f}",
                "",
            )
        )
    return rows


def producer_rows(section: dict[str, Any]) -> list[Row]:
    rates = {k: median(v) for k, v in section["events_per_s"].items()}
    overhead = section["overhead_pct"]
    return [
        (
            "producer: AuditProducer (validate+encode+send)",
            f"{_num(rates['audit'])} ev/s",
            f"raw {_num(rates['raw'])} ev/s; overhead {overhead:.0f}%",
            _goal(overhead <= 30, "overhead <= 30%"),
        ),
        (
            "producer: AuditProducer, events prebuilt",
            f"{_num(rates['audit_prebuilt'])} ev/s",
            f"overhead {section['overhead_prebuilt_pct']:.0f}%",
            "",
        ),
    ]


def profile_rows(section: dict[str, Any]) -> list[Row]:
    """Per stage: microseconds per stored event (under the profiler) and share of time."""
    rows: list[Row] = [
        (
            f"consumer profile ({section['profiler']}), {section['rows']:,} events",
            f"{section['events_per_s']:,.0f} ev/s profiled",
            f"{section.get('us_per_event', math.nan):,.1f} us per event in all",
            "",
        )
    ]
    for stage in section.get("stages", []):
        rows.append(
            (
                f"  profile: {stage['stage']}",
                f"{stage['us_per_event']:,.1f} us/event",
                f"{100 * stage['share']:.1f}%",
                "",
            )
        )
    return rows


def workers_rows(section: dict[str, Any]) -> list[Row]:
    med = section["medians"]
    spread = ", ".join(f"{r:.2f}" for r in section["ratios"])
    costs = section["costs_us_per_event"]
    cpu = section["cpu_us_per_event"]
    main_side = costs["build_chunks"] + costs["pickle_chunks"] + costs["unpickle_items"]
    return [
        (
            f"ingest {section['events']:,} events: 1 process, decoding in-process",
            f"{med['in_process']:,.0f} ev/s",
            "",
            "",
        ),
        (
            f"ingest {section['events']:,} events: 1 process + {section['workers']} workers",
            f"{med['workers']:,.0f} ev/s",
            f"x{median(section['ratios']):.2f} [{spread}] (same load on both)",
            "",
        ),
        (
            "CPU per event: consumer process (+ workers)",
            f"{cpu['in_process']['consumer']:.0f} us in-process",
            f"{cpu['workers']['consumer']:.0f} us (+ {cpu['workers']['workers']:.0f} us in "
            "workers) with workers",
            "",
        ),
        (
            "per event, in-process: decode + check",
            f"{costs['decode_check']:.1f} us",
            f"with workers the consumer pays {main_side:.1f} us to ship "
            f"(round trip {costs['pool_round_trip']:.1f} us wall)",
            "",
        ),
    ]


def table(results: dict[str, Any]) -> str:
    sections = results["sections"]
    rows: list[Row] = [("measure", "median (runs)", "compared", "goal")]
    builders = {
        "ingest": ingest_rows,
        "workers": workers_rows,
        "freshness": freshness_rows,
        "reads": reads_rows,
        "api": api_rows,
        "producer": producer_rows,
        "profile": profile_rows,
    }
    for name, build in builders.items():
        if name in sections:
            rows.extend(build(sections[name]))
    for name, why in results.get("failed", {}).items():
        rows.append((f"{name}: FAILED", why, "", ""))
    return _render(rows)


def goals_table(goals: list[dict[str, Any]]) -> str:
    """Issue 14's goals: verdict and distance (see ``goals.py``)."""
    rows: list[Row] = [("goal", "measured", "verdict", "by how much")]
    for g in goals:
        verdict = "not measured" if g["met"] is None else "MET" if g["met"] else "MISSED"
        rows.append((g["goal"], g["measured"], verdict, g["margin"]))
    return _render(rows)


def write(results: dict[str, Any], folder: Path, stamp: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return path
