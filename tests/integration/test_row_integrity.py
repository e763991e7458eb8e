"""Per-row integrity of a session's shown rows, and the auditor's session search, on the
embedded engine. The tamperer uses ALTER TABLE ... UPDATE, which ingest never issues."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest

from ledger import EmbeddedStore, Row, row_hash
from ledger.columns import INDEX
from ledger.row_integrity import session_integrity
from ledger.session_search import SessionQuery, search_sessions
from producers.simulation import simulate
from producers.simulation.trail_rows import decoded_rows
from schemas import InvalidInput
from tests.integration.test_verify import ingest

pytestmark = pytest.mark.integration

DAY = datetime(2026, 11, 2, tzinfo=UTC)
TOPIC = "integrity.session"


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedStore, list[Row]]]:
    store = EmbeddedStore(tmp_path_factory.mktemp("integrity") / "store", "audit")
    store.migrate()
    rows = ingest(store, decoded_rows(islice(simulate(40, 11, DAY), 400), TOPIC, 0))
    yield store, rows
    store.close()


def _busiest(rows: list[Row]) -> uuid.UUID:
    counts = Counter(r[INDEX["session_id"]] for r in rows)
    return uuid.UUID(str(counts.most_common(1)[0][0]))


def _session_rows(rows: list[Row], sid: uuid.UUID) -> list[Row]:
    return [r for r in rows if str(r[INDEX["session_id"]]) == str(sid)]


# The id columns ClickHouse gathers into `subjects` (migration 0006).
_ID_COLUMNS = ("actor_id", "client_id", "specialist_id", "participant_id", "payer_id",
               "author_id", "sender_id", "recipient_id", "rater_id")  # fmt: skip


def _people(row: Row) -> set[str]:
    return {str(row[INDEX[c]]) for c in _ID_COLUMNS if row[INDEX[c]]}


def _statuses(store: EmbeddedStore, sid: uuid.UUID) -> dict[int, str]:
    checked = session_integrity(store, sid, auditor=True)
    return {offset: verdict.status for (_, _, offset), verdict in checked.items()}


def _update(store: EmbeddedStore, offset: int, assignment: str, **values: object) -> None:
    store.query(
        f"ALTER TABLE trail UPDATE {assignment} WHERE kafka_topic = {{t:String}} "
        "AND kafka_offset = {o:UInt64} SETTINGS mutations_sync = 2",
        {"t": TOPIC, "o": offset, **values},
    )


def test_a_clean_session_passes_and_each_kind_of_tampering_is_named(
    stored: tuple[EmbeddedStore, list[Row]],
) -> None:
    store, rows = stored
    sid = _busiest(rows)
    mine = _session_rows(rows, sid)
    assert len(mine) >= 3
    assert set(_statuses(store, sid).values()) == {"ok"}
    assert len(_statuses(store, sid)) == len(mine)

    # Content changed, hash left: the row no longer gives its own hash.
    altered = int(mine[1][INDEX["kafka_offset"]])
    _update(store, altered, "actor_id = 'mallory'")
    # Content changed and its hash recomputed: the link recorded at insert disagrees.
    rehashed_row = mine[2]
    forged = list(rehashed_row)
    forged[INDEX["actor_id"]] = "mallory"
    rehashed = int(rehashed_row[INDEX["kafka_offset"]])
    new_hash = row_hash(str(rehashed_row[INDEX["prev_hash"]]), tuple(forged))
    _update(store, rehashed, "actor_id = 'mallory', row_hash = {h:String}", h=new_hash)

    statuses = _statuses(store, sid)
    assert statuses[altered] == "altered"
    assert statuses[rehashed] == "broken_link"
    assert Counter(statuses.values())["ok"] == len(mine) - 2  # the others still pass
    # A party's check covers the same rows (no dead letters in a session here).
    assert len(session_integrity(store, sid, auditor=False)) == len(mine)


def test_a_row_whose_hash_format_was_flipped_is_altered(
    stored: tuple[EmbeddedStore, list[Row]],
) -> None:
    store, rows = stored
    counts = Counter(str(r[INDEX["session_id"]]) for r in rows)
    sid = uuid.UUID(counts.most_common(2)[1][0])  # not the session the test above tampers
    mine = _session_rows(rows, sid)
    assert {r[INDEX["chain_version"]] for r in mine} == {2}
    first, second = (int(r[INDEX["kafka_offset"]]) for r in mine[:2])
    _update(store, first, "chain_version = 1")  # re-hashed as JSON: not its hash
    _update(store, second, "chain_version = 3")  # no such form
    checked = session_integrity(store, sid, auditor=True)
    verdicts = {offset: verdict for (_, _, offset), verdict in checked.items()}
    assert verdicts[first].status == verdicts[second].status == "altered"
    assert "chain_version 3" in verdicts[second].detail
    assert Counter(v.status for v in verdicts.values())["ok"] == len(mine) - 2


def test_an_unknown_session_has_nothing_to_check(stored: tuple[EmbeddedStore, list[Row]]) -> None:
    store, _ = stored
    assert session_integrity(store, uuid.uuid4(), auditor=True) == {}


def test_search_by_person_time_and_event_type_paged(
    stored: tuple[EmbeddedStore, list[Row]],
) -> None:
    store, rows = stored
    sessions = {str(r[INDEX["session_id"]]) for r in rows}
    everything = search_sessions(store, SessionQuery(page_size=100))
    assert {str(s.session_id) for s in everything.sessions} == sessions
    assert not everything.more

    pages, page = [], 1
    while True:
        found = search_sessions(store, SessionQuery(page=page, page_size=7))
        pages.extend(str(s.session_id) for s in found.sessions)
        if not found.more:
            break
        page += 1
    assert sorted(pages) == sorted(sessions) and len(pages) == len(set(pages))

    person = str(next(r[INDEX["actor_id"]] for r in rows if r[INDEX["actor_role"]] == "client"))
    theirs = {str(r[INDEX["session_id"]]) for r in rows if person in _people(r)}
    by_person = search_sessions(store, SessionQuery(person=person, page_size=100))
    assert {str(s.session_id) for s in by_person.sessions} == theirs
    assert all(person in s.people for s in by_person.sessions)

    completed = {
        str(r[INDEX["session_id"]]) for r in rows if r[INDEX["event_type"]] == "session_completed"
    }
    by_type = search_sessions(store, SessionQuery(event_type="session_completed", page_size=100))
    assert {str(s.session_id) for s in by_type.sessions} == completed

    times = sorted(r[INDEX["occurred_at"]] for r in rows)
    middle = times[len(times) // 2]
    later = search_sessions(store, SessionQuery(since=middle, page_size=100))
    assert later.sessions and all(s.last_at >= middle for s in later.sessions)
    none = search_sessions(store, SessionQuery(since=times[-1] + timedelta(days=1), page_size=100))
    assert none.sessions == [] and not none.more


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"person": "' OR 1=1 --"}, "invalid person id"),
        ({"person": "x" * 65}, "invalid person id"),
        ({"event_type": "a'); DROP TABLE trail; --"}, "invalid event type"),
        ({"event_type": ""}, "invalid event type"),
        ({"since": datetime(2026, 1, 1)}, "give a time zone"),
        ({"since": DAY, "until": DAY}, "since must be before until"),
        ({"page": 0}, "page from 1"),
        ({"page_size": 101}, "page_size 1-100"),
    ],
)
def test_search_refuses_bad_filters_before_any_query(fields: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        SessionQuery(**fields)  # type: ignore[arg-type]
