"""Assembles the sub-commands and turns product errors into clear messages and exit codes."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from audit_trail import local_broker, logs
from audit_trail.cli.lazy import Lazy, group_with

# Every sub-command, in the order the help lists them. Its module is imported only when it
# runs (or shows its own help): `--help` and `--version` load neither Kafka, chDB, pyarrow
# nor the HTTP stack. The help lists each with the first sentence of its own help, read
# from the module's source (audit_trail.cli.summaries).
_C = "audit_trail.cli."
COMMANDS = (
    Lazy("migrate", _C + "migrate_cmd:migrate"),
    Lazy("serve", _C + "serve_cmd:serve"),
    Lazy("produce", _C + "events_cmd:produce"),
    Lazy("simulate", _C + "events_cmd:simulate"),
    Lazy("topics", _C + "topics_cmd:app"),
    Lazy("consume", _C + "trail_cmd:consume"),
    Lazy("verify", _C + "trail_cmd:verify"),
    Lazy("timeline", _C + "trail_cmd:timeline"),
    Lazy("counts", _C + "trail_cmd:counts"),
    Lazy("trail", _C + "reader_cmd:trail"),
    Lazy("payments", _C + "reader_cmd:payments"),
    # A query may start with "--" (a comment): it is the argument, not an unknown option.
    Lazy("sql", _C + "reader_cmd:sql", context_settings={"ignore_unknown_options": True}),
    Lazy("export", _C + "reader_cmd:export"),
    Lazy("erase", _C + "reader_cmd:erase"),
    Lazy("checkpoint", _C + "proof_cmd:checkpoint"),
    Lazy("prove", _C + "proof_cmd:prove"),
    Lazy("verify-proof", _C + "proof_cmd:verify_proof"),
    Lazy("schemas", _C + "schemas_cmd:app"),
    Lazy("token", _C + "token_cmd:app"),
    Lazy("stack", _C + "stack_cmd:app"),
    Lazy("chain", _C + "chain_cmd:app"),
    Lazy("keys", _C + "proof_cmd:keys_app"),
)  # fmt: skip

app = typer.Typer(
    name="audit-trail",
    help="Event-sourced audit trail: Avro events over Kafka into ClickHouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=group_with(COMMANDS),
    # Plain text: rendering with rich would double the CPU `audit-trail --help` takes
    # (rich loads and lays out its panels). Each command's own help keeps rich.
    rich_markup_mode=None,
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


def main() -> None:
    # The local Kafka stack is development tooling: runtime code never imports it, so the
    # CLI tells it how to find the stack's broker (used when KAFKA_BOOTSTRAP_SERVERS is unset).
    local_broker.register(_stack_broker)
    for problem in logs.configure():
        logging.getLogger("audit_trail").warning("%s", problem)
    # Library loggers must not print tracebacks for failures the CLI reports in one line
    # (clickhouse-driver logs every refused connection with its stack).
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # a missing argument, an option's bad value
        if type(exc).__name__ == "NoArgsIsHelpError":  # plain help: the message is the help
            typer.echo(exc.format_message())
            sys.exit(exc.exit_code)
        if exc.format_message().strip():  # else: no arguments, rich showed the help already
            typer.echo(f"error: {_one_line(exc.format_message())}", err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):  # Ctrl-C, or "no" at a confirmation
        typer.echo("aborted", err=True)
        sys.exit(1)
    except ModuleNotFoundError as exc:
        # A module of an extra this install lacks (chdb for the embedded store, ...).
        from audit_trail.extras import missing_extra

        lacking = missing_extra(exc)
        if lacking is None:
            raise
        typer.echo(f"error: {lacking}", err=True)
        sys.exit(2)
    except Exception as exc:
        # Imported here: the contract package loads fastavro, which `--help` need not.
        from schemas import AuditTrailError, InvalidInput

        if not isinstance(exc, AuditTrailError):
            raise
        # One line, no traceback: 2 when the input or a setting must change (usage),
        # 1 when the program failed at run time (store or broker away, broken state).
        typer.echo(f"error: {_one_line(str(exc))}", err=True)
        sys.exit(2 if isinstance(exc, InvalidInput) else 1)
    sys.exit(code if isinstance(code, int) else 0)


def _stack_broker() -> str | None:
    from audit_trail.stack import kafka_status  # the stack loads only when asked

    status = kafka_status()
    return status.bootstrap if status.running and status.bootstrap else None


def _one_line(text: str) -> str:
    # Engine messages carry their own stack traces and line breaks: keep the first line.
    # The cap is generous: our own messages end with what to do, which must not be cut.
    first = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return first if len(first) <= 1500 else first[:1500] + "..."
