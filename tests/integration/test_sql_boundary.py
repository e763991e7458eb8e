"""Analysts' SQL on the real engine: every probe refused, and nothing changed afterwards.

A day of events goes through the real broker and consumer into a chDB store with
encrypted personal fields; then each probe runs through ``run_readonly``. Afterwards
the counts of every table, ``verify`` and the files in the store directory (and the
places the probes aimed at) are as before.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from audit_trail.stack import TopicLayout, ensure_topics
from ledger import EmbeddedStore, verify
from ledger.chain import ChainHead
from ledger.embedded_readonly import EmbeddedReadOnly
from ledger.errors import StoreError
from ledger.privacy import StoreKeyStore, master_key_from
from ledger.privacy.master import key_path
from ledger.sql_guard import SqlRefused, run_readonly
from tests.support.ingest import fill, service

pytestmark = pytest.mark.integration

TABLES = ("trail", "trail_links", "chain_checkpoints", "subject_keys", "erasures")


@dataclass
class Probed:
    store: EmbeddedStore
    topics: TopicLayout
    directory: Path
    outside: Path  # a directory the probes try to write into or read from
    key_file: Path


@pytest.fixture(scope="module")
def probed(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probed]:
    suffix = uuid.uuid4().hex[:8]
    topics = TopicLayout(f"q.session-{suffix}", f"q.transaction-{suffix}", f"q.dlq-{suffix}")
    ensure_topics(kafka_bootstrap, topics)
    base = Path(tmp_path_factory.mktemp("sql"))
    directory = base / "store"
    store = EmbeddedStore(directory)
    store.migrate()
    keys = StoreKeyStore(store, master_key_from(None, directory))
    fill(kafka_bootstrap, topics, sessions=30, seed=909)
    service(kafka_bootstrap, topics, store, keys=keys).run(until_idle=True)
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for analysts\n")
    run_readonly(store, "SELECT 1")  # the read-only connection exists before the snapshot
    yield Probed(store, topics, directory, outside, key_path(directory))
    store.close()


# A MergeTree part's directory (``all_1_1_0``, ``202611_3_9_2_12``): background merges
# replace parts at any moment, so the parts are judged by row counts, not by files.
_PART = re.compile(r"^(?:tmp_merge_|delete_tmp_)?\w+?_\d+_\d+_\d+(?:_\d+)?$")


def _files(directory: Path) -> dict[str, int]:
    """Every file and folder in ``directory`` except what background merges rewrite."""
    return {
        str(p.relative_to(directory)): p.stat().st_size
        for p in directory.rglob("*")
        if not any(_PART.match(part) for part in p.relative_to(directory).parts)
    }


def _counts(store: EmbeddedStore) -> dict[str, int]:
    return {t: int(store.query(f"SELECT count() FROM {t}")[0][0]) for t in TABLES}


def _probes(p: Probed) -> list[str]:
    key, secret, target = p.key_file, p.outside / "secret.txt", p.outside / "written"
    return [
        # The probes: a quote in a comment, $$ strings and # comments hide a ';'.
        "SELECT 1 /*'*/ ); DROP TABLE trail; SELECT (1 /*'*/",
        "SELECT 1 /*'*/ ); ALTER TABLE trail UPDATE device_os = 'probe' WHERE 1; SELECT (1 /*'*/",
        "SELECT $$;$$; DROP TABLE trail",
        "SELECT 1 # '\n; DROP TABLE trail",
        "SELECT 1 #!\n; ALTER TABLE trail DELETE WHERE 1",
        f"INSERT INTO FUNCTION file('{target}', 'TSV') SELECT 1",
        f"SELECT 1; INSERT INTO FUNCTION file('{target}', 'TSV') SELECT 1",
        f"CREATE TABLE k ENGINE = Memory AS SELECT * FROM file('{key}', 'RawBLOB')",
        f"SELECT 1 /*'*/ ); CREATE TABLE k ENGINE = Memory AS SELECT * FROM file('{key}', "
        "'RawBLOB'); SELECT (1 /*'*/",
        "SELECT * FROM subject_keys",
        "SELECT * FROM audit.subject_keys",
        "SELECT * FROM audit.erasures",
        "SELECT * FROM erasures",
        "SELECT network_ip FROM trail",
        "SELECT network_ip FROM audit.trail",
        "SELECT engine_full FROM system.tables",
        "SELECT * FROM system.tables",
        "SELECT * FROM `system`.`tables`",
        "SELECT * FROM system.query_log",
        "SELECT count() FROM system.numbers",
        "SELECT * FROM INFORMATION_SCHEMA.TABLES",
        "SELECT * FROM information_schema.columns",
        # Scalar file() reads any path in chDB, readonly or not: refused by name.
        f"SELECT file('{key}')",
        f"SELECT file('{secret}')",
        f"SELECT length(file('{key}')) FROM v_session_timeline LIMIT 1",
        f"SELECT * FROM v_participation WHERE participant_id = file('{secret}')",
        f"WITH file('{key}') AS k SELECT k",
        # Table functions reaching files, URLs, processes, other tables.
        f"SELECT * FROM file('{secret}', 'LineAsString')",
        f"SELECT * FROM file('{key}', 'RawBLOB')",
        "SELECT * FROM url('http://127.0.0.1:9/x', 'RawBLOB')",
        "SELECT * FROM s3('http://127.0.0.1:9/b/x', 'RawBLOB')",
        "SELECT * FROM remote('127.0.0.1:9000', 'audit', 'subject_keys')",
        "SELECT * FROM executable('id', 'TSV', 'x String')",
        "SELECT * FROM merge('audit', 'subject_keys')",
        "SELECT * FROM view(SELECT * FROM audit.subject_keys)",
        "SELECT * FROM input('x String')",
        "SELECT * FROM numbers(10)",
        *(
            f"SELECT * FROM {call}"
            for call in (
                "sqlite('/tmp/x.db', 't')",
                "mysql('127.0.0.1:9', 'd', 't', 'u', 'p')",
                "postgresql('127.0.0.1:9', 'd', 't', 'u', 'p')",
                "hdfs('hdfs://h:9/x', 'TSV')",
                "azureBlobStorage('http://127.0.0.1:9', 'c', 'b')",
                "iceberg('/tmp/x')",
                "deltaLake('/tmp/x')",
                "odbc('DSN=x', 't')",
                "jdbc('x', 't')",
                "gcs('http://x/y')",
                "cluster('default', 'audit', 'subject_keys')",
                "loop(numbers(1))",
                "generateRandom('a Int8')",
                "dictionary('d')",
                "fuzzJSON('x')",
                "zeros(1)",
                "values('a Int8', 1)",
                "null('a Int8')",
                "format(TSV, 'x')",
                "clusterAllReplicas('default', audit.subject_keys)",
            )
        ),
        "SELECT * FROM file",  # an unqualified name that is no view: unknown to the engine
        "SELECT session_id FROM v_participation WHERE session_id IN subject_keys",
        "SELECT session_id FROM v_participation WHERE session_id IN (SELECT * FROM trail)",
        "SELECT generateSerialID('probe')",
        "SELECT {x:String}",
        "SELECT " + "(" * 5_000 + "1" + ")" * 5_000,
        "EXPLAIN PLAN header = 1 SELECT 1",
        "EXPLAIN SELECT * FROM file('/etc/hostname', 'LineAsString')",
        "DESCRIBE (SELECT file('/etc/hostname'))",
        "SELECT system.x FROM (SELECT 1 AS x) AS system",
        "SELECT * FROM v_session_timeline AS t, file('/etc/hostname', 'LineAsString') AS f",
        "DESCRIBE file('/etc/hostname', 'LineAsString')",
        "DESCRIBE TABLE subject_keys",
        "DESCRIBE audit.trail",
        "EXPLAIN SELECT * FROM audit.subject_keys",
        f"EXPLAIN SELECT file('{key}')",
        "SELECT dictGet('d', 'a', toUInt64(1))",
        "SELECT joinGet('audit.trail', 'network_ip', 1)",
        "SELECT getServerSetting('user_files_path')",
        "SELECT * FROM v_participation WHERE session_id IN audit.subject_keys",
        "SELECT * FROM v_participation WHERE session_id GLOBAL IN system.one",
        "SELECT (SELECT count() FROM audit.subject_keys)",
        "SELECT throwIf((SELECT count() FROM subject_keys) > 0)",
        # Writes, DDL and session state, plain and hidden.
        "DROP TABLE trail",
        "DROP TABLE v_session_timeline",
        "DROP DATABASE audit",
        "TRUNCATE TABLE trail",
        "ALTER TABLE trail UPDATE device_os = 'probe' WHERE 1",
        "ALTER TABLE audit.trail DELETE WHERE 1",
        "DELETE FROM trail WHERE 1",
        "INSERT INTO trail SELECT * FROM trail",
        "INSERT INTO v_session_timeline SELECT * FROM v_session_timeline",
        "CREATE TABLE x (a Int8) ENGINE = Memory",
        "CREATE TEMPORARY TABLE x (a Int8)",
        "CREATE VIEW v_x AS SELECT 1",
        "RENAME TABLE trail TO t2",
        "EXCHANGE TABLES trail AND chain_checkpoints",
        "SET readonly = 0",
        "SET allow_ddl = 1",
        "SELECT 1 SETTINGS readonly = 0",
        "SELECT 1 SETTINGS max_execution_time = 100000",
        "SELECT * FROM (SELECT 1 SETTINGS readonly = 0)",
        "SELECT * FROM v_session_timeline LIMIT 1 SETTINGS max_threads = 64",
        "USE audit",
        "USE system",
        "KILL QUERY WHERE 1",
        "KILL MUTATION WHERE 1",
        "SYSTEM STOP MERGES",
        "SYSTEM DROP DNS CACHE",
        "SYSTEM FLUSH LOGS",
        "OPTIMIZE TABLE trail FINAL",
        "ATTACH TABLE x FROM '/tmp' (a Int8) ENGINE = Memory",
        "DETACH TABLE trail",
        "GRANT ALL ON *.* TO default",
        "BACKUP TABLE trail TO File('b')",
        "SHOW TABLES",
        "SHOW CREATE TABLE subject_keys",
        "SHOW DATABASES",
        "CHECK TABLE trail",
        "WATCH v_session_timeline",
        # Output redirection and formats the analyst does not choose.
        f"SELECT 1 INTO OUTFILE '{target}'",
        f"SELECT * FROM v_session_timeline INTO OUTFILE '{target}' FORMAT CSV",
        f"EXPLAIN SELECT 1 INTO OUTFILE '{target}'",
        f"DESCRIBE v_participation INTO OUTFILE '{target}'",
        "SELECT 1 FORMAT JSON",
        # Multi-statement forms and syntax tricks.
        "SELECT 1; SELECT 2",
        "SELECT 1;;SELECT 2",
        "SELECT 1\n;\nDROP TABLE trail",
        "SELECT ';' ; DROP TABLE trail",
        'SELECT "a;" FROM v_participation; DROP TABLE trail',
        "SELECT `x;` FROM v_participation; DROP TABLE trail",
        "SELECT 'it''s'; DROP TABLE trail",
        "SELECT 1 -- ;\n; DROP TABLE trail",
        "SELECT 1 /* unterminated",
        "SELECT 'unterminated",
        "/* only a comment */",
        "-- only a comment",
        "   ",
        "",
        ";",
        "SELECT 1\x00; DROP TABLE trail",
        "\uff33\uff25\uff2c\uff25\uff23\uff34 1",  # fullwidth letters are not a keyword
        "SELECT 1\uff1bDROP TABLE trail",  # a fullwidth semicolon
        "SELECT 1\u2028; DROP TABLE trail",
        "DR\u200bOP TABLE trail",  # a zero-width space inside a keyword
        "SELECT * FROM v_session\u200btimeline",
        "SELECT 1 /* \u202e */; DROP TABLE trail",  # right-to-left override in a comment
        "WITH v_participation AS (SELECT * FROM trail) SELECT * FROM v_participation",
        "WITH v_participation AS (SELECT * FROM audit.subject_keys) SELECT 1",
        "SELECT " + "1 + " * 20_000 + "1",
    ]


def test_every_probe_is_refused_and_nothing_changes(probed: Probed) -> None:
    store = probed.store
    before_counts, before_files = _counts(store), _files(probed.directory)
    before_outside = _files(probed.outside)
    assert before_counts["trail"] > 0 and before_counts["subject_keys"] > 0
    passed = []
    for probe in _probes(probed):
        try:
            run_readonly(store, probe)
        except SqlRefused as refused:
            message = str(refused)
            assert "\n" not in message and "chDB query failed" not in message, message
            assert "Traceback" not in message and message.strip(), message
        else:
            passed.append(probe)
    assert passed == [], f"ran: {passed}"
    assert _counts(store) == before_counts
    assert _files(probed.directory) == before_files
    assert _files(probed.outside) == before_outside
    assert not probed.key_file.is_relative_to(probed.directory), "the key lives outside"
    tables = {
        str(r[0]) for r in store.query("SELECT name FROM system.tables WHERE database = 'audit'")
    }
    assert set(TABLES) <= tables
    assert store.query("SELECT count() FROM trail WHERE device_os = 'probe'")[0][0] == 0
    assert verify(store, [probed.topics.session, probed.topics.transaction]).ok


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count() FROM v_session_timeline",
        "select count() from v_payment_attempts;",
        "-- a note first\nSELECT count() FROM v_participation",
        "/* a note */ SELECT 1 # and a hash comment",
        "WITH x AS (SELECT session_id FROM v_session_timeline) SELECT count() FROM x",
        "WITH 2 AS two SELECT two",
        "SELECT $$a;b$$ AS s",
        "SELECT 'é ü 日本' AS s",
        "SELECT outcome, count() FROM v_payment_attempts GROUP BY outcome ORDER BY outcome",
        "SELECT * FROM v_participation AS p WHERE p.joins > 0 LIMIT 3",
        "SELECT event_type FROM v_session_timeline "
        "UNION ALL SELECT outcome FROM v_payment_attempts",
        "SELECT session_id FROM v_session_timeline WHERE session_id IN "
        "(SELECT session_id FROM v_participation)",
        # One statement each: a string with an escaped quote, a nested comment.
        "SELECT 'a\\'; DROP TABLE trail; --' AS s",
        "SELECT 1 /* nested /* ; */ ; DROP TABLE trail */",
        "DESCRIBE v_session_timeline",
        "DESCRIBE TABLE v_payment_attempts",
        "EXPLAIN SELECT count() FROM v_participation",
    ],
)
def test_reads_of_the_views_run(probed: Probed, sql: str) -> None:
    result = run_readonly(probed.store, sql)
    assert result.columns and not result.truncated
    assert probed.store.query("SELECT count() FROM trail")[0][0] > 0


def test_views_carry_no_personal_or_ciphertext_columns(probed: Probed) -> None:
    for view in ("v_session_timeline", "v_payment_attempts", "v_participation"):
        names = {r["name"] for r in run_readonly(probed.store, f"DESCRIBE {view}").records()}
        assert not names & {"network_ip", "payer_name", "payer_email", "row_hash", "key_id"}


def test_a_truncated_result_says_so(probed: Probed) -> None:
    total = probed.store.query("SELECT count() FROM trail")[0][0]
    cut = run_readonly(probed.store, "SELECT event_id FROM v_session_timeline", max_rows=5)
    assert len(cut.rows) == 5 and cut.truncated
    whole = run_readonly(probed.store, "SELECT event_id FROM v_session_timeline", max_rows=total)
    assert len(whole.rows) == total and not whole.truncated


def test_engine_errors_are_one_line_without_the_wrapper(probed: Probed) -> None:
    with pytest.raises(SqlRefused) as caught:
        run_readonly(probed.store, "SELECT no_such_column FROM v_participation")
    message = str(caught.value)
    assert message.startswith("refused by ClickHouse: ") and "UNKNOWN_IDENTIFIER" in message
    assert "chDB" not in message and "DB::Exception" not in message and "\n" not in message
    assert "version" not in message and "In scope" not in message


def test_the_owners_connection_still_writes_beside_the_read_only_one(probed: Probed) -> None:
    run_readonly(probed.store, "SELECT 1")
    before = _counts(probed.store)["chain_checkpoints"]
    probed.store.insert_checkpoints([ChainHead("probe-topic", 0, 1, "h")])
    assert _counts(probed.store)["chain_checkpoints"] == before + 1
    with pytest.raises(SqlRefused, match="READONLY"):
        run_readonly(probed.store, "SELECT 1 SETTINGS readonly = 0")


def test_an_analyst_database_holding_anything_else_stops_sql(probed: Probed) -> None:
    store = probed.store
    store.execute("CREATE TABLE audit_analyst.planted (a Int8) ENGINE = Memory")
    try:
        with pytest.raises(StoreError, match="DROP DATABASE audit_analyst"):
            EmbeddedReadOnly(probed.directory, "audit", store.execute)
    finally:
        store.execute("DROP TABLE audit_analyst.planted")
