"""Trail rows from simulated events, shared by tests and benchmarks; the benchmarks never
import the tests (they run where the tests are not installed)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from producers.simulation import simulate
from producers.simulation.trail_rows import decoded_rows
from schemas import AvroCodec

ROOT = Path(__file__).resolve().parents[2]
DAY = datetime(2026, 11, 2, tzinfo=UTC)


def test_rows_are_built_from_the_decoded_avro_bytes_at_consecutive_offsets() -> None:
    events = list(islice(simulate(5, 1, DAY), 30))
    at = datetime(2026, 11, 3, tzinfo=UTC)
    rows = decoded_rows(events, "topic-a", partition=3, first_offset=100, ingested_at=at)
    assert [r.kafka_offset for r in rows] == list(range(100, 130))
    assert {(r.kafka_topic, r.kafka_partition, r.ingested_at) for r in rows} == {("topic-a", 3, at)}
    codec = AvroCodec()
    for event, row in zip(events, rows, strict=True):
        writer = codec.decode(codec.encode(event.family, event.to_avro())).writer
        assert (str(row.event_id), row.family, row.schema_version) == (
            str(event.event_id),
            writer.family,
            writer.version,
        )


def test_no_benchmark_module_imports_the_tests() -> None:
    bad = []
    for path in sorted((ROOT / "benchmarks").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            bad += [f"{path.name}: {n}" for n in names if n == "tests" or n.startswith("tests.")]
    assert bad == []
