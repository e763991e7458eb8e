"""verify() on the embedded engine: a clean trail passes; each kind of damage is named.

The tests play the tamperer with ALTER TABLE ... UPDATE/DELETE, which the ingest path
never issues. Each test writes its own topic, so chains never mix.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import pytest

from ledger import (
    ChainHead,
    EmbeddedStore,
    Row,
    canonical_bytes,
    link,
    migrations,
    row_hash,
    verify,
)
from ledger.canonical import V1_JSON, V2_BINARY
from ledger.chain import hashed_form_select
from ledger.columns import COLUMNS, INDEX, ROW_COLUMNS
from ledger.verify import (
    ALTERED,
    BROKEN_LINK,
    CHECKPOINT_MISMATCH,
    DUPLICATE_EVENT_ID,
    DUPLICATE_OFFSET,
    GAP,
    TRUNCATED,
)
from producers.simulation import simulate
from producers.simulation.trail_rows import decoded_rows
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration

DAY = datetime(2026, 11, 2, tzinfo=UTC)
PAGE = 37  # small pages, so every check also crosses page boundaries


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    opened = EmbeddedStore(tmp_path_factory.mktemp("verify") / "store", "audit")
    opened.migrate()
    yield opened
    opened.close()  # chDB: one directory per process, so free it for the next module


@pytest.fixture
def topic() -> str:
    return f"test.events-{uuid.uuid4().hex[:8]}"


def rows_for(topic: str, partition: int, count: int, seed: int = 5) -> list[Row]:
    return decoded_rows(islice(simulate(40, seed, DAY), count), topic, partition)


def ingest(store: EmbeddedStore, rows: list[Row], batch: int = 25) -> list[Row]:
    """What the consumer does: link per partition, insert per batch, checkpoint the head."""
    first = rows[0]
    head = ChainHead.start(first[INDEX["kafka_topic"]], first[INDEX["kafka_partition"]])
    stored: list[Row] = []
    for start in range(0, len(rows), batch):
        linked, head = link(rows[start : start + batch], head)
        token = f"{head.topic}:{head.partition}:{start}-{head.offset}"
        store.insert_trail(linked, token)
        store.insert_checkpoints([head])
        stored += linked
    return stored


def replaced(row: Row, name: str, value: Any) -> Row:
    values = list(row)
    values[INDEX[name]] = value
    return tuple(values)


def tamper(store: EmbeddedStore, topic: str, offset: int, assignment: str, **values: Any) -> None:
    store.query(
        f"ALTER TABLE trail UPDATE {assignment} WHERE kafka_topic = {{topic:String}} "
        "AND kafka_offset = {offset:UInt64} SETTINGS mutations_sync = 2",
        {"topic": topic, "offset": offset, **values},
    )


def test_a_clean_trail_verifies(store: EmbeddedStore, topic: str) -> None:
    total = 0
    for partition in (0, 1):
        total += len(ingest(store, rows_for(topic, partition, 120, seed=partition)))
    report = verify(store, [topic], page_rows=PAGE)
    assert report.ok, report.problems
    assert report.rows_checked == total == 240
    assert [(p.partition, p.first_offset, p.last_offset, p.rows) for p in report.partitions] == [
        (0, 0, 119, 120),
        (1, 0, 119, 120),
    ]
    assert all(p.starts_chain for p in report.partitions)


def test_an_altered_row_is_named(store: EmbeddedStore, topic: str) -> None:
    stored = ingest(store, rows_for(topic, 0, 90))
    victim = stored[47]
    tamper(store, topic, 47, "actor_id = concat(actor_id, '-x')")
    report = verify(store, [topic], page_rows=PAGE)
    assert report.problem_count == 1
    assert report.first is not None
    assert (report.first.partition, report.first.offset, report.first.kind) == (0, 47, ALTERED)
    assert report.first.event_id == str(victim[INDEX["event_id"]])


def test_a_row_rehashed_by_the_tamperer_breaks_the_next_link(
    store: EmbeddedStore, topic: str
) -> None:
    stored = ingest(store, rows_for(topic, 0, 60))
    forged = replaced(stored[30], "actor_role", "operator")
    new_hash = row_hash(forged[INDEX["prev_hash"]], forged)
    tamper(store, topic, 30, "actor_role = 'operator', row_hash = {h:String}", h=new_hash)
    report = verify(store, [topic], page_rows=PAGE)
    assert [(p.offset, p.kind) for p in report.problems] == [(31, BROKEN_LINK)]
    assert "offset 30" in report.problems[0].detail


def test_a_gap_in_offsets_is_named(store: EmbeddedStore, topic: str) -> None:
    rows = rows_for(topic, 0, 70)
    ingest(store, rows[:40] + rows[43:])  # offsets 40..42 never stored
    report = verify(store, [topic], page_rows=PAGE)
    assert [(p.offset, p.kind) for p in report.problems] == [(43, GAP)]
    assert "40..42" in report.problems[0].detail


def test_a_duplicated_event_id_is_named(store: EmbeddedStore, topic: str) -> None:
    rows = rows_for(topic, 0, 50)
    original = rows[12][INDEX["event_id"]]
    rows[33] = replaced(rows[33], "event_id", original)
    ingest(store, rows)
    report = verify(store, [topic], page_rows=PAGE)
    assert [(p.offset, p.kind, p.event_id) for p in report.problems] == [
        (33, DUPLICATE_EVENT_ID, str(original))
    ]
    assert "offset 12" in report.problems[0].detail


def test_a_batch_stored_twice_is_named(store: EmbeddedStore, topic: str) -> None:
    stored = ingest(store, rows_for(topic, 0, 30))
    store.insert_trail(stored[10:12], f"{topic}:0:again")  # a replay with a new token
    report = verify(store, [topic], page_rows=PAGE)
    kinds = {(p.offset, p.kind) for p in report.problems}
    assert kinds == {
        (10, DUPLICATE_OFFSET),
        (11, DUPLICATE_OFFSET),
        (10, DUPLICATE_EVENT_ID),
        (11, DUPLICATE_EVENT_ID),
    }


def test_a_rewritten_and_rehashed_tail_is_caught_by_a_checkpoint(
    store: EmbeddedStore, topic: str
) -> None:
    stored = ingest(store, rows_for(topic, 0, 50))  # checkpoints at offsets 24 and 49
    store.query(
        "ALTER TABLE trail DELETE WHERE kafka_topic = {t:String} AND kafka_offset >= 30 "
        "SETTINGS mutations_sync = 2",
        {"t": topic},
    )
    forged = [replaced(row[: len(ROW_COLUMNS)], "actor_id", "someone-else") for row in stored[30:]]
    head = ChainHead(topic, 0, 29, stored[29][INDEX["row_hash"]])
    store.insert_trail(link(forged, head)[0], f"{topic}:0:forged")
    report = verify(store, [topic], page_rows=PAGE)
    assert [(p.offset, p.kind) for p in report.problems] == [(49, CHECKPOINT_MISMATCH)]


def test_deleting_the_newest_rows_is_caught_by_a_checkpoint(
    store: EmbeddedStore, topic: str
) -> None:
    ingest(store, rows_for(topic, 0, 50))
    store.query(
        "ALTER TABLE trail DELETE WHERE kafka_topic = {t:String} AND kafka_offset >= 45 "
        "SETTINGS mutations_sync = 2",
        {"t": topic},
    )
    report = verify(store, [topic], page_rows=PAGE)
    assert [(p.offset, p.kind) for p in report.problems] == [(49, TRUNCATED)]


def test_a_chain_whose_oldest_rows_expired_still_verifies(store: EmbeddedStore, topic: str) -> None:
    ingest(store, rows_for(topic, 0, 50))
    # Retention drops whole months; the chain then starts with a non-zero prev_hash.
    store.query(
        "ALTER TABLE trail DELETE WHERE kafka_topic = {t:String} AND kafka_offset < 20 "
        "SETTINGS mutations_sync = 2",
        {"t": topic},
    )
    report = verify(store, [topic], page_rows=PAGE)
    assert report.ok, report.problems
    assert [(p.first_offset, p.starts_chain) for p in report.partitions] == [(20, False)]


def test_the_report_reads_well(store: EmbeddedStore, topic: str) -> None:
    ingest(store, rows_for(topic, 0, 30))
    tamper(store, topic, 7, "actor_id = 'x'")
    text = str(verify(store, [topic], page_rows=PAGE))
    assert f"{topic}[0]: offsets 0..29, 30 rows" in text
    assert "FAILED: 1 problem(s): 30 rows checked" in text
    assert f"{topic}[0] offset 7" in text and ALTERED in text


def test_a_long_list_of_problems_says_how_many_are_not_listed(
    store: EmbeddedStore, topic: str
) -> None:
    # The same 120 events in two partitions: 120 duplicated event ids, 100 listed.
    ingest(store, rows_for(topic, 0, 120, seed=9))
    ingest(store, rows_for(topic, 1, 120, seed=9))
    report = verify(store, [topic], page_rows=PAGE)
    assert report.problem_count == 120
    assert len(report.problems) == 100
    assert {p.kind for p in report.problems} == {DUPLICATE_EVENT_ID}
    assert "FAILED: 120 problem(s)" in str(report)
    assert str(report).endswith("... and 20 more not listed (the first 100 are)")


# --- hash formats: v1 rows (stored before migration 0023) and v2 rows side by side ----


def link_as_v1(rows: list[Row], head: ChainHead) -> tuple[list[Row], ChainHead]:
    """What the consumer did before migration 0023: JSON-form hashes, no version column."""
    linked, prev = [], head.row_hash
    for row in rows:
        current = row_hash(prev, row, V1_JSON)
        linked.append((*row, prev, current))
        prev = current
    return linked, ChainHead(head.topic, head.partition, rows[-1][INDEX["kafka_offset"]], prev)


def test_a_trail_holding_v1_and_v2_rows_verifies(store: EmbeddedStore, topic: str) -> None:
    # A database of its own (chDB: one directory per process), migrated step by step.
    old = EmbeddedStore(store.path, f"old_{uuid.uuid4().hex[:8]}")
    try:
        # A store as it was before migration 0023, holding rows its consumer linked then.
        before = [m for m in migrations.available() if m.version < 23]
        migrations.apply(old._execute, old.query, before, backend=old.backend)
        rows = rows_for(topic, 0, 60)
        v1_rows, head = link_as_v1(rows[:30], ChainHead.start(topic, 0))
        old._insert("trail", COLUMNS[:-1], v1_rows, f"{topic}:0:0-29")
        old.insert_checkpoints([head])
        assert "0023_chain_version" in old.migrate()
        # The consumer now continues the same chain in the binary form.
        stored = ingest_from(old, rows[30:], head)
        report = verify(old, [topic], page_rows=PAGE)
        assert report.ok, report.problems
        assert report.rows_checked == 60
        versions = old.query(
            "SELECT chain_version, count() FROM trail WHERE kafka_topic = {t:String} "
            "GROUP BY chain_version ORDER BY chain_version",
            {"t": topic},
        )
        assert versions == [(1, 30), (2, 30)]
        assert stored[0][INDEX["prev_hash"]] == v1_rows[-1][INDEX["row_hash"]]
        # Tampering is found in either form.
        tamper(old, topic, 12, "actor_id = concat(actor_id, '-x')")
        tamper(old, topic, 44, "actor_id = concat(actor_id, '-x')")
        report = verify(old, [topic], page_rows=PAGE)
        assert [(p.offset, p.kind) for p in report.problems] == [(12, ALTERED), (44, ALTERED)]
    finally:
        old.close()


def ingest_from(store: EmbeddedStore, rows: list[Row], head: ChainHead) -> list[Row]:
    linked, head = link(rows, head)
    store.insert_trail(linked, f"{head.topic}:{head.partition}:{head.offset}")
    store.insert_checkpoints([head])
    return linked


@pytest.mark.parametrize(("version", "shown"), [(1, "does not match"), (7, "chain_version 7")])
def test_a_flipped_chain_version_is_found(
    store: EmbeddedStore, topic: str, version: int, shown: str
) -> None:
    ingest(store, rows_for(topic, 0, 40))
    tamper(store, topic, 21, "chain_version = {v:UInt8}", v=version)
    report = verify(store, [topic], page_rows=PAGE)
    assert [(p.offset, p.kind) for p in report.problems] == [(21, ALTERED)]
    assert shown in report.problems[0].detail


def test_every_row_read_back_hashes_as_it_was_written(store: EmbeddedStore, topic: str) -> None:
    # Every event type, plus strings a careless producer or an attacker might send.
    rows = decoded_rows(one_of_each(seed=9).values(), topic)
    odd = [
        "Z\u00fcrich \u2013 \u6771\u4eac \U0001f680",
        "",
        "a\x00b",
        "quote ' \" \\ -- ;",
        "x" * 5000,
    ]
    rows += [
        replaced(replaced(row, "device_os", text), "kafka_offset", len(rows) + i)
        for i, (row, text) in enumerate(zip(rows, odd, strict=False))
    ]
    stored = ingest(store, rows)
    read = store.query(
        f"SELECT {hashed_form_select()} FROM trail WHERE kafka_topic = {{t:String}} "
        "ORDER BY kafka_offset",
        {"t": topic},
    )
    assert len(read) == len(stored)
    for written, back in zip(stored, read, strict=True):
        assert back[INDEX["chain_version"]] == V2_BINARY
        assert canonical_bytes(back) == canonical_bytes(written)
        assert row_hash(back[INDEX["prev_hash"]], back) == back[INDEX["row_hash"]]
