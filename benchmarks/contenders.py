"""Who drains the ingest backlog: our consumer in its shapes and ClickHouse's Kafka engine at
each of its settings, one entry each, run one after another on the same filled topics.

Our consumer is configured only through the environment `audit-trail consume` reads, so a
variant of it is an entry with an ``env`` override. Once the worker processes are merged
(issue 14, part 4: ``AUDIT_INGEST_WORKERS``), measuring them is one more line in ``OURS``:

    Ours("ours_workers", "ours, 1 process + 2 workers", env={"AUDIT_INGEST_WORKERS": "2"}),

and the goals (``goals.py``) compare it with the two-consumer engine by that key. (Before
that setting exists the line is refused: an override must name a real setting.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from audit_trail.settings import Settings

# Our consumer's batch age (the default of AUDIT_BATCH_MAX_AGE_MS, read from Settings so
# the two stay in step): the engine flushes a block at least as often.
_OUR_AGE_MS = int(Settings.model_fields["batch_max_age_ms"].default)
BATCH_AGE: Mapping[str, int | str] = {"kafka_flush_interval_ms": _OUR_AGE_MS}

# What ClickHouse's Kafka-engine reference gives for throughput, written out explicitly
# (engine 25.8 accepts all three; the values are its own system.settings defaults):
# blocks of up to max_insert_block_size rows (kafka_max_block_size), polls of up to
# max_block_size messages (kafka_poll_max_batch_size), and a flush interval of
# stream_flush_interval_ms, so that blocks fill up instead of being cut by time. The one
# change from "as today" is therefore the flush interval. One consumer per table (topic).
THROUGHPUT: Mapping[str, int | str] = {
    "kafka_max_block_size": 1_048_449,
    "kafka_poll_max_batch_size": 65_409,
    "kafka_flush_interval_ms": 7_500,
}

# The reference's lever when one consumer is not enough: more consumers per table, each
# with its own thread that flushes its own blocks in parallel (at most one per core: two).
TWO_CONSUMERS: Mapping[str, int | str] = {
    **THROUGHPUT,
    "kafka_num_consumers": 2,
    "kafka_thread_per_consumer": 1,
}


def setting_names() -> set[str]:
    """Every environment variable ``Settings`` reads (README "Configuration")."""
    return {"KAFKA_BOOTSTRAP_SERVERS"} | {f"AUDIT_{n.upper()}" for n in Settings.model_fields}


@dataclass(frozen=True)
class Ours:
    """Our consumer as `audit-trail consume --until-idle` runs it, plus ``env``."""

    key: str
    label: str
    processes: int = 1  # 2: two processes in one group, each with its own store
    env: Mapping[str, str] = field(default_factory=dict)
    every_run: bool = True  # False: measured once, in the last round

    def __post_init__(self) -> None:
        # Settings ignore unknown variables: a misspelt override would silently measure
        # the default consumer under the variant's name.
        unknown = sorted(set(self.env) - setting_names())
        if unknown:
            raise ValueError(f"{self.key}: {', '.join(unknown)} is not a consumer setting")
        if self.processes not in (1, 2):
            raise ValueError(f"{self.key}: processes must be 1 or 2, not {self.processes}")


@dataclass(frozen=True)
class Engine:
    """ClickHouse's Kafka engine (chDB 4.0.2) with these table settings."""

    key: str
    label: str
    settings: Mapping[str, int | str]
    every_run: bool = True

    @property
    def consumers(self) -> int:
        return int(self.settings.get("kafka_num_consumers", 1))


OURS: tuple[Ours, ...] = (
    Ours("ours_1p", "ours, 1 process"),
    Ours("ours_2p", "ours, 2 processes (2 stores)", processes=2, every_run=False),
)

ENGINES: tuple[Engine, ...] = (
    Engine("engine_batch_age", f"Kafka engine, flush {_OUR_AGE_MS} ms (our batch age)", BATCH_AGE),
    Engine("engine_throughput", "Kafka engine, throughput settings, 1 consumer", THROUGHPUT),
    Engine(
        "engine_2c",
        "Kafka engine, throughput settings, 2 consumers, thread each",
        TWO_CONSUMERS,
        every_run=False,
    ),
)

# Which measurements the goals compare (issue 14): the engine's best one-consumer variant
# is whichever of these measured faster in the run, so "best" is measured, not assumed.
ONE_CONSUMER_ENGINES = ("engine_batch_age", "engine_throughput")
TWO_CONSUMER_ENGINE = "engine_2c"
OURS_ONE = "ours_1p"
OURS_WORKERS = "ours_workers"
OURS_TWO_PROCESSES = "ours_2p"  # the stand-in while OURS_WORKERS is not measured


def labels() -> dict[str, str]:
    return {c.key: c.label for c in (*OURS, *ENGINES)}


def for_round(last: bool) -> list[Ours | Engine]:
    """The contenders of one round, ours first, each engine after (the same order every
    round, so each sees the same broker state)."""
    return [c for c in (*OURS, *ENGINES) if c.every_run or last]
