"""Assembles the sub-commands and turns product errors into clear messages and exit codes."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from audit_trail import logs
from audit_trail.cli import (
    chain_cmd,
    events_cmd,
    migrate_cmd,
    proof_cmd,
    reader_cmd,
    schemas_cmd,
    serve_cmd,
    stack_cmd,
    token_cmd,
    trail_cmd,
)
from schemas import AuditTrailError, InvalidInput

app = typer.Typer(
    name="audit-trail",
    help="Event-sourced audit trail: Avro events over Kafka into ClickHouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"audit-trail {version('audit-trail')}")
        raise typer.Exit()


@app.callback()
def _root(
    _show: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version"),
    ] = False,
) -> None:
    """Event-sourced audit trail: Avro events over Kafka into ClickHouse."""


app.add_typer(schemas_cmd.app, name="schemas")
app.add_typer(token_cmd.app, name="token")
app.command("migrate")(migrate_cmd.migrate)
app.command("serve")(serve_cmd.serve)
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
app.add_typer(proof_cmd.keys_app, name="keys")
app.command("checkpoint")(proof_cmd.checkpoint)
app.command("prove")(proof_cmd.prove)
app.command("verify-proof")(proof_cmd.verify_proof)


def main() -> None:
    for problem in logs.configure():
        logging.getLogger("audit_trail").warning("%s", problem)
    # Library loggers must not print tracebacks for failures the CLI reports in one line
    # (clickhouse-driver logs every refused connection with its stack).
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # a missing argument, an option's bad value
        if exc.format_message().strip():  # else: no arguments, the help is shown already
            typer.echo(f"error: {_one_line(exc.format_message())}", err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):  # Ctrl-C, or "no" at a confirmation
        typer.echo("aborted", err=True)
        sys.exit(1)
    except AuditTrailError as exc:
        # One line, no traceback: 2 when the input or a setting must change (usage),
        # 1 when the program failed at run time (store or broker away, broken state).
        typer.echo(f"error: {_one_line(str(exc))}", err=True)
        sys.exit(2 if isinstance(exc, InvalidInput) else 1)
    sys.exit(code if isinstance(code, int) else 0)


def _one_line(text: str) -> str:
    # Engine messages carry their own stack traces and line breaks: keep the first line.
    # The cap is generous: our own messages end with what to do, which must not be cut.
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return first if len(first) <= 1500 else first[:1500] + "..."
