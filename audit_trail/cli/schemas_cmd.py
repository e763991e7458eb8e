"""`audit-trail schemas ...`: the contract's own checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemas import SchemaRegistry, check_registry
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
