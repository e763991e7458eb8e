"""What one benchmark run does: sizes (scaled), topic names, where work files go."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from audit_trail.stack import TopicLayout

PARTITIONS = 4  # the project's default (AUDIT_TOPIC_PARTITIONS)


def scaled(base: int, scale: float, floor: int) -> int:
    return max(floor, math.ceil(base * scale))


@dataclass(frozen=True)
class Sizes:
    ingest_events: int
    freshness_rates: tuple[int, ...]  # events per second; one measurement each
    freshness_seconds: float
    freshness_sample_every: int
    read_rows: int
    read_sessions: int  # session reads measured
    read_exports: int
    read_aggregates: int
    api_reads: int  # session reads per measurement (per concurrency, direct and HTTP each)
    api_concurrency: tuple[int, ...]  # concurrent viewers, one measurement each
    producer_events: int
    profile_events: int
    runs: int  # repetitions of ingest and producer measurements (median reported)

    @classmethod
    def for_scale(cls, scale: float, runs: int, rows: int | None = None) -> Sizes:
        """``rows``: the stored rows for reads, instead of 10M x ``scale``."""
        return cls(
            ingest_events=scaled(1_000_000, scale, 5_000),
            freshness_rates=(5_000, 1_000),
            freshness_seconds=max(10.0, 60.0 * scale),
            freshness_sample_every=50,
            read_rows=rows if rows is not None else scaled(10_000_000, scale, 50_000),
            read_sessions=300,
            read_exports=60,
            read_aggregates=30,
            api_reads=320,
            api_concurrency=(1, 16),
            producer_events=scaled(60_000, scale, 5_000),
            profile_events=scaled(200_000, scale, 5_000),
            runs=runs,
        )


@dataclass(frozen=True)
class Topics:
    """A run's own topics: nothing else reads or writes them; deleted at the end."""

    prefix: str

    def layout(self, name: str) -> TopicLayout:
        return TopicLayout(
            f"{self.prefix}.{name}.session",
            f"{self.prefix}.{name}.transaction",
            f"{self.prefix}.{name}.dead-letter",
        )

    def confluent(self, layout: TopicLayout) -> TopicLayout:
        """The Confluent-framed copy of a layout's topics (the Kafka engine's input)."""
        return TopicLayout(
            f"{layout.session}.confluent",
            f"{layout.transaction}.confluent",
            f"{layout.dead_letter}.confluent",
        )


@dataclass(frozen=True)
class Plan:
    run_id: str
    scale: float
    sizes: Sizes
    bootstrap: str
    work_dir: Path
    topics: Topics = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "topics", Topics(f"bench.{self.run_id}"))

    def describe(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "scale": self.scale,
            "sizes": asdict(self.sizes),
            "bootstrap": self.bootstrap,
            "partitions": PARTITIONS,
        }
