"""The write path's parts of the store (append, heads, event index): the engines and the
in-memory trail that unit tests use keep the same promises, so a unit test of the ingest
loop means what it says."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ledger import ChainHead, EmbeddedStore, duplicate_row, link
from ledger.idempotency import Place, event_content
from ledger.segments import ChainSegment
from ledger.store_parts import EventIndex, TrailSink
from producers.events import Event
from producers.simulation.trail_rows import decoded_rows
from tests.support.memory_trail import MemoryTrail
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration  # a real ClickHouse engine beside the memory trail


class Sink(TrailSink, EventIndex):
    """The parts under test (a type for the checker; the fixture gives either store)."""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    with EmbeddedStore(tmp_path_factory.mktemp("parts") / "store") as opened:
        opened.migrate()
        yield opened


@pytest.fixture(params=["chdb", "memory"])
def sink(request: pytest.FixtureRequest) -> Sink:
    if request.param == "memory":
        return MemoryTrail()  # type: ignore[return-value]
    store: Sink = request.getfixturevalue("engine")
    return store


def _fresh(n: int) -> list[Event]:
    """Events of ids of their own: an id is the idempotency key across topics."""
    return [
        e.model_copy(update={"event_id": uuid.uuid4()}) for e in list(one_of_each().values())[:n]
    ]


def _linked(
    topic: str, partition: int = 0, events: int = 6
) -> tuple[list[tuple[object, ...]], ChainHead]:
    rows = decoded_rows(_fresh(events), topic, partition, 0)
    return link(rows, ChainHead.start(topic, partition))


def test_one_token_is_one_insert_and_the_head_is_the_last_stored_row(
    sink: Sink, topic: str
) -> None:
    linked, head = _linked(topic)
    sink.insert_trail(linked[:3], f"{topic}:0:0-2")
    sink.insert_trail(linked[:3], f"{topic}:0:0-2")  # a retry: dropped
    sink.insert_trail(linked[3:], f"{topic}:0:3-5")
    assert sink.chain_heads(topic) == {0: head}
    assert sink.stored_event_ids(topic, [str(r[0]) for r in linked]) == {str(r[0]) for r in linked}


def test_first_copies_give_the_events_content_as_the_write_path_compares_it(
    sink: Sink, topic: str
) -> None:
    rows = decoded_rows(_fresh(4), topic, 0, 0)
    # Offset 4 repeats the event at offset 0: its duplicate row is not a first copy.
    rows.append(duplicate_row(rows[0]._replace(kafka_offset=4), first=f"{topic}[0] offset 0"))
    linked, _ = link(rows, ChainHead.start(topic, 0))
    sink.insert_trail(linked, f"{topic}:0:0-4")
    ids = [str(r.event_id) for r in rows[:4]] + [str(uuid.uuid4())]
    found = sink.first_copies(ids, datetime.now(UTC) - timedelta(days=1))
    assert sorted(found) == sorted(ids[:4])
    for offset, row in enumerate(rows[:4]):
        first = found[str(row.event_id)]
        assert first.place == Place(topic, 0, offset)
        assert first.content == event_content(row)  # like with like: engine and memory
    assert sink.first_copies(ids, datetime.now(UTC) + timedelta(minutes=1)) == {}


def test_stored_event_ids_answer_only_for_the_topic_and_ids_asked(sink: Sink, topic: str) -> None:
    linked, _ = _linked(topic, events=2)
    sink.insert_trail(linked, f"{topic}:0:0-1")
    mine = str(linked[0][0])
    assert sink.stored_event_ids(topic, [mine, str(uuid.uuid4())]) == {mine}
    assert sink.stored_event_ids(f"{topic}-other", [mine]) == set()
    assert sink.stored_event_ids(topic, []) == set()


def test_recorded_segments_are_each_partitions_current_one(sink: Sink, topic: str) -> None:
    first = ChainSegment.first(topic, 0, "id-1")
    assert sink.chain_segments(topic) == {}
    sink.record_segments([first, ChainSegment.first(topic, 1, "id-1")])
    found = sink.chain_segments(topic)
    assert sorted(found) == [0, 1]
    assert (found[0].segment, found[0].topic_id, found[0].offset_shift) == (0, "id-1", 0)
