"""Rows that are past their retention when they arrive: not sealed, not kept, reported.

A producer may send an old event (a backfill, a replay of an old topic). ClickHouse
applies the trail's TTL when it writes a part, so such a row never stays in the store;
only its chain link (``trail_links``) does, which is what ``verify`` needs. Without this
gate, the consumer would create a data key for a person whose row the store then drops,
and report the row as stored. With it, the row's personal fields are emptied instead of
sealed (no key is created, no personal value passes into the store) and each such row
is counted by retention category, for the consumer to report.

The check uses this process's clock; the engine uses its own. A row that expires
between the two is sealed and then dropped (a key without rows: harmless).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from ledger.privacy.sealing import PERSONAL_COLUMNS
from ledger.retention import RetentionPolicy, expired
from ledger.trail_row import TrailRow

log = logging.getLogger(__name__)
_PERSONAL = frozenset(c.index for c in PERSONAL_COLUMNS)


class RowSealing(Protocol):
    def seal(self, row: TrailRow) -> TrailRow: ...


class ExpiryGate:
    """A sealer in front of a sealer: expired rows are emptied and counted, the rest sealed."""

    def __init__(
        self,
        inner: RowSealing | None,
        policy: RetentionPolicy,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.clock = clock
        self.expired: Counter[str] = Counter()  # by retention category

    def seal(self, row: TrailRow) -> TrailRow:
        family, event_type = str(row.family), str(row.event_type)
        if expired(self.policy, family, event_type, row.occurred_at, self.clock()):
            category = self.policy.category_of(family, event_type)
            self.expired[category] += 1
            total = sum(self.expired.values())
            if total == 1 or total % 1000 == 0:  # a backfill must not flood the log
                log.warning(
                    "event %s (%s, occurred %s) is past its %s retention: the store drops "
                    "it on insert (%d such rows so far)",
                    row.event_id, event_type, row.occurred_at, category, total,
                )  # fmt: skip
            return TrailRow._make(None if i in _PERSONAL else v for i, v in enumerate(row))
        return self.inner.seal(row) if self.inner is not None else row

    def report(self) -> str:
        """One line on what was dropped and why; empty when nothing was."""
        total = sum(self.expired.values())
        if not total:
            return ""
        months = {
            "chat_note_file": self.policy.chat_note_file_months,
            "billing": self.policy.billing_months,
            "other": self.policy.other_months,
        }
        parts = ", ".join(
            f"{n} {category.replace('_', '/')} older than {months[category]} months"
            for category, n in sorted(self.expired.items())
        )
        return (
            f"{total} row(s) were past retention on arrival and were dropped by the store "
            f"(only their chain links are kept; no key was created): {parts}"
        )
