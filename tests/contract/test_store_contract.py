"""The Store contract, the same for every backend (see conftest.py for which run here)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger import (
    COLUMN_NAMES,
    COLUMNS,
    BadParameter,
    ChainHead,
    EmbeddedPathInUse,
    EmbeddedStore,
    Migration,
    MigrationChanged,
    QueryRejected,
    Row,
    ServerStore,
    StoreUnavailable,
    link,
    migrations,
    open_store,
)
from ledger.columns import INDEX, ROW_COLUMNS
from ledger.migrations import available
from ledger.store import SqlStore
from ledger.subjects import subjects_sql
from schemas import InvalidInput, Retriable
from tests.contract.conftest import OpenStore, decoded_rows, linked_rows
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration  # a real ClickHouse engine (chDB in-process at least)

SELECT_ALL = f"SELECT {', '.join(COLUMN_NAMES)} FROM trail WHERE kafka_topic = {{topic:String}}"
HOSTILE = "x'; DROP TABLE trail; -- \\' \" ` {topic:String} %(topic)s \n\t\\N"


def replaced(row: Row, name: str, value: object) -> Row:
    values = list(row)
    values[INDEX[name]] = value
    return tuple(values)


def count(store: SqlStore, topic: str) -> int:
    ((n,),) = store.query("SELECT count() FROM trail WHERE kafka_topic = {t:String}", {"t": topic})
    return int(n)


def test_migrate_applies_each_migration_once(open_store: OpenStore) -> None:
    fresh = open_store(f"fresh_{uuid.uuid4().hex[:8]}")
    mine = [m for m in available() if fresh.backend in m.backends]
    assert fresh.migrate() == [m.label for m in mine]
    assert fresh.migrate() == []
    recorded = fresh.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    assert recorded == [(m.version, m.name, m.checksum) for m in mine]


def test_the_trail_table_has_exactly_the_declared_columns(store: SqlStore) -> None:
    described = store.query(
        "SELECT name, type FROM system.columns "
        "WHERE database = currentDatabase() AND table = 'trail' "
        "AND default_kind != 'MATERIALIZED' ORDER BY position"
    )
    assert described == [(c.name, c.type) for c in COLUMNS]
    # Computed by ClickHouse (lookup index), never written by the consumer nor hashed.
    computed = store.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() "
        "AND table = 'trail' AND default_kind = 'MATERIALIZED'"
    )
    assert computed == [("subjects",)]


def test_the_stored_subjects_expression_is_the_catalogues(store: SqlStore) -> None:
    # Every column naming a person (schemas.catalogue) feeds `subjects`: a new person
    # column without a migration resetting the expression would hide people from
    # erasure and export.
    ((stored,),) = store.query(
        "SELECT default_expression FROM system.columns WHERE database = currentDatabase() "
        "AND table = 'trail' AND name = 'subjects'"
    )
    ((derived,),) = store.query("SELECT formatQuery({q:String})", {"q": f"SELECT {subjects_sql()}"})

    def columns(expression: str) -> set[str]:
        listed = re.search(r"\[(.*)\]", expression, re.DOTALL)
        assert listed, expression
        return set(re.findall(r"\b(\w+_id)\b", listed[1]))

    assert columns(stored) == columns(derived)
    assert stored.startswith("arrayDistinct(arrayFilter(x -> (x != ''), [")


def test_the_trail_writes_small_compressed_blocks_for_session_reads(store: SqlStore) -> None:
    # Migration 0009: a session read decompresses blocks, not just its rows.
    ((engine,),) = store.query(
        "SELECT engine_full FROM system.tables "
        "WHERE database = currentDatabase() AND name = 'trail'"
    )
    assert "min_compress_block_size = 8192" in engine
    assert "max_compress_block_size = 65536" in engine
    assert "non_replicated_deduplication_window = 10000" in engine  # kept


def test_the_analyst_views_exist_and_are_documented(store: SqlStore) -> None:
    views = store.query_dicts(
        "SELECT name, comment FROM system.tables "
        "WHERE database = currentDatabase() AND engine = 'View' ORDER BY name"
    )
    assert [v["name"] for v in views] == [
        "v_participation",
        "v_payment_attempts",
        "v_session_timeline",
    ]
    assert all(len(v["comment"]) > 40 for v in views)


def test_a_full_row_of_every_event_type_round_trips(store: SqlStore, topic: str) -> None:
    linked, _ = linked_rows(topic)
    families = {row[INDEX["family"]] for row in linked}
    assert families == {"session_event", "transaction_event"}
    store.insert_trail(linked, f"{topic}:0:0-{len(linked) - 1}")
    stored = store.query(SELECT_ALL + " ORDER BY kafka_offset", {"topic": topic})
    assert stored == linked


def test_views_read_the_stored_events(store: SqlStore, topic: str) -> None:
    linked, _ = linked_rows(topic)
    store.insert_trail(linked, f"{topic}:0:0-{len(linked) - 1}")
    session = linked[0][INDEX["session_id"]]
    timeline = store.query_dicts(
        "SELECT event_type FROM v_session_timeline WHERE session_id = {s:UUID} "
        "ORDER BY occurred_at, event_id",
        {"s": session},
    )
    assert timeline
    attempts = store.query_dicts("SELECT outcome FROM v_payment_attempts")
    assert {a["outcome"] for a in attempts} <= {"succeeded", "failed", "pending"}
    assert store.query("SELECT count() FROM v_participation")[0][0] > 0


def test_the_same_token_twice_stores_the_rows_once(store: SqlStore, topic: str) -> None:
    linked, _ = linked_rows(topic)
    token = f"{topic}:0:0-{len(linked) - 1}"
    store.insert_trail(linked, token)
    # A replay after a crash: same offsets and hashes, a later ingested_at.
    replay = [replaced(r, "ingested_at", datetime.now(UTC)) for r in linked]
    store.insert_trail(replay, token)
    assert count(store, topic) == len(linked)
    store.insert_trail(linked[:1], f"{topic}:0:0-0")  # another token is another insert
    assert count(store, topic) == len(linked) + 1


def test_chain_heads_are_the_last_stored_row_of_each_partition(store: SqlStore, topic: str) -> None:
    assert store.chain_heads(topic) == {}
    events = list(one_of_each().values())
    heads = {}
    for partition, (first, last) in enumerate([(0, 9), (9, 18)]):
        rows = decoded_rows(events[first:last], topic, partition, 100 * partition)
        linked, heads[partition] = link(rows, ChainHead.start(topic, partition))
        store.insert_trail(linked[:4], f"{topic}:{partition}:a")
        store.insert_trail(linked[4:], f"{topic}:{partition}:b")
    assert store.chain_heads(topic) == heads
    assert heads[1].offset == 108


def test_checkpoints_are_stored(store: SqlStore, topic: str) -> None:
    _, head = linked_rows(topic)
    at = datetime(2026, 11, 2, 12, 0, 0, 123456, tzinfo=UTC)
    store.insert_checkpoints([head, ChainHead.start(topic, 5)], at)
    stored = store.query(
        "SELECT topic, partition, offset, row_hash, created_at FROM chain_checkpoints "
        "WHERE topic = {t:String}",
        {"t": topic},
    )
    assert stored == [(topic, 0, head.offset, head.row_hash, at)]  # never-linked heads skipped


def test_query_parameters_keep_hostile_strings_as_data(store: SqlStore, topic: str) -> None:
    assert store.query("SELECT {s:String}", {"s": HOSTILE}) == [(HOSTILE,)]
    assert store.query("SELECT {s:Array(String)}", {"s": [HOSTILE, "b"]}) == [([HOSTILE, "b"],)]
    linked, _ = linked_rows(topic)
    hostile = [replaced(row[: len(ROW_COLUMNS)], "failure_message", HOSTILE) for row in linked[:2]]
    store.insert_trail(link(hostile, ChainHead.start(topic, 0))[0], f"{topic}:0:0-1")
    found = store.query_dicts(
        "SELECT kafka_offset, failure_message FROM trail "
        "WHERE kafka_topic = {t:String} AND failure_message = {m:String} ORDER BY kafka_offset",
        {"t": topic, "m": HOSTILE},
    )
    assert found == [
        {"kafka_offset": 0, "failure_message": HOSTILE},
        {"kafka_offset": 1, "failure_message": HOSTILE},
    ]
    assert store.query("SELECT count() FROM trail WHERE actor_id = {a:String}", {"a": HOSTILE}) == [
        (0,)
    ]
    assert count(store, topic) == 2  # the table is still there


def test_typed_parameters(store: SqlStore) -> None:
    some_id = uuid.uuid4()
    when = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    ((same_id, same_when, later, flag),) = store.query(
        "SELECT {i:UUID}, {t:DateTime64(6, 'UTC')}, {t:DateTime64(6, 'UTC')} + "
        "toIntervalMicrosecond(1), {b:Bool}",
        {"i": some_id, "t": when.astimezone(), "b": True},
    )
    assert (same_id, same_when, later, flag) == (
        some_id,
        when,
        when + timedelta(microseconds=1),
        True,
    )


def test_mistakes_are_refused_clearly(store: SqlStore, topic: str) -> None:
    with pytest.raises(QueryRejected) as rejected:
        store.query("SELECT nope FROM trail")
    assert rejected.value.code == 47  # UNKNOWN_IDENTIFIER
    with pytest.raises(BadParameter):
        store.query("SELECT {v:Nullable(String)}", {"v": None})
    linked, _ = linked_rows(topic)
    with pytest.raises(InvalidInput, match="dedup token"):
        store.insert_trail(linked, "it's; DROP")
    with pytest.raises(InvalidInput, match="columns"):
        store.insert_trail([row[: len(ROW_COLUMNS)] for row in linked], f"{topic}:0:x")
    assert count(store, topic) == 0


def test_ping(store: SqlStore) -> None:
    store.ping()


def test_embedded_engine_is_bound_to_one_directory_per_process(
    store: SqlStore, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if not isinstance(store, EmbeddedStore):
        pytest.skip("chDB limit only")
    with pytest.raises(EmbeddedPathInUse) as refused:
        EmbeddedStore(tmp_path_factory.mktemp("other"), "audit")
    assert refused.value.code == 36  # BAD_ARGUMENTS


def test_an_unreachable_server_is_retriable(tmp_path: Path) -> None:
    unreachable = open_store("clickhouse://user:pw@127.0.0.1:1?connect_timeout=1", tmp_path)
    assert isinstance(unreachable, ServerStore)
    assert unreachable.database == "audit"  # the default when the URL names none
    with pytest.raises(StoreUnavailable) as down:
        unreachable.ping()
    assert isinstance(down.value, Retriable)
    with pytest.raises(InvalidInput, match="clickhouse://"):
        open_store("http://127.0.0.1:8123/audit", tmp_path)


def test_a_changed_migration_is_refused(store: SqlStore) -> None:
    edited = [Migration(1, "trail", "CREATE TABLE IF NOT EXISTS trail (x UInt8) ENGINE = Log")]
    with pytest.raises(MigrationChanged, match="0001_trail"):
        migrations.apply(store._execute, store.query, edited)
