"""SIGKILL the consumer process at random moments of a large run; restart it each time.

Afterwards the store holds every event exactly once, offsets are contiguous per
partition, and verify passes. The kills land mid-run: each one waits until the group's
committed offsets have moved since the last restart, then a random extra moment.
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

import pytest
from kafka import KafkaAdminClient

from audit_trail.stack import TopicLayout
from ledger import EmbeddedStore, verify
from tests.support.coordinator import group_offsets
from tests.support.ingest import cli_env, fill, offsets_contiguous, stored_ids

pytestmark = pytest.mark.integration
KILLS = 5


def _committed(admin: KafkaAdminClient, group: str) -> int:
    offsets = group_offsets(admin, group)
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


def _consume(env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "audit_trail.cli", "consume", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


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
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        final = _consume(env, "--until-idle")
        _, err = final.communicate(timeout=300)
        assert final.returncode == 0, err.decode()[-3000:]
    finally:
        admin.close()
    assert kills_mid_run >= 3, "the kills did not land during the run"

    store = EmbeddedStore(tmp_path / "store")
    try:
        ids = stored_ids(store, topics)
        assert len(ids) == len(set(ids)), "an event was stored twice"
        assert sorted(ids) == sorted(str(e.event_id) for e in sent), "an event was lost"
        assert offsets_contiguous(store, topics.session)
        assert offsets_contiguous(store, topics.transaction)
        report = verify(store, [topics.session, topics.transaction])
        assert report.ok, str(report)
    finally:
        store.close()
