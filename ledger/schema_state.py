"""What a reader checks instead of migrating: is the store's schema this program's?

Only ``audit-trail migrate`` (and an owner configured to migrate at start) changes the
schema. A reader looks, and when migrations are missing says so and what to run,
instead of creating tables from whatever environment it was started in.
"""

from __future__ import annotations

from ledger.errors import StoreNotReady
from ledger.migrations import Migration, available
from ledger.store_parts import TrailQueries

_HAS_LEDGER = (
    "SELECT count() FROM system.tables "
    "WHERE database = currentDatabase() AND name = 'schema_migrations'"
)


def pending(store: TrailQueries) -> list[Migration]:
    """The shipped migrations for this backend that the store has not recorded."""
    backend = str(getattr(store, "backend", "embedded"))
    recorded: set[int] = set()
    if store.query(_HAS_LEDGER)[0][0]:
        recorded = {
            int(v) for (v,) in store.query("SELECT DISTINCT version FROM schema_migrations")
        }
    return [m for m in available() if backend in m.backends and m.version not in recorded]


def require_current(store: TrailQueries, where: str) -> None:
    """Raise ``StoreNotReady`` naming the missing migrations, if any."""
    missing = pending(store)
    if missing:
        labels = ", ".join(m.label for m in missing)
        raise StoreNotReady(
            f"the store at {where} lacks migrations {labels}: run `audit-trail migrate` "
            "(the one command that changes the schema), then try again"
        )
