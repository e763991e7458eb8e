"""`audit-trail schemas ...`: the contract's own checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audit_trail import wiring
from audit_trail.settings import Settings
from schemas import SchemaRegistry, check_registry, default_registry, subject_for
from schemas.registry import AVRO_DIR

app = typer.Typer(help="Inspect and check the Avro schemas.", no_args_is_help=True)


@app.command("check")
def check(
    directory: Annotated[
        Path, typer.Option("--dir", help="Schema folder (<family>/v<N>.avsc)")
    ] = AVRO_DIR,
) -> None:
    """Check that every schema version reads the data of the version before it."""
    registry = SchemaRegistry.from_directory(directory)
    problems = check_registry(registry)
    for problem in problems:
        typer.echo(f"INCOMPATIBLE: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    pairs = sum(max(0, len(registry.versions(f)) - 1) for f in registry.families)
    for version in registry:
        typer.echo(f"{version.label}: fingerprint {version.fingerprint:#018x}")
    typer.echo(f"ok: {len(registry.families)} families, {pairs} consecutive pairs compatible")


@app.command("list")
def list_versions() -> None:
    """Every published version with its fingerprint."""
    for version in SchemaRegistry.from_directory():
        typer.echo(f"{version.label}\t{version.fingerprint:#018x}")


@app.command("register")
def register() -> None:
    """Publish every version to the schema registry (AUDIT_SCHEMA_REGISTRY_URL), oldest
    first, under each family's topic subject (<topic>-value, TopicNameStrategy)."""
    settings = Settings()
    client = wiring.schema_registry(settings)
    if client is None:
        typer.echo("error: set AUDIT_SCHEMA_REGISTRY_URL to the schema registry", err=True)
        raise typer.Exit(2)
    registry = default_registry()
    for family, topic in settings.family_topics.items():
        subject = subject_for(topic)
        for version in registry.versions(family):
            schema_id = client.register(subject, dict(version.source))
            typer.echo(f"{version.label}\tsubject {subject}\tid {schema_id}")
