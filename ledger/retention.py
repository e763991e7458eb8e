"""Retention per event category, enforced by ClickHouse TTL on the month-partitioned trail.

Defaults come from the platform's policies: chat, note and file metadata 12 months;
payment and billing records (the transaction family: bookings, payments, refunds) 5
years, as accounting law asks; everything else 2 years. Rows go when a merge applies
the TTL (ClickHouse runs them in the background; ``OPTIMIZE ... FINAL`` forces one).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime

from ledger.store import Store

CHAT_NOTE_FILE = ("chat_message_sent", "note_saved", "file_transferred")
BILLING_FAMILY = "transaction_event"


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

    def category_of(self, family: str, event_type: str) -> str:
        if event_type in CHAT_NOTE_FILE:
            return "chat_note_file"
        return "billing" if family == BILLING_FAMILY else "other"

    def ttl_sql(self) -> str:
        chat = ", ".join(f"'{t}'" for t in CHAT_NOTE_FILE)
        at = "toDateTime(occurred_at)"
        return (
            f"{at} + INTERVAL {self.chat_note_file_months} MONTH DELETE "
            f"WHERE event_type IN ({chat}), "
            f"{at} + INTERVAL {self.billing_months} MONTH DELETE "
            f"WHERE family = '{BILLING_FAMILY}', "
            f"{at} + INTERVAL {self.other_months} MONTH DELETE "
            f"WHERE family != '{BILLING_FAMILY}' AND event_type NOT IN ({chat})"
        )


@dataclass(frozen=True)
class RetentionDrift:
    """A table whose TTL months differ from the configured policy's."""

    table: str
    table_months: list[int]
    wanted_months: list[int]
    ttl_sql: str

    def __str__(self) -> str:
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
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
            "AND name = {t:String}",
            {"t": table},
        )
        found = [int(m) for m in re.findall(r"toIntervalMonth\((\d+)\)", str(current[0][0]))]
        if found != months:
            drift.append(RetentionDrift(table, found, months, ttl))
    return drift


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
    months = {
        "chat_note_file": policy.chat_note_file_months,
        "billing": policy.billing_months,
        "other": policy.other_months,
    }[policy.category_of(family, event_type)]
    return _add_months(occurred_at, months) <= now


def _add_months(at: datetime, months: int) -> datetime:
    year, month = divmod(at.month - 1 + months, 12)
    day = min(at.day, calendar.monthrange(at.year + year, month + 1)[1])
    return at.replace(year=at.year + year, month=month + 1, day=day)
