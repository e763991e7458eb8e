"""The released commands, as the issue ran them: `erase`, then a new store built from the
same topics with `consume --until-idle`; and `erase` with the broker down."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit_trail.stack import TopicLayout
from ledger import EmbeddedStore
from ledger.privacy import ERASED, StoreKeyStore, erasures_of, master_key_from
from ledger.privacy.erasures import FROM_TOPIC_NOTE
from tests.support.ingest import cli_env

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "audit_trail.cli"]
NETWORK = ("network_ip", "network_country", "network_region", "network_city")


def _env(bootstrap: str, topics: TopicLayout, data_dir: Path) -> dict[str, str]:
    return cli_env(bootstrap, topics) | {
        "AUDIT_TOPIC_ERASURES": topics.erasures,
        "AUDIT_DATA_DIR": str(data_dir),
        "AUDIT_MASTER_KEY": "",
    }


def _run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=300)
    if ok:
        assert done.returncode == 0, f"{args}: {done.stderr}"
    return done


def _busiest_client_with_ip(data_dir: Path) -> str:
    store = EmbeddedStore(data_dir)
    try:
        rows = store.query(
            "SELECT actor_id FROM trail WHERE actor_role = 'client' AND network_ip IS NOT NULL "
            "GROUP BY actor_id ORDER BY count() DESC, actor_id LIMIT 1"
        )
    finally:
        store.close()
    return str(rows[0][0])


def test_erase_then_a_store_rebuilt_from_the_topics_never_shows_the_ip_again(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    first = _env(kafka_bootstrap, topics, tmp_path / "first")
    _run(first, "simulate", "--sessions", "25", "--seed", "43", "--start", "2026-11-02")
    _run(first, "consume", "--until-idle")
    subject = _busiest_client_with_ip(tmp_path / "first")
    before = [json.loads(line) for line in _run(first, "export", subject).stdout.splitlines()]
    ips = {r["network_ip"] for r in before if r["actor_id"] == subject and r.get("network_ip")}
    assert ips and ERASED not in ips
    _run(first, "erase", subject, "--yes")

    _run(first, "consume", "--until-idle")  # a restart records no second erasure

    rebuilt = _env(kafka_bootstrap, topics, tmp_path / "rebuilt")  # and a new master.key
    _run(rebuilt, "consume", "--until-idle")
    _run(rebuilt, "consume", "--until-idle")
    exported = _run(rebuilt, "export", subject).stdout
    assert exported and not [ip for ip in ips if ip in exported]
    rows = [json.loads(line) for line in exported.splitlines()]
    assert len(rows) == len(before)
    assert {r["network_ip"] for r in rows if r["actor_id"] == subject and "network_ip" in r} == {
        ERASED
    }
    store = EmbeddedStore(tmp_path / "rebuilt")
    try:
        columns = ", ".join(NETWORK)
        stored = store.query(
            f"SELECT {columns} FROM trail WHERE actor_id = {{s:String}}", {"s": subject}
        )
        assert stored and {v for row in stored for v in row} <= {ERASED, None}
        recorded = erasures_of(store, subject)
        assert [(e.purposes, e.note) for e in recorded] == [(("personal",), FROM_TOPIC_NOTE)]
    finally:
        store.close()
    store = EmbeddedStore(tmp_path / "first")
    try:
        assert [e.purposes for e in erasures_of(store, subject)] == [("personal",)]
        assert erasures_of(store, subject)[0].erased_at == recorded[0].erased_at
    finally:
        store.close()
    assert "ok" in _run(rebuilt, "verify").stdout.lower()


def test_erase_with_the_broker_down_says_so_in_one_line_and_erases_nothing(
    topics: TopicLayout, tmp_path: Path
) -> None:
    data_dir = tmp_path / "store"
    store = EmbeddedStore(data_dir)
    store.migrate()
    keys = StoreKeyStore(store, master_key_from(None, data_dir))
    keys.key_for("client-00043", "personal")
    keys.flush()
    store.close()

    down = _env("127.0.0.1:1", topics, data_dir)  # nothing listens there
    done = _run(down, "erase", "client-00043", "--yes", ok=False)
    assert done.returncode == 1  # a run-time failure (usage errors are 2)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "nothing was erased" in lines[0].lower() and "127.0.0.1:1" in lines[0]

    store = EmbeddedStore(data_dir)
    try:
        kept = store.query("SELECT count() FROM subject_keys WHERE subject_id = 'client-00043'")
        assert kept[0][0] == 1
        assert store.query("SELECT count() FROM erasures")[0][0] == 0
    finally:
        store.close()
