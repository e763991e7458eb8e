"""Who is asking: a viewer (role and id), validated, and what each role may see.

Section 6.a of the platform's policy: a specialist and a client see the sessions they
took part in, with the other party's interaction times and device details, never the
other party's IP address or location. An auditor sees everything.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ledger.participation import took_part
from schemas import AuditTrailError, InvalidInput

ViewerRole = Literal["client", "specialist", "auditor"]
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$")
NETWORK_FIELDS = ("network_ip", "network_country", "network_region", "network_city")
BILLING_FIELDS = ("payer_name", "payer_email")
DEVICE_FIELDS = (
    "device_kind", "device_os", "device_os_version", "device_browser",
    "device_browser_version", "device_app_version",
)  # fmt: skip


class NotPermitted(AuditTrailError):
    """The viewer may not read this. Says the same whether or not the thing exists."""


class NotFound(AuditTrailError):
    """The trail holds no such thing. Only auditors are told: they may learn existence,
    a party gets ``NotPermitted`` for unknown and forbidden things alike."""


def subject_id(value: str, what: str = "subject id") -> str:
    """A person's id as the trail stores it; anything else is refused before any query."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        shown = value if isinstance(value, str) and len(value) <= 80 else f"{str(value)[:80]}..."
        raise InvalidInput(
            f"invalid {what} {shown!r}: 1-64 characters, letters, digits and . _ : @ - "
            "(starting with a letter or digit)"
        )
    return value


def session_uuid(value: str | uuid.UUID, what: str = "session id") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        if len(value) > 64:
            raise ValueError
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        shown = value if isinstance(value, str) and len(value) <= 80 else f"{str(value)[:80]}..."
        raise InvalidInput(f"invalid {what} {shown!r}: expected a UUID") from None


@dataclass(frozen=True)
class Viewer:
    role: ViewerRole
    id: str | None = None

    @classmethod
    def parse(cls, text: str) -> Viewer:
        """``auditor``, ``auditor:ID``, ``client:ID`` or ``specialist:ID``."""
        role, _, ident = text.partition(":")
        if role == "auditor":
            return cls("auditor", subject_id(ident, "auditor id") if ident else None)
        if role in ("client", "specialist"):
            if not ident:
                raise InvalidInput(f"--as {role}:ID needs the {role}'s id")
            return cls(role, subject_id(ident, f"{role} id"))  # type: ignore[arg-type]
        raise InvalidInput(f"unknown role {role[:40]!r}: use auditor, client:ID or specialist:ID")

    @property
    def is_auditor(self) -> bool:
        return self.role == "auditor"

    def __str__(self) -> str:
        return f"{self.role}:{self.id}" if self.id else self.role

    def took_part_in(self, row: Mapping[str, Any]) -> bool:
        """Whether ``row`` (a trail row as a dict) proves this party took part in its
        session in their role (``ledger.participation``, the rule the SQL uses too);
        never true for auditors (they need no such row)."""
        if self.id is None or self.is_auditor:
            return False
        return took_part(row, self.id, self.role)

    def may_see_network(self, row_actor: str | None) -> bool:
        """Auditors see all network context; a party sees only their own."""
        return self.is_auditor or (self.id is not None and row_actor == self.id)

    def may_see_device(self, row_actor: str | None, session_parties: frozenset[str]) -> bool:
        """A party sees the devices of the session's parties (their own and the other
        party's), never those of people who did not take part (a denied attempt's)."""
        return self.is_auditor or (
            row_actor is not None and (row_actor == self.id or row_actor in session_parties)
        )

    def may_see_billing(self, row_payer: str | None) -> bool:
        return self.is_auditor or (self.id is not None and row_payer == self.id)
