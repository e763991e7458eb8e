"""Pick the store backend: a ClickHouse server when a URL is configured, chDB otherwise."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ledger.embedded import EmbeddedStore
from ledger.server import ServerStore
from ledger.store import Store
from schemas import InvalidInput

SERVER_SCHEMES = ("clickhouse", "clickhouses")


def open_store(url: str | None, embedded_path: Path, database: str = "audit") -> Store:
    """A ``ServerStore`` for a ``clickhouse://`` URL, else an ``EmbeddedStore`` at the path.

    With a URL, the database is the URL's path, or ``database`` when the URL has none.
    """
    if url:
        parts = urlsplit(url)
        if parts.scheme not in SERVER_SCHEMES:
            raise InvalidInput(
                f"ClickHouse URL for host {parts.hostname!r} must start with clickhouse:// "
                "or clickhouses:// (the native protocol, port 9000 or 9440)"
            )
        if not parts.path.strip("/"):
            url = urlunsplit(parts._replace(path=f"/{database}"))
        return ServerStore(url)
    return EmbeddedStore(embedded_path, database)
