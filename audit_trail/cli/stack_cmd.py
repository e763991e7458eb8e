"""`audit-trail stack up|down|reset|status`: the local Kafka broker (a JVM, no Docker)."""

from __future__ import annotations

from typing import Annotated

import typer

from audit_trail.settings import Settings
from audit_trail.stack import ensure_topics, kafka_down, kafka_reset, kafka_status, kafka_up

app = typer.Typer(help="Run a local Apache Kafka broker (KRaft) for demos and tests.")


@app.command("up")
def up() -> None:
    """Start the broker (or reuse the running one) and create the topics."""
    settings = Settings()
    bootstrap = kafka_up(retention_days=settings.topic_retention_days)
    problems = ensure_topics(
        bootstrap, settings.topics, settings.topic_partitions, settings.topic_retention_days
    )
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    typer.echo(bootstrap)


@app.command("down")
def down() -> None:
    """Stop the local broker, keeping its data and ports for the next `up`."""
    kafka_down()
    typer.echo("stopped")


@app.command("reset")
def reset(
    yes: Annotated[bool, typer.Option("--yes", help="Really delete the broker's data")] = False,
) -> None:
    """Stop the local broker and delete its data (topics, offsets); `up` starts anew."""
    if not yes:
        typer.echo(
            "error: this deletes every topic and offset of the local broker; the trail "
            "then refuses the new topics until `audit-trail chain restart`. Run again "
            "with --yes to do it.",
            err=True,
        )
        raise typer.Exit(2)
    kafka_reset()
    typer.echo("reset: the broker's data is deleted; `audit-trail stack up` starts a new one")


@app.command("status")
def status() -> None:
    """Whether the broker runs and answers; exits 1 when it does not."""
    s = kafka_status()
    typer.echo(
        f"running={s.running} answers={s.answers} external={s.external} "
        f"bootstrap={s.bootstrap or '-'} pid={s.pid or '-'}"
    )
    if not (s.running and s.answers):
        raise typer.Exit(1)
