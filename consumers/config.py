"""The ingest service's knobs, frozen: built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestConfig:
    topics: tuple[str, ...]
    dead_letter_topic: str
    group_id: str = "audit-trail-ingest"
    # Batches are stored, all partitions' together, at whichever comes first: this many
    # rows read over all partitions, or one batch's oldest row waiting this long (bounds
    # memory, insert size and freshness).
    batch_max_rows: int = 5000
    batch_max_age_s: float = 0.25
    poll_timeout_s: float = 0.2
    max_poll_records: int = 5000
    # Decode and check records in this many worker processes (0: in the consumer's own
    # process), in chunks of at most chunk_rows records of one partition per IPC trip.
    workers: int = 0
    chunk_rows: int = 500
    # Dead-letter guard: stop instead of dead-lettering a bad deploy in silence.
    dead_letter_max_consecutive: int = 200
    dead_letter_max_ratio: float = 0.5
    dead_letter_ratio_window: int = 1000
    # A message whose event_id was stored this recently is recorded as a duplicate
    # (docs/ingest.md, "Idempotency": what a longer window costs).
    idempotency_window_days: int = 30
    # Write a chain checkpoint per partition at most this often.
    checkpoint_every_s: float = 60.0
    # Store outage: back off between these bounds, forever (never skip, never commit).
    retry_initial_s: float = 0.2
    retry_max_s: float = 10.0
    # Broker calls that may wait for an absent broker (commits, offsets): bounded, so a
    # stop is never stuck behind them. A stop tries once more to store, within this.
    commit_timeout_s: float = 5.0
    shutdown_timeout_s: float = 5.0
    # Lag, progress line and partition identity checks, this often; a progress line
    # at most this often.
    watch_every_s: float = 5.0
    progress_every_s: float = 30.0
    # A member holding no partition while no member of the group holds any, this long,
    # leaves and joins again (consumers.membership).
    assignment_patience_s: float = 30.0

    def __post_init__(self) -> None:
        if self.batch_max_rows < 1 or self.batch_max_age_s < 0:
            raise ValueError("batch_max_rows must be >= 1 and batch_max_age_s >= 0")
        if self.workers < 0 or self.chunk_rows < 1:
            raise ValueError("workers must be >= 0 and chunk_rows >= 1")
        if not 0 < self.dead_letter_max_ratio <= 1:
            raise ValueError("dead_letter_max_ratio must be in (0, 1]")
        if not 7 <= self.idempotency_window_days <= 365:
            # event_ids keeps an id 400 days (migration 0012): a year and a margin.
            raise ValueError("idempotency_window_days must be 7..365")
