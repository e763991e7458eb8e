"""`audit-trail trail`, `payments`, `sql`, `export`, `erase`: reading the trail, and the
data subject's rights."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from audit_trail import wiring
from audit_trail.settings import Settings
from ledger.access import Viewer
from ledger.access import subject_id as check_subject_id
from ledger.erasure import BILLING_NOTE, erase_subject
from ledger.sql_guard import MAX_ROWS, run_readonly
from ledger.subjects import require_seen
from schemas import InvalidInput
from schemas.catalogue import shown_fields

Output = Literal["table", "json"]
FORMATS = ("table", "json")


def _format(name: str, allowed: tuple[str, ...] = FORMATS) -> str:
    # Checked before any store is opened: an unknown format is a usage error, not ignored.
    if name not in allowed:
        raise InvalidInput(f"--format {name[:40]!r}: use {' or '.join(allowed)}")
    return name


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _print(rows: list[dict[str, Any]], output: str) -> None:
    if output == "json":
        typer.echo(json.dumps(rows, default=_plain, indent=2))
        return
    for row in rows:
        at = row.pop("occurred_at", "")
        kind = row.pop("event_type", "")
        rest = " ".join(f"{k}={_plain(v)}" for k, v in row.items())
        typer.echo(f"{_plain(at):<32} {kind:<26} {rest}")
    typer.echo(f"({len(rows)} rows)")


_SHOWN = shown_fields()  # the envelope's, then each event type's (the catalogue)


def trail(
    session_id: str,
    as_: Annotated[str, typer.Option("--as", help="auditor, client:ID or specialist:ID")],
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """A session's trail as ROLE may see it (participants only; auditors everything)."""
    _format(output)
    viewer = Viewer.parse(as_)
    with wiring.reader(Settings()) as reader:
        rows = reader.session_trail(session_id, viewer)
    if output == "table":
        rows = [{k: r[k] for k in _SHOWN if k in r} for r in rows]
    _print(rows, output)


def payments(
    as_: Annotated[str, typer.Option("--as", help="auditor, client:ID or specialist:ID")],
    booking: Annotated[str | None, typer.Option(help="Booking id")] = None,
    transaction: Annotated[str | None, typer.Option(help="Transaction id")] = None,
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """The payment attempts, outcomes and refunds of one booking or transaction."""
    if (booking is None) == (transaction is None):
        raise InvalidInput("give one of --booking or --transaction")
    _format(output)
    viewer = Viewer.parse(as_)
    with wiring.reader(Settings()) as reader:
        rows = reader.payment_trail(viewer, booking_id=booking, transaction_id=transaction)
    _print(rows, output)


def sql(
    query: Annotated[
        str, typer.Argument(help="One SELECT, DESCRIBE or EXPLAIN of the views; - reads stdin")
    ],
) -> None:
    """Run one read-only query of the analyst views; writes, DDL and other tables are refused.

    Output is tab-separated, one header line; tabs, newlines and backslashes inside
    values are escaped (\\t \\n \\\\), NULL is \\N."""
    text = sys.stdin.read() if query == "-" else query
    trail_store = wiring.read_store(Settings())
    try:
        result = run_readonly(trail_store, text)
    finally:
        trail_store.close()
    typer.echo("\t".join(_tsv(name) for name in result.columns))
    for row in result.rows:
        typer.echo("\t".join("\\N" if v is None else _tsv(_plain(v)) for v in row))
    shown = f"({len(result.rows)} rows"
    if result.truncated:
        shown += f"; TRUNCATED: the query returns more than {MAX_ROWS}, add a LIMIT or narrow it"
    typer.echo(shown + ")", err=True)


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _tsv(value: Any) -> str:
    return str(value).translate(_TSV_ESCAPES)


def export(
    subject_id: str,
    output: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    out: Annotated[Path | None, typer.Option("--out", help="File (default: stdout)")] = None,
) -> None:
    """Everything the trail holds about one person, decrypted, machine-readable."""
    _format(output, ("jsonl", "csv"))
    check_subject_id(subject_id)
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        raise InvalidInput(f"--out {out}: not a file in an existing directory")
    with wiring.reader(Settings()) as reader:
        rows = list(reader.subject_rows(subject_id))
    try:
        stream = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    except OSError as exc:
        raise InvalidInput(f"--out {out}: cannot write it: {exc.strerror}") from exc
    try:
        _write(rows, output, stream)
    finally:
        if out:
            stream.close()
    typer.echo(f"{len(rows)} events about {subject_id}. {BILLING_NOTE}", err=True)


def _write(rows: Iterable[dict[str, Any]], output: str, stream: Any) -> None:
    rows = list(rows)
    if output == "jsonl":
        for row in rows:
            stream.write(json.dumps(row, default=_plain, sort_keys=True) + "\n")
        return
    names = sorted({k for row in rows for k in row})
    writer = csv.DictWriter(stream, fieldnames=names)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _plain(v) if v is not None else "" for k, v in row.items()})


def erase(
    subject_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Erase even an id the trail has never seen")
    ] = False,
) -> None:
    """Destroy the subject's personal-data key: their personal fields read as erased
    everywhere; billing fields are kept until their retention ends."""
    subject_id = check_subject_id(subject_id)  # before asking, and before Kafka
    settings = Settings()
    trail_store = wiring.store(settings)
    try:
        if not force:  # an id the trail never saw is a typo until the operator says not
            require_seen(trail_store, subject_id)
        if not yes:
            typer.confirm(
                f"Erase the personal data of {subject_id}? This cannot be undone", abort=True
            )
        # Published before any key is destroyed: with Kafka down, nothing is erased.
        publisher = wiring.erasure_publisher(settings)
        try:
            keys = wiring.keys(settings, trail_store)
            report = erase_subject(
                trail_store,
                keys,
                subject_id,
                publisher=publisher,
                signing=wiring.record_signing(settings),
            )
        finally:
            publisher.close()
    finally:
        trail_store.close()
    typer.echo(str(report))
    typer.echo(
        f"Published to {settings.topic_erasures}: every store built from Kafka applies it. "
        f"Kafka deletes the events themselves at most {settings.topic_retention_days} days "
        "and an hour after they were written (`audit-trail topics check` checks the topics)."
    )
