"""`audit-trail topics create|check`: the only commands (with `migrate --topics` and the
local stack) that create Kafka topics; every other command checks and stops."""

from __future__ import annotations

import typer

from audit_trail.kafka_topics import consumer_topics, create_topics, inspect_topics, missing_topic
from audit_trail.settings import Settings

app = typer.Typer(
    help="Create the Kafka topics (an operator's step) or check that they are in place.",
    no_args_is_help=True,
)


@app.command("create")
def create() -> None:
    """Create the missing topics; check the existing ones (exit 1 if one keeps data longer).

    Partitions, replicas and retention: AUDIT_TOPIC_PARTITIONS, _REPLICATION_FACTOR,
    _RETENTION_DAYS. Existing topics are never changed."""
    settings = Settings()
    _, problems = create_topics(settings)
    _report(settings, problems)


@app.command("check")
def check() -> None:
    """Create nothing; exit 1 if a topic is missing or keeps data longer than promised."""
    settings = Settings()
    problems = _config_problems(settings)
    _report(settings, problems)


def _config_problems(settings: Settings) -> list[str]:
    bootstrap, found = inspect_topics(settings, consumer_topics(settings))
    if found.missing:
        raise missing_topic(bootstrap, found.missing)
    return list(found.problems)


def _report(settings: Settings, problems: list[str]) -> None:
    for problem in problems:
        typer.echo(problem)
    if problems:
        raise typer.Exit(1)
    names = ", ".join(settings.topics.names())
    typer.echo(
        f"ok: {names}; events and dead letters kept {settings.topic_retention_days} days, "
        f"erasure notices compacted and kept for ever"
    )
