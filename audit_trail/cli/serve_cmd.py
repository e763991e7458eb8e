"""`audit-trail serve`: consume and answer role-scoped reads over HTTP in one process."""

from __future__ import annotations

from typing import Annotated

import typer

from audit_trail.settings import Settings


def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (AUDIT_SERVE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (AUDIT_SERVE_PORT)")] = None,
    no_ingest: Annotated[
        bool, typer.Option("--no-ingest", help="API only (replicas on a ClickHouse server)")
    ] = False,
) -> None:
    """The consumer plus the HTTP API (/v1/..., /metrics, /healthz, /readyz, /docs).

    SIGTERM stops the API, drains the consumer and exits 0."""
    from audit_trail import logs
    from audit_trail.serve import serve as run  # uvicorn and the app load only here

    logs.configure(default_level="INFO")  # a service's start, stop and requests
    settings = Settings()
    run(
        settings,
        host if host is not None else settings.serve_host,
        port if port is not None else settings.serve_port,
        ingest_on=not no_ingest,
    )
