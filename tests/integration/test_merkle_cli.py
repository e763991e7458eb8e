"""The released commands end to end on real Kafka and chDB: `consume` signs checkpoints,
`keys public`, `checkpoint`, `prove` (inclusion and --consistency) and `verify-proof`
with the public key alone; a consumer running signs at least every second of ingest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from audit_trail.stack import TopicLayout
from ledger import EmbeddedStore
from ledger.merkle import Checkpointer, signer_from
from producers import AuditProducer
from producers.simulation import simulate
from tests.support.ingest import DAY, cli_env, family_topics, service

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "audit_trail.cli"]


def _env(bootstrap: str, topics: TopicLayout, data_dir: Path) -> dict[str, str]:
    return {
        **cli_env(bootstrap, topics),
        "AUDIT_DATA_DIR": str(data_dir),
        "AUDIT_MASTER_KEY": "",
        "AUDIT_CHECKPOINT_KEY": "",
    }


def _run(env: dict[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == code, f"{args}: {done.stdout} {done.stderr}"
    return done


def _stored(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    store = EmbeddedStore(data_dir)
    try:
        return store.query(sql)
    finally:
        store.close()


def test_consume_signs_and_an_auditor_checks_a_proof_with_the_public_key_alone(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    data = tmp_path / "store"
    env = _env(kafka_bootstrap, topics, data)
    _run(env, "simulate", "--sessions", "12", "--seed", "5", "--start", "2026-11-02")
    _run(env, "consume", "--until-idle")
    key = _run(env, "keys", "public").stdout.strip()
    assert key.startswith("audit-trail+")
    assert (tmp_path / "store.checkpoint.key").exists()
    assert not list(data.glob("*.key"))

    # At shutdown every partition's tree covers every stored row.
    sizes = dict(
        _stored(
            data,
            "SELECT kafka_partition, max(tree_size) FROM merkle_checkpoints "
            f"WHERE kafka_topic = '{topics.session}' GROUP BY kafka_partition",
        )
    )
    counts = dict(
        _stored(
            data,
            "SELECT kafka_partition, count() FROM trail "
            f"WHERE kafka_topic = '{topics.session}' GROUP BY kafka_partition",
        )
    )
    assert sizes == counts
    printed = _run(env, "checkpoint").stdout
    assert printed.count("\u2014 audit-trail ") == len(counts) + len(
        _stored(
            data,
            "SELECT DISTINCT kafka_partition FROM trail "
            f"WHERE kafka_topic = '{topics.transaction}'",
        )
    )

    ((event_id,),) = _stored(
        data, f"SELECT toString(event_id) FROM trail WHERE kafka_topic = '{topics.session}' LIMIT 1"
    )
    bundle = tmp_path / "proof.json"
    _run(env, "prove", str(event_id), "--out", str(bundle))
    checked = _run(env, "verify-proof", str(bundle), "--public-key", key).stdout
    assert checked.startswith(f"ok: event {event_id} is leaf ")

    # The auditor needs no store: the key alone, from another directory, no settings.
    alone = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_", "KAFKA_"))}
    done = subprocess.run(
        [*CLI, "verify-proof", str(bundle), "--public-key", key],
        env={**alone, "AUDIT_DATA_DIR": str(tmp_path / "nowhere")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.startswith("ok:")
    assert not (tmp_path / "nowhere").exists()

    forged = json.loads(bundle.read_text())
    forged["entries"][0]["row"]["actor_id"] = "someone-else"
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    failed = _run(env, "verify-proof", str(tmp_path / "forged.json"), "--public-key", key, code=1)
    assert failed.stdout.startswith("FAILED: leaf ") and len(failed.stdout.splitlines()) == 1

    (tmp_path / "junk.json").write_text("{not json")
    junk = _run(env, "verify-proof", str(tmp_path / "junk.json"), "--public-key", key, code=2)
    assert (
        junk.stderr.startswith("error: cannot read the bundle") and "Traceback" not in junk.stderr
    )
    bad_key = _run(env, "verify-proof", str(bundle), "--public-key", "nonsense", code=2)
    assert "NAME+KEYID+BASE64" in bad_key.stderr and "Traceback" not in bad_key.stderr
    unknown = _run(env, "prove", "not-a-uuid", code=2)
    assert "is not a UUID" in unknown.stderr and "Traceback" not in unknown.stderr

    # More events, a second run: the new checkpoint extends the old one.
    old = sizes[0]
    _run(env, "simulate", "--sessions", "12", "--seed", "6", "--start", "2026-11-03")
    _run(env, "consume", "--until-idle")
    ((new,),) = _stored(
        data,
        "SELECT max(tree_size) FROM merkle_checkpoints "
        f"WHERE kafka_topic = '{topics.session}' AND kafka_partition = 0",
    )
    assert int(str(new)) > int(str(old))
    consistency = tmp_path / "consistency.json"
    _run(
        env,
        "prove",
        "--consistency",
        str(old),
        str(new),
        "--topic",
        topics.session,
        "--partition",
        "0",
        "--out",
        str(consistency),
    )
    assert "extends size" in _run(env, "verify-proof", str(consistency), "--public-key", key).stdout


def test_a_running_consumer_signs_at_least_every_second_of_ingest(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.migrate()
    try:
        consumer = service(kafka_bootstrap, topics, store)
        consumer.tree = Checkpointer(store, signer_from(None, tmp_path / "store", "test"), "test")
        runner = threading.Thread(target=consumer.run)
        runner.start()
        deadline = time.monotonic() + 60
        while not consumer.consumer.assignment():  # joined the group: ingest starts now
            assert runner.is_alive() and time.monotonic() < deadline, "the consumer did not start"
            time.sleep(0.1)
        events = list(simulate(40, 11, DAY))
        started = time.monotonic()
        with AuditProducer(kafka_bootstrap, family_topics(topics), linger_ms=5) as producer:
            for i, event in enumerate(events):  # a steady trickle for about 4 seconds
                producer.send(event)
                if i % 20 == 0:
                    producer.flush()
                    time.sleep(max(0.0, started + 4 * i / len(events) - time.monotonic()))
        deadline = time.monotonic() + 180
        while store.query("SELECT count() FROM trail")[0][0] < len(events):
            assert runner.is_alive() and time.monotonic() < deadline, "not every event stored"
            time.sleep(0.2)
        consumer.stop()
        runner.join(60)
        signed = store.query(
            "SELECT kafka_topic, kafka_partition, tree_size, first_offset, "
            "toUnixTimestamp64Micro(signed_at) FROM merkle_checkpoints ORDER BY signed_at"
        )
        stored = store.query(
            "SELECT kafka_topic, kafka_partition, kafka_offset, "
            "toUnixTimestamp64Micro(ingested_at) FROM trail"
        )
        assert len(stored) == len(events)
        # Every row ends up under a signed root (the shutdown signs what is left).
        waits = []
        for topic, partition, offset, read_at in stored:
            covering = [
                at
                for t, p, size, first, at in signed
                if (t, p) == (topic, partition) and offset - first < size
            ]
            assert covering, f"{topic}[{partition}] offset {offset} never signed"
            waits.append(min(covering) - read_at)
        # Signed while ingesting, not only at shutdown: rows read early are under a root
        # long before the last ones arrive. (The bound on the wait is the consumer loop's
        # pace, about a second plus one store round trip; checked with a clock in
        # tests/unit/test_merkle.py, since this machine's speed varies.)
        rounds = sorted({at for *_, at in signed})
        assert len(rounds) >= 2
        assert [w for w, (*_, read) in zip(waits, stored, strict=True) if read + w < rounds[-1]]
    finally:
        store.close()
