"""Numbered SQL migrations (``migrations/NNNN_name.sql``), each applied once per database.

Applied migrations are recorded in ``schema_migrations`` with a checksum of the file;
applying again skips them, and a recorded migration whose file changed is an error
(published migrations are immutable: change the schema with a new file). Every
statement is idempotent (``IF NOT EXISTS``), so a run cut short is simply run again.
Statements use unqualified names: the backend's current database is the configured one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from ledger.errors import MigrationChanged

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

LEDGER_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    applied_at DateTime64(6, 'UTC'),
    checksum   String
)
ENGINE = MergeTree
ORDER BY version"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def backends(self) -> frozenset[str]:
        """A first line ``-- backend: server`` limits a migration to those backends
        (access control exists on a ClickHouse server, not in the embedded engine)."""
        first = self.sql.lstrip().splitlines()[0] if self.sql.strip() else ""
        match = re.match(r"--\s*backend:\s*([a-z, ]+)$", first)
        if not match:
            return frozenset({"embedded", "server"})
        return frozenset(b.strip() for b in match[1].split(","))

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"

    def statements(self) -> list[str]:
        return split_statements(self.sql)


def split_statements(sql: str) -> list[str]:
    """The statements of a file: split at ``;`` outside quotes and ``--`` comments."""
    statements: list[str] = []
    current: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(sql):
        ch = sql[i]
        if quote:
            current.append(ch)
            if ch == "\\" and i + 1 < len(sql):
                current.append(sql[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
            continue
        elif ch in "'`\"":
            quote = ch
            current.append(ch)
        elif ch == ";":
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    statements.append("".join(current).strip())
    return [s for s in statements if s]


def available() -> list[Migration]:
    """Every migration shipped in ``ledger/migrations``, in version order."""
    found: list[Migration] = []
    for entry in resources.files("ledger").joinpath("migrations").iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationChanged(f"two migration files share a version: {versions}")
    return found


def apply(
    execute: Callable[[str], None],
    query: Callable[[str, Mapping[str, Any] | None], list[tuple[Any, ...]]],
    migrations: Sequence[Migration] | None = None,
    backend: str = "embedded",
) -> list[str]:
    """Apply what is not applied yet, in order; returns the labels of those applied now."""
    execute(LEDGER_TABLE)
    recorded = {
        int(version): str(checksum)
        for version, checksum in query(
            "SELECT version, any(checksum) FROM schema_migrations GROUP BY version", None
        )
    }
    applied: list[str] = []
    for migration in available() if migrations is None else migrations:
        if backend not in migration.backends:
            continue
        checksum = recorded.get(migration.version)
        if checksum is not None:
            if checksum != migration.checksum:
                raise MigrationChanged(
                    f"migration {migration.label} was applied with checksum {checksum}, "
                    f"but the file now has {migration.checksum}: add a new migration instead"
                )
            continue
        for statement in migration.statements():
            execute(statement)
        execute_record(query, migration)
        applied.append(migration.label)
    return applied


def execute_record(
    query: Callable[[str, Mapping[str, Any] | None], list[tuple[Any, ...]]],
    migration: Migration,
) -> None:
    # INSERT ... SELECT with parameters: the same statement runs on both backends.
    query(
        "INSERT INTO schema_migrations (version, name, applied_at, checksum) "
        "SELECT {version:UInt32}, {name:String}, {applied_at:DateTime64(6, 'UTC')}, "
        "{checksum:String}",
        {
            "version": migration.version,
            "name": migration.name,
            "applied_at": datetime.now(UTC),
            "checksum": migration.checksum,
        },
    )
