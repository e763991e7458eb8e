"""``python -m benchmarks.per_event``: two per-event costs of the consumer, old against new,
side by side in one run.

- the value check: building the pydantic model (``event_from_avro``, what ``to_item`` did)
  against the rules read from it (``check_avro_values``, what it does now);
- the row hash: the v1 JSON canonical form against the v2 binary one, with and without
  the sha256 over it (``ledger.canonical``).

Simulated events (every type, as the simulator mixes them), decoded as the consumer
decodes them. Rounds alternate old and new and the best round counts (CPU time of this
process), so a busy machine slows both alike. Prints microseconds per event and the
ratio old/new.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ledger import trail_row
from ledger.canonical import V1_JSON, V2_BINARY, form_bytes
from producers.simulation import simulate
from schemas import AvroCodec
from schemas.events.checks import check_avro_values
from schemas.events.parsing import event_from_avro

DAY = datetime(2026, 11, 2, tzinfo=UTC)


def _samples(count: int) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    codec = AvroCodec(uuids_as_text=True)
    records, rows = [], []
    for offset, event in enumerate(simulate(count, 7, DAY)):
        decoded = codec.decode(codec.encode(event.family, event.to_avro()))
        records.append(decoded.record)
        row = trail_row(
            decoded.record,
            family=decoded.writer.family,
            schema_version=decoded.writer.version,
            topic="bench",
            partition=0,
            offset=offset,
            ingested_at=DAY,
        )
        rows.append(row)
    return records, rows


def _best(work: Callable[[], object], items: int, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        work()
        times.append((time.process_time() - start) / items * 1e6)
    return times


def compare(
    old: Callable[[Any], object], new: Callable[[Any], object], items: Sequence[Any], rounds: int
) -> tuple[float, float]:
    """Best µs per item of each, rounds interleaved."""
    best_old = best_new = float("inf")
    for _ in range(rounds):
        best_old = min(best_old, *_best(lambda: [old(i) for i in items], len(items), 1))
        best_new = min(best_new, *_best(lambda: [new(i) for i in items], len(items), 1))
    return best_old, best_new


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.per_event", description=__doc__)
    parser.add_argument("--events", type=int, default=5000, help="simulated events per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of each (best counts)")
    args = parser.parse_args(argv)
    records, rows = _samples(args.events)
    zero = bytes(32)
    lines = [
        (
            "value check (model / rules)",
            *compare(event_from_avro, check_avro_values, records, args.rounds),
        ),
        (
            "canonical bytes (v1 JSON / v2 binary)",
            *compare(
                lambda r: form_bytes(r, V1_JSON),
                lambda r: form_bytes(r, V2_BINARY),
                rows,
                args.rounds,
            ),
        ),
        (
            "row hash (v1 / v2, with sha256)",
            *compare(
                lambda r: hashlib.sha256(zero + form_bytes(r, V1_JSON)).hexdigest(),
                lambda r: hashlib.sha256(zero + form_bytes(r, V2_BINARY)).hexdigest(),
                rows,
                args.rounds,
            ),
        ),
    ]
    print(
        f"{'per event, CPU µs (best of ' + str(args.rounds) + ')':<40} {'old':>7} {'new':>7} ratio"
    )
    for name, old, new in lines:
        print(f"{name:<40} {old:7.2f} {new:7.2f} {old / new:5.2f}x")


if __name__ == "__main__":
    main()
