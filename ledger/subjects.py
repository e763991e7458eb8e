"""Whether the trail knows a person at all: before an erasure is recorded for them.

Erasing an id the trail never saw (a typo, someone else's id format) would say
"erased" and record an erasure that erased nothing; the operator must learn that the
id is unknown instead. "Seen" means: named in a stored event, holding a data key (their
events may have left with retention), or erased before.
"""

from __future__ import annotations

from ledger.access import subject_id
from ledger.store import Store
from schemas import InvalidInput

_SEEN_SQL = """
SELECT (SELECT count() FROM trail WHERE has(subjects, {s:String}) AND family != 'dead_letter')
     + (SELECT count() FROM subject_keys WHERE subject_id = {s:String})
     + (SELECT count() FROM erasures WHERE subject_id = {s:String})
"""


class UnknownSubject(InvalidInput):
    """The trail has never seen this person."""


def subject_seen(store: Store, subject: str) -> bool:
    ((seen,),) = store.query(_SEEN_SQL, {"s": subject_id(subject)})
    return bool(seen)


def require_seen(store: Store, subject: str) -> None:
    if not subject_seen(store, subject):
        raise UnknownSubject(
            f"{subject} does not appear in the trail (no event, no key, no earlier "
            "erasure): check the id; --force records an erasure for it anyway"
        )
