"""Retention per event category, enforced by ClickHouse TTL on the month-partitioned trail.

Defaults come from the platform's policies: chat, note and file metadata 12 months;
payment and billing records (bookings, payments, refunds) 5 years, as accounting law
asks; everything else (and every row that is not an event: dead letters, duplicates) 2
years. Which category an event type is in, the catalogue says (``schemas.catalogue``);
the TTL lists the types by name, so moving a type changes the TTL expression, and drift
is judged on the whole expression, not only its months. Rows go when a merge applies
the TTL (ClickHouse runs them in the background; ``OPTIMIZE ... FINAL`` forces one).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime

from ledger.store import Store
from schemas.catalogue import BY_TYPE, Category, of_category

CHAT_NOTE_FILE = of_category("chat_note_file")
BILLING = of_category("billing")


@dataclass(frozen=True)
class RetentionPolicy:
    chat_note_file_months: int = 12
    billing_months: int = 60
    other_months: int = 24

    def __post_init__(self) -> None:
        for name, months in vars(self).items():
            if not 1 <= months <= 1200:
                raise ValueError(f"{name} must be 1..1200 months, got {months}")

    def months(self) -> list[int]:
        """In the order of the TTL clauses ClickHouse reports back."""
        return [self.chat_note_file_months, self.billing_months, self.other_months]

    def months_of(self, category: Category) -> int:
        return {
            "chat_note_file": self.chat_note_file_months,
            "billing": self.billing_months,
            "other": self.other_months,
        }[category]

    def category_of(self, family: str, event_type: str) -> Category:
        """The catalogue's category of an event type; "other" for rows that are no event."""
        # By type alone, as the TTL judges (type names are unique across families).
        spec = BY_TYPE.get(event_type)
        return spec.retention if spec is not None else "other"

    def ttl_sql(self) -> str:
        chat = ", ".join(f"'{t}'" for t in CHAT_NOTE_FILE)
        billing = ", ".join(f"'{t}'" for t in BILLING)
        at = "toDateTime(occurred_at)"
        return (
            f"{at} + INTERVAL {self.chat_note_file_months} MONTH DELETE "
            f"WHERE event_type IN ({chat}), "
            f"{at} + INTERVAL {self.billing_months} MONTH DELETE "
            f"WHERE event_type IN ({billing}), "
            f"{at} + INTERVAL {self.other_months} MONTH DELETE "
            f"WHERE event_type NOT IN ({chat}, {billing})"
        )


@dataclass(frozen=True)
class RetentionDrift:
    """A table whose TTL differs from the configured policy's: in its months, or (months
    equal) in which event types each clause covers."""

    table: str
    table_months: list[int]
    wanted_months: list[int]
    ttl_sql: str

    def __str__(self) -> str:
        if self.table_months == self.wanted_months:
            return (
                f"{self.table}: the table's TTL puts event types in other retention "
                "categories than the catalogue does (a type was added or moved)"
            )
        return (
            f"{self.table}: the table keeps rows {self.table_months} months, "
            f"the settings say {self.wanted_months}"
        )


def retention_drift(store: Store, policy: RetentionPolicy) -> list[RetentionDrift]:
    """Where the tables' TTLs differ from ``policy`` (reads only; ``migrate --check``).

    The trail's rows go by category and event time; the chain's links (``trail_links``)
    go by ingestion time after the longest retention, so they outlive their rows and
    verify can tell expired rows from deleted ones.
    """
    wanted = {
        "trail": (policy.months(), policy.ttl_sql()),
        "trail_links": (
            [max(policy.months())],
            f"toDateTime(ingested_at) + INTERVAL {max(policy.months())} MONTH DELETE",
        ),
    }
    drift: list[RetentionDrift] = []
    for table, (months, ttl) in wanted.items():
        current = store.query(
            "SELECT engine_full, formatQuery({q:String}) FROM system.tables "
            "WHERE database = currentDatabase() AND name = {t:String}",
            {"t": table, "q": f"ALTER TABLE {table} MODIFY TTL {ttl}"},
        )
        engine, formatted = str(current[0][0]), str(current[0][1])
        found = [int(m) for m in re.findall(r"toIntervalMonth\((\d+)\)", engine)]
        # ClickHouse's own rendering of both sides, so spelling cannot differ.
        if _ttl_of(engine) != _ttl_of(formatted):
            drift.append(RetentionDrift(table, found, months, ttl))
    return drift


def _ttl_of(sql: str) -> str:
    """The TTL expression in a table's engine_full, or in ``formatQuery``'s rendering of
    ``ALTER TABLE t MODIFY TTL ...`` (which wraps the command in parentheses)."""
    flat = " ".join(sql.split())
    match = re.search(r"\(MODIFY TTL (.*)\)$", flat) or re.search(
        r"\bTTL (.*?)(?: SETTINGS .*)?$", flat
    )
    return match[1] if match else ""


def apply_retention(store: Store, policy: RetentionPolicy) -> bool:
    """Set the TTLs to ``policy``; returns whether it changed anything. DDL: only
    ``migrate`` and an owner configured to migrate at start call this."""
    drift = retention_drift(store, policy)
    for table in drift:
        # Existing parts get the new TTL at their next merge, not in one big rewrite now.
        store.execute(
            f"ALTER TABLE {table.table} MODIFY TTL {table.ttl_sql} "
            "SETTINGS materialize_ttl_after_modify = 0"
        )
    return bool(drift)


def expired(
    policy: RetentionPolicy, family: str, event_type: str, occurred_at: datetime, now: datetime
) -> bool:
    """Whether a row of this kind and age is past its retention (so may be gone)."""
    months = policy.months_of(policy.category_of(family, event_type))
    return _add_months(occurred_at, months) <= now


def _add_months(at: datetime, months: int) -> datetime:
    year, month = divmod(at.month - 1 + months, 12)
    day = min(at.day, calendar.monthrange(at.year + year, month + 1)[1])
    return at.replace(year=at.year + year, month=month + 1, day=day)
