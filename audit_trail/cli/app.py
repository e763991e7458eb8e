"""Assembles the sub-commands and turns product errors into clear messages and exit codes."""

from __future__ import annotations

import sys

import typer

from audit_trail.cli import chain_cmd, events_cmd, reader_cmd, schemas_cmd, stack_cmd, trail_cmd
from schemas import AuditTrailError

app = typer.Typer(
    name="audit-trail",
    help="Event-sourced audit trail: Avro events over Kafka into ClickHouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(schemas_cmd.app, name="schemas")
app.add_typer(stack_cmd.app, name="stack")
app.add_typer(chain_cmd.app, name="chain")
app.command("produce")(events_cmd.produce)
app.command("simulate")(events_cmd.simulate)
app.command("topics")(trail_cmd.topics)
app.command("consume")(trail_cmd.consume)
app.command("verify")(trail_cmd.verify)
app.command("timeline")(trail_cmd.timeline)
app.command("counts")(trail_cmd.counts)
app.command("trail")(reader_cmd.trail)
app.command("payments")(reader_cmd.payments)
# A query may start with "--" (a comment): it is the argument, not an unknown option.
app.command("sql", context_settings={"ignore_unknown_options": True})(reader_cmd.sql)
app.command("export")(reader_cmd.export)
app.command("erase")(reader_cmd.erase)


def main() -> None:
    try:
        app()
    except AuditTrailError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
