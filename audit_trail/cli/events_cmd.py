"""`audit-trail produce` and `audit-trail simulate`: put events on Kafka."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from audit_trail.producing import producer
from audit_trail.settings import Settings
from producers import produce_file, produce_lines
from producers.simulation import schema_version_of
from producers.simulation import simulate as simulate_events
from schemas import InvalidInput


def _print_counts(counts: Counter[str]) -> None:
    width = max((len(t) for t in counts), default=10)
    for event_type, n in sorted(counts.items()):
        typer.echo(f"  {event_type:<{width}}  {n:>8}")
    typer.echo(f"  {'total':<{width}}  {sum(counts.values()):>8}")


def produce(
    file: Annotated[str, typer.Option("--file", help="JSON Lines file, or - for standard input")],
    derive_event_id: Annotated[
        bool,
        typer.Option(
            "--derive-event-id",
            help="Lines without event_id get one derived from their content (UUIDv5), "
            "so sending the file again stores nothing twice",
        ),
    ] = False,
) -> None:
    """Send the events of a JSON Lines file (one event per line, each with its event_id,
    the idempotency key). Bad lines are reported with their line number and reason and
    are not sent; exits 1 if any line was bad."""
    path = None if file == "-" else Path(file)
    if path is not None and not path.is_file():
        raise InvalidInput(f"--file {file}: no such file (use - for standard input)")
    with producer(Settings()) as kafka:
        report = (
            produce_lines(sys.stdin, kafka, derive_event_id=derive_event_id)
            if path is None
            else produce_file(path, kafka, derive_event_id=derive_event_id)
        )
    for bad in report.bad:
        typer.echo(f"bad {bad}", err=True)
    typer.echo("sent:")
    _print_counts(report.sent)
    if not report.ok:
        typer.echo(f"{len(report.bad)} bad line(s) not sent", err=True)
        raise typer.Exit(1)


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def simulate(
    sessions: Annotated[int, typer.Option(min=1, help="How many sessions to play")] = 200,
    seed: Annotated[int, typer.Option(help="Same seed and start, same events")] = 1,
    start: Annotated[
        datetime | None, typer.Option(help="Day start, UTC (default: today 00:00 UTC)")
    ] = None,
) -> None:
    """Play a realistic platform day into Kafka and print how many events of each type."""
    day = (start or _today()).replace(tzinfo=UTC)
    counts: Counter[str] = Counter()
    with producer(Settings()) as kafka, tqdm(unit=" events", desc="simulate") as bar:
        for event in simulate_events(sessions, seed, day):
            kafka.send(event, schema_version_of(event))
            counts[event.event_type] += 1
            bar.update()
    typer.echo(f"sent {sum(counts.values())} events of {sessions} sessions (seed {seed}):")
    _print_counts(counts)
