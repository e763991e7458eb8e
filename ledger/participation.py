"""Who took part in a session: one rule, rendered in SQL and in Python from the catalogue.

A party (client or specialist) may read a session's trail, and its payments, only if
the trail proves they took part. Not every event naming a person proves that: a denied
access attempt names the person who was turned away, a rating names a specialist, a
chat message names its recipient. The proofs, and nothing else (docs/access.md):

- the booking's parties: ``client_id`` / ``specialist_id`` of a booking event or of
  ``session_completed`` (the services that own the booking state them);
- granted access: ``participant_id`` of ``session_access_attempted`` with
  ``granted = true``, in its ``participant_role``;
- a join: ``participant_id`` of ``participant_joined``, in its ``participant_role``.

The catalogue (``schemas.catalogue``, ``TookPart``) declares which events prove it;
``PROOFS`` groups those declarations; it is rendered into the SQL predicate
(``took_part_sql``) and evaluated on rows (``took_part``); a test checks both against
each other on stored data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.columns import COLUMNS
from schemas.catalogue import EVENTS, TookPart

_COLUMN_NAMES = frozenset(c.name for c in COLUMNS)


@dataclass(frozen=True)
class Proof:
    """A row of one of ``event_types`` proves that the person in ``id_column`` took part:
    in the fixed ``role``, or in the role the row names in ``role_column``; and only
    when ``true_column`` (if any) is true."""

    event_types: tuple[str, ...]
    id_column: str
    role: str | None = None
    role_column: str | None = None
    true_column: str | None = None

    def __post_init__(self) -> None:
        # The names are rendered into SQL as they are: keep them to known columns and
        # plain lower-case event types.
        columns = (self.id_column, self.role_column, self.true_column)
        unknown = [c for c in columns if c is not None and c not in _COLUMN_NAMES]
        if unknown or (self.role is None) == (self.role_column is None):
            raise ValueError(f"bad participation proof {self}: {unknown or 'role'}")
        if not all(t.replace("_", "").isalpha() and t.islower() for t in self.event_types):
            raise ValueError(f"bad event type in {self.event_types}")
        if self.role is not None and not self.role.isalpha():
            raise ValueError(f"bad role {self.role!r}")

    def sql(self, me: str, role: str) -> str:
        types = ", ".join(f"'{t}'" for t in self.event_types)
        terms = [f"event_type IN ({types})", f"{self.id_column} = {{{me}:String}}"]
        if self.role_column is not None:
            terms.append(f"{self.role_column} = {{{role}:String}}")
        else:
            terms.append(f"{{{role}:String}} = '{self.role}'")
        if self.true_column is not None:
            terms.append(f"ifNull({self.true_column}, false)")
        return "(" + " AND ".join(terms) + ")"

    def proven(self, row: Mapping[str, Any]) -> tuple[str, str] | None:
        """(person, role) this row proves took part, if it proves anything by this rule."""
        if row.get("event_type") not in self.event_types:
            return None
        if self.true_column is not None and row.get(self.true_column) is not True:
            return None
        person = row.get(self.id_column)
        role = self.role if self.role_column is None else row.get(self.role_column)
        return (str(person), str(role)) if person and role else None


def _proofs() -> tuple[Proof, ...]:
    """The catalogue's took-part declarations, one ``Proof`` per distinct declaration
    listing every event type that makes it."""
    grouped: dict[TookPart, list[str]] = {}
    for spec in EVENTS:
        for proof in spec.took_part:
            grouped.setdefault(proof, []).append(spec.event_type)
    return tuple(
        Proof(tuple(types), p.person, role=p.role, role_column=p.role_field, true_column=p.only_if)
        for p, types in grouped.items()
    )


PROOFS = _proofs()


def took_part_sql(me: str = "me", role: str = "role") -> str:
    """The WHERE condition (no dead letters) with query parameters ``me`` and ``role``."""
    proofs = "\n    OR ".join(p.sql(me, role) for p in PROOFS)
    return f"family != 'dead_letter' AND (\n       {proofs})"


PROOF_EVENT_TYPES = tuple(sorted({t for p in PROOFS for t in p.event_types}))
# The columns the proofs read: enough to select a session's proof rows and nothing else.
PROOF_COLUMNS = tuple(
    sorted(
        {"family", "event_type"}
        | {c for p in PROOFS for c in (p.id_column, p.role_column, p.true_column) if c}
    )
)


def took_part(row: Mapping[str, Any], me: str, role: str) -> bool:
    """Whether this one trail row (a dict of its columns) proves ``me`` took part as ``role``."""
    if row.get("family") == "dead_letter":
        return False
    return any(p.proven(row) == (me, role) for p in PROOFS)


def parties(rows: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Everyone the rows prove took part in their session, in any role: the people whose
    device details the other parties may see."""
    return frozenset(
        who[0]
        for row in rows
        if row.get("family") != "dead_letter"
        for p in PROOFS
        if (who := p.proven(row)) is not None
    )
