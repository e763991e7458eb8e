"""Pick the store backend: a ClickHouse server when a URL is configured, chDB otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from ledger.errors import StoreError, StoreUnavailable

if TYPE_CHECKING:  # the backends load their engines only when a store is opened
    from ledger.server import ServerStore
from ledger.store import Store
from schemas import InvalidInput

SERVER_SCHEMES = ("clickhouse", "clickhouses")
_UNKNOWN_DATABASE = 81


class NoStore(InvalidInput):
    """The configured place holds no trail store (a mistyped path or database name)."""


def open_store(
    url: str | None, embedded_path: Path, database: str = "audit", *, create: bool = True
) -> Store:
    """A ``ServerStore`` for a ``clickhouse://`` URL, else an ``EmbeddedStore`` at the path.

    With a URL, the database is the URL's path, or ``database`` when the URL has none.
    With ``create=False`` (every reader), a place that holds no store is refused
    (``NoStore``) before anything is written there: a mistyped ``AUDIT_DATA_DIR`` must
    not become a new empty store that answers "0 events".
    """
    if not create and not url and not _embedded_exists(Path(embedded_path), database):
        raise NoStore(
            f"no trail store in {embedded_path} (database {database}): check AUDIT_DATA_DIR "
            "(and AUDIT_DATABASE); `audit-trail migrate` (or `consume`) creates a store"
        )
    if url:
        parts = urlsplit(url)
        if parts.scheme not in SERVER_SCHEMES:
            raise InvalidInput(
                f"ClickHouse URL for host {parts.hostname!r} must start with clickhouse:// "
                "or clickhouses:// (the native protocol, port 9000 or 9440)"
            )
        if not parts.path.strip("/"):
            url = urlunsplit(parts._replace(path=f"/{database}"))
        from ledger.server import ServerStore

        server = ServerStore(url)
        if not create:
            require_server_store(server, url)
        return server
    path = Path(embedded_path)
    if path.exists() and not path.is_dir():
        raise InvalidInput(f"the store directory {path} (AUDIT_DATA_DIR) is not a directory")
    try:
        from ledger.embedded import EmbeddedStore

        return EmbeddedStore(path, database, create=create)
    except OSError as exc:  # the directory cannot be created or entered
        raise InvalidInput(
            f"cannot use {path} as the store directory (AUDIT_DATA_DIR): {exc.strerror}"
        ) from exc


def _embedded_exists(path: Path, database: str) -> bool:
    # chDB keeps a database's table definitions under metadata/<database>/; the
    # migrations ledger is the first table any store gets.
    return (path / "metadata" / database / "schema_migrations.sql").is_file()


def require_server_store(server: ServerStore, url: str) -> None:
    """Refuse (``NoStore``) a server database without the store's migrations ledger."""
    where = urlsplit(url)
    shown = f"{where.hostname}:{where.port or 9000}/{server.database}"
    try:
        found = server.query(
            "SELECT count() FROM system.tables "
            "WHERE database = currentDatabase() AND name = 'schema_migrations'"
        )
    except StoreError as exc:
        server.close()
        if exc.code == _UNKNOWN_DATABASE:
            raise NoStore(
                f"no trail store at {shown}: the database does not exist; check "
                "AUDIT_CLICKHOUSE_URL; `audit-trail consume` creates a store"
            ) from exc
        if isinstance(exc, StoreUnavailable):
            raise StoreUnavailable(
                f"cannot reach the ClickHouse server at {shown} (AUDIT_CLICKHOUSE_URL): "
                f"{str(exc).strip().splitlines()[0]}",
                code=exc.code,
            ) from exc
        raise
    if not found or not found[0][0]:
        server.close()
        raise NoStore(
            f"no trail store at {shown}: check AUDIT_CLICKHOUSE_URL; "
            "`audit-trail consume` creates a store"
        )
