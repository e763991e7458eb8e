"""SIGKILL the consumer process, or one of its decoding workers, at random moments of a
large run; restart the consumer each time it is killed.

Afterwards the store holds every event exactly once, offsets are contiguous per
partition, and verify passes. The kills land mid-run: each one waits until the group's
committed offsets have moved since the last kill, then a random extra moment.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient

from audit_trail.stack import TopicLayout
from ledger import EmbeddedStore
from producers.events import Event
from tests.support.coordinator import group_offsets
from tests.support.ingest import assert_stored_exactly_once, cli_env, fill
from tests.support.processes import alive, decoding_workers
from tests.support.serve import wait_for

pytestmark = pytest.mark.integration
Popen = subprocess.Popen[bytes]
KILLS = 5


def _committed(admin: KafkaAdminClient, group: str) -> int:
    offsets = group_offsets(admin, group)
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


def _consume(env: dict[str, str], *extra: str, stderr: Any = subprocess.PIPE) -> Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "audit_trail.cli", "consume", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def _gone(workers: list[int]) -> None:
    """The consumer's workers exit with it, even when it is killed and cannot close them."""
    wait_for(lambda: not any(alive(pid) for pid in workers), "the workers to exit", timeout_s=60)


def _check_exactly_once(data_dir: Path, topics: TopicLayout, sent: list[Event]) -> None:
    store = EmbeddedStore(data_dir)
    try:
        assert_stored_exactly_once(store, topics, sent)
    finally:
        store.close()


def test_sigkill_at_random_moments_loses_and_doubles_nothing(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    rng = random.Random(os.environ.get("AUDIT_TEST_SEED", "7"))
    sent = fill(kafka_bootstrap, topics, sessions=1500, seed=77)
    group = f"crash-{uuid.uuid4().hex[:6]}"
    env = cli_env(kafka_bootstrap, topics) | {
        "AUDIT_DATA_DIR": str(tmp_path / "store"),
        "AUDIT_CONSUMER_GROUP": group,
        "AUDIT_BATCH_MAX_ROWS": "400",
        "AUDIT_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        # Killed with the consumer each time (the next test kills them on their own).
        "AUDIT_INGEST_WORKERS": "2",
    }
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    kills_mid_run = 0
    try:
        for _ in range(KILLS):
            before = _committed(admin, group)
            proc = _consume(env)
            step = rng.randint(500, 4000)
            deadline = time.monotonic() + 90
            while _committed(admin, group) < before + step and time.monotonic() < deadline:
                if proc.poll() is not None:
                    pytest.fail(f"consumer died by itself: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
                time.sleep(0.05)
            time.sleep(rng.uniform(0, 0.4))
            if _committed(admin, group) < len(sent):
                kills_mid_run += 1
            workers = decoding_workers(proc.pid)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            _gone(workers)
        final = _consume(env, "--until-idle")
        _, err = final.communicate(timeout=300)
        assert final.returncode == 0, err.decode()[-3000:]
    finally:
        admin.close()
    assert kills_mid_run >= 3, "the kills did not land during the run"

    _check_exactly_once(tmp_path / "store", topics, sent)


def test_sigkill_of_decoding_workers_mid_run_loses_and_doubles_nothing(
    kafka_bootstrap: str, topics: TopicLayout, tmp_path: Path
) -> None:
    """Workers killed under a running consumer are started again and their chunks decoded
    again; the consumer killed with its workers leaves none behind."""
    rng = random.Random(os.environ.get("AUDIT_TEST_SEED", "8"))
    sent = fill(kafka_bootstrap, topics, sessions=1500, seed=78)
    group = f"workers-{uuid.uuid4().hex[:6]}"
    env = cli_env(kafka_bootstrap, topics) | {
        "AUDIT_DATA_DIR": str(tmp_path / "store"),
        "AUDIT_CONSUMER_GROUP": group,
        "AUDIT_BATCH_MAX_ROWS": "400",
        "AUDIT_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "AUDIT_INGEST_WORKERS": "2",
    }
    log = tmp_path / "consume.log"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    with log.open("wb") as err:
        proc = _consume(env, stderr=err)
    try:
        kills_mid_run = 0
        for _ in range(3):
            before = _committed(admin, group)
            step = rng.randint(300, 2500)

            def moved(at_least: int = before + step) -> bool:
                assert proc.poll() is None, f"consumer died: {log.read_text()[-2000:]}"
                return _committed(admin, group) >= at_least or _committed(admin, group) >= len(sent)

            wait_for(moved, "the consumer to store more rows", timeout_s=120)
            time.sleep(rng.uniform(0, 0.3))
            workers = wait_for(lambda: decoding_workers(proc.pid), "the decoding workers")
            if _committed(admin, group) < len(sent):
                kills_mid_run += 1
            os.kill(rng.choice(workers), signal.SIGKILL)
        assert kills_mid_run >= 2, "the kills did not land during the run"
        # A stop while the workers decode: drained and closed in bounded time, exit 0.
        workers = wait_for(lambda: decoding_workers(proc.pid), "the decoding workers")
        stopping = _committed(admin, group) < len(sent)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
        _gone(workers)
        final = _consume(env, "--until-idle")
        _, err = final.communicate(timeout=300)
        assert final.returncode == 0, err.decode()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        admin.close()
    assert "an ingest worker died" in log.read_text()
    assert stopping, "the stop came after the backlog was stored"
    _check_exactly_once(tmp_path / "store", topics, sent)
