"""Whether the trail knows a person at all: before an erasure is recorded for them.

Erasing an id the trail never saw (a typo, someone else's id format) would say
"erased" and record an erasure that erased nothing; the operator must learn that the
id is unknown instead. "Seen" means: named in a stored event, holding a data key (their
events may have left with retention), or erased before.

"Named in a stored event" is the ``subjects`` column, which ClickHouse computes from
every column that names a person in any capacity (``schemas.catalogue``). Its
expression is ``subjects_sql()``; a migration that adds a person column sets it again
(``ALTER TABLE trail MODIFY COLUMN subjects ...``), and a contract test compares the
stored expression with this one.
"""

from __future__ import annotations

from ledger.access import subject_id
from ledger.store_parts import TrailQueries
from schemas import InvalidInput
from schemas.catalogue import by_capacity

_SEEN_SQL = """
SELECT (SELECT count() FROM trail WHERE has(subjects, {s:String}) AND family != 'dead_letter')
     + (SELECT count() FROM subject_keys WHERE subject_id = {s:String})
     + (SELECT count() FROM erasures WHERE subject_id = {s:String})
"""


def subject_columns() -> tuple[str, ...]:
    """Every column that names a person: the actor first, then by capacity."""
    return tuple(by_capacity())


def subjects_sql() -> str:
    """The ``subjects`` column's expression: the distinct non-empty ids of the row."""
    ids = [c if c == "actor_id" else f"ifNull({c}, '')" for c in subject_columns()]
    return f"arrayDistinct(arrayFilter(x -> x != '', [{', '.join(ids)}]))"


class UnknownSubject(InvalidInput):
    """The trail has never seen this person."""


def subject_seen(store: TrailQueries, subject: str) -> bool:
    ((seen,),) = store.query(_SEEN_SQL, {"s": subject_id(subject)})
    return bool(seen)


def require_seen(store: TrailQueries, subject: str) -> None:
    if not subject_seen(store, subject):
        raise UnknownSubject(
            f"{subject} does not appear in the trail (no event, no key, no earlier "
            "erasure): check the id; --force records an erasure for it anyway"
        )
