"""Role-scoped reads of the trail: a session's timeline, a payment trail, a subject's data.

Every identifier is validated before a query is built, and every value reaches
ClickHouse as a query parameter. Personal fields are decrypted only for those allowed
to see them; the rest never leave the store in the first place.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, Protocol

from ledger.access import (
    BILLING_FIELDS,
    DEVICE_FIELDS,
    NETWORK_FIELDS,
    NotFound,
    NotPermitted,
    Viewer,
    session_uuid,
    subject_id,
)
from ledger.participation import PROOF_COLUMNS, PROOF_EVENT_TYPES, parties, took_part_sql
from ledger.store_parts import TrailQueries

_ROW = "* EXCEPT (prev_hash, row_hash, chain_version)"
# A message repeating a stored event_id is kept as a 'duplicate' row (ledger.idempotency):
# readers leave those out, so every event is shown once, to every role.
EVENTS_ONCE = "family != 'duplicate'"
PAYMENT_TYPES = ("payment_attempted", "payment_succeeded", "payment_failed", "refund_issued")

# Whether a party took part in a session (Viewer.took_part_in is the same rule on rows;
# both come from ledger.participation).
TOOK_PART_SQL = "SELECT count() FROM trail WHERE session_id = {sid:UUID} AND " + took_part_sql(
    me="me", role="role"
)
# A session's rows, dead letters for auditors only. One range read of the order key.
SESSION_SQL = (
    f"SELECT {_ROW} FROM trail WHERE session_id = {{sid:UUID}} AND {EVENTS_ONCE} "
    "AND (family != 'dead_letter' OR {auditor:Bool}) ORDER BY occurred_at, event_id"
)


class Opener(Protocol):
    """Decrypts the personal fields left in a row (see ledger.privacy.RowOpener)."""

    def open_all(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]: ...


class TrailReader:
    def __init__(self, store: TrailQueries, opener: Opener) -> None:
        self.store = store
        self.opener = opener

    def session_trail(
        self, session_id: str | uuid.UUID, viewer: Viewer, *, own_network: bool = True
    ) -> list[dict[str, Any]]:
        """The session's events in order, as ``viewer`` may see them. ``own_network=False``
        leaves a party's own IP and location out too (the session viewer shows network
        fields to auditors only); auditors always get them."""
        sid = session_uuid(session_id)
        rows = self.store.query_dicts(SESSION_SQL, {"sid": sid, "auditor": viewer.is_auditor})
        # One query, not a took-part query and then this one (that one cost about a
        # quarter of a party's read): a party's rows are exactly the rows the took-part
        # query counts (this session, no dead letters), so the check runs on them, before
        # anything is decrypted or returned.
        if not viewer.is_auditor and not any(viewer.took_part_in(row) for row in rows):
            raise NotPermitted(_refusal(viewer, f"session {sid}"))
        if not rows:
            raise NotFound(f"not found: the trail holds no session {sid}")
        return self._shape_all(rows, viewer, parties(rows), own_network=own_network)

    def payment_trail(
        self,
        viewer: Viewer,
        *,
        booking_id: str | uuid.UUID | None = None,
        transaction_id: str | uuid.UUID | None = None,
    ) -> list[dict[str, Any]]:
        """Payment attempts, outcomes and refunds of one booking or one transaction."""
        if (booking_id is None) == (transaction_id is None):
            raise ValueError("give exactly one of booking_id or transaction_id")
        column, value = (
            ("booking_id", session_uuid(booking_id, "booking id"))
            if booking_id is not None
            else ("transaction_id", session_uuid(transaction_id, "transaction id"))  # type: ignore[arg-type]
        )
        found = self.store.query(
            f"SELECT session_id FROM trail WHERE {column} = {{id:UUID}} LIMIT 1", {"id": value}
        )
        if not found:
            if viewer.is_auditor:
                raise NotFound(f"not found: the trail holds no {column.replace('_', ' ')} {value}")
            raise NotPermitted(_refusal(viewer, f"{column} {value}"))
        self._check_took_part(found[0][0], viewer, what=f"{column} {value}")
        rows = self.store.query_dicts(
            f"SELECT {_ROW} FROM trail WHERE session_id = {{sid:UUID}} AND {column} = {{id:UUID}}"
            f" AND {EVENTS_ONCE} AND event_type IN {{types:Array(String)}}"
            " ORDER BY occurred_at, event_id",
            {"sid": found[0][0], "id": value, "types": list(PAYMENT_TYPES)},
        )
        return self._shape_all(rows, viewer, self._parties(found[0][0], viewer))

    def subject_rows(self, subject: str) -> Iterator[dict[str, Any]]:
        """Everything the trail holds about one person, for their access request: every
        event they appear in, with their own personal fields decrypted and nobody
        else's personal fields at all."""
        sid = subject_id(subject)
        rows = self.store.query_dicts(
            f"SELECT {_ROW} FROM trail WHERE has(subjects, {{s:String}}) AND {EVENTS_ONCE} "
            "AND family != 'dead_letter' ORDER BY occurred_at, event_id",
            {"s": sid},
        )
        as_subject = Viewer("client", sid)  # sees exactly their own personal fields
        # Their own export: the devices in rows about them are shown as they were.
        yield from self._shape_all(rows, as_subject, frozenset({sid}), devices=True)

    def session_of_event(self, event_id: str | uuid.UUID, viewer: Viewer) -> uuid.UUID | None:
        """The session of ``event_id`` if ``viewer`` may read it (its proof goes to whoever
        may read its session); None for an auditor asking about an event the trail does
        not hold. A party is refused alike for unknown, dead-lettered and others' events."""
        eid = session_uuid(event_id, "event id")
        found = self.store.query(
            f"SELECT session_id FROM trail WHERE event_id = {{id:UUID}} AND {EVENTS_ONCE} "
            "AND (family != 'dead_letter' OR {auditor:Bool}) LIMIT 1",
            {"id": eid, "auditor": viewer.is_auditor},
        )
        if not found:
            if viewer.is_auditor:
                return None
            raise NotPermitted(_refusal(viewer, f"event {eid}"))
        self._check_took_part(found[0][0], viewer, f"event {eid}")
        return session_uuid(str(found[0][0]))

    def _check_took_part(self, sid: Any, viewer: Viewer, what: str | None = None) -> None:
        if viewer.is_auditor:
            return
        took_part = self.store.query(
            TOOK_PART_SQL, {"sid": sid, "me": viewer.id or "", "role": viewer.role}
        )
        if not took_part or not took_part[0][0]:
            raise NotPermitted(_refusal(viewer, what or f"session {sid}"))

    def _parties(self, sid: Any, viewer: Viewer) -> frozenset[str]:
        if viewer.is_auditor:
            return frozenset()
        return parties(
            self.store.query_dicts(
                f"SELECT {', '.join(PROOF_COLUMNS)} FROM trail WHERE session_id = {{sid:UUID}} "
                "AND event_type IN {types:Array(String)}",
                {"sid": sid, "types": list(PROOF_EVENT_TYPES)},
            )
        )

    def _shape_all(
        self,
        rows: list[dict[str, Any]],
        viewer: Viewer,
        session_parties: frozenset[str],
        devices: bool = False,
        own_network: bool = True,
    ) -> list[dict[str, Any]]:
        """Drop what ``viewer`` may not see, then decrypt the rest (one key lookup)."""
        for row in rows:
            if not devices and not viewer.may_see_device(row.get("actor_id"), session_parties):
                for name in DEVICE_FIELDS:
                    row.pop(name, None)
            if not viewer.may_see_network(row.get("actor_id")) or not (
                own_network or viewer.is_auditor
            ):
                for name in NETWORK_FIELDS:
                    row.pop(name, None)
            if not viewer.may_see_billing(row.get("payer_id")):
                for name in BILLING_FIELDS:
                    row.pop(name, None)
        opened = self.opener.open_all(rows)
        return [{k: v for k, v in row.items() if v is not None} for row in opened]


def _refusal(viewer: Viewer, what: str) -> str:
    # The same words whether the thing exists or not: no existence oracle.
    return f"not permitted: {viewer} may not read {what}"
