"""Deploy-time work: the only place the store's schema and retention change.

``migrate`` creates the database, applies migrations and sets the retention TTLs from
the settings; ``check`` reports what ``migrate`` would change, changing nothing.
Readers never run either (see docs/processes.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audit_trail import wiring
from audit_trail.settings import Settings
from ledger import StoreNotReady, open_store
from ledger.factory import NoStore
from ledger.retention import RetentionDrift, apply_retention, retention_drift
from ledger.schema_state import pending


@dataclass
class SchemaReport:
    """What ``migrate`` did, or with ``check`` what it would do."""

    checked_only: bool
    migrations: list[str] = field(default_factory=list)
    retention: list[RetentionDrift] = field(default_factory=list)
    missing_database: str | None = None

    @property
    def up_to_date(self) -> bool:
        return not (self.migrations or self.retention or self.missing_database)

    def lines(self) -> list[str]:
        verb = "pending" if self.checked_only else "applied"
        out: list[str] = []
        if self.missing_database:
            out.append(self.missing_database)
        out += [f"migration {label}: {verb}" for label in self.migrations]
        for drift in self.retention:
            out.append(f"retention {drift}" + ("" if self.checked_only else ": set"))
        if not out:
            out.append("schema and retention match this version and the settings")
        return out


def migrate(settings: Settings) -> SchemaReport:
    trail = open_store(settings.clickhouse_url, settings.data_dir, settings.database)
    try:
        applied = trail.migrate()
        drift = retention_drift(trail, wiring.retention_policy(settings))
        apply_retention(trail, wiring.retention_policy(settings))
    finally:
        trail.close()
    return SchemaReport(checked_only=False, migrations=applied, retention=drift)


def check(settings: Settings) -> SchemaReport:
    try:
        trail = open_store(
            settings.clickhouse_url, settings.data_dir, settings.database, create=False
        )
    except (StoreNotReady, NoStore) as exc:
        return SchemaReport(checked_only=True, missing_database=str(exc))
    try:
        missing = pending(trail)
        report = SchemaReport(checked_only=True, migrations=[m.label for m in missing])
        if not missing:  # before the migrations there is no table to compare with
            report.retention = retention_drift(trail, wiring.retention_policy(settings))
    finally:
        trail.close()
    return report
