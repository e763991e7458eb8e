"""`audit-trail migrate`: the one command that changes the schema (deploy time)."""

from __future__ import annotations

from typing import Annotated

import typer

from audit_trail import admin
from audit_trail.kafka_topics import create_topics
from audit_trail.settings import Settings


def migrate(
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Report what would change (exit 1 if anything), change nothing"
        ),
    ] = False,
    topics: Annotated[
        bool,
        typer.Option(
            "--topics",
            help="Also create the Kafka topics that are missing (as `topics create`)",
        ),
    ] = False,
) -> None:
    """Create the database, apply migrations, set retention TTLs from the settings.

    Readers never change the schema; consume and serve do this at start only where
    AUDIT_MIGRATE_ON_START says so (default: yes for the embedded store)."""
    settings = Settings()
    report = admin.check(settings) if check else admin.migrate(settings)
    for line in report.lines():
        typer.echo(line)
    if topics and not check:
        _, problems = create_topics(settings)
        for problem in problems:
            typer.echo(f"topic {problem}")
        typer.echo(f"topics: {', '.join(settings.topics.names())} exist")
    if check and not report.up_to_date:
        raise typer.Exit(1)
