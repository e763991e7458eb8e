"""The broker going away, on a broker of the test's own (the shared one is never paused):
paused longer than the request timeouts, SIGTERM while it is away, and `stack down`/`up`
keeping its data while `stack reset` wipes it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from audit_trail.stack import (
    DEFAULT_TOPICS,
    TopicLayout,
    ensure_topics,
    kafka_down,
    kafka_reset,
    kafka_up,
)
from consumers import DeadLetterPublisher, IngestConfig, IngestService
from ledger import EmbeddedStore, verify
from producers import AuditProducer
from producers.simulation import simulate
from tests.support.ingest import DAY, family_topics, fill, stored_ids
from tests.support.kafka import read_all
from tests.support.own_broker import OwnBroker, own_broker

pytestmark = pytest.mark.integration

REQUEST_TIMEOUT_MS = 10_000
PAUSE_S = 16  # longer than the consumer's request timeout


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnBroker]:
    root = tmp_path_factory.mktemp("own-broker") / "stack"
    with pytest.MonkeyPatch.context() as patch, own_broker(root, patch) as started:
        yield started


@pytest.fixture
def layout(broker: OwnBroker) -> TopicLayout:
    suffix = uuid.uuid4().hex[:8]
    topics = TopicLayout(f"away.session-{suffix}", f"away.tx-{suffix}", f"away.dlq-{suffix}")
    ensure_topics(broker.bootstrap, topics, partitions=2)
    return topics


def consumer_service(bootstrap: str, topics: TopicLayout, store: EmbeddedStore) -> IngestService:
    config = IngestConfig(
        topics=(topics.session, topics.transaction),
        dead_letter_topic=topics.dead_letter,
        group_id=f"away-{uuid.uuid4().hex[:8]}",
        watch_every_s=1.0,
    )
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=config.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
    )
    letters = DeadLetterPublisher(bootstrap, topics.dead_letter)
    return IngestService(config, consumer, store, letters)


def wait_for(what: str, check: object, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_a_broker_paused_longer_than_the_request_timeouts_is_waited_for(
    broker: OwnBroker, layout: TopicLayout, tmp_path: Path
) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.migrate()
    try:
        first = fill(broker.bootstrap, layout, sessions=6, seed=71)
        ingest = consumer_service(broker.bootstrap, layout, store)
        failures: list[BaseException] = []

        def run() -> None:
            try:
                ingest.run()
            except BaseException as exc:
                failures.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        try:
            wait_for("the first events", lambda: len(stored_ids(store, layout)) == len(first))
            broker.pause()
            try:
                time.sleep(PAUSE_S)
                assert failures == [], "the consumer died while the broker was away"
                assert worker.is_alive()
            finally:
                broker.resume()
            second = fill(broker.bootstrap, layout, sessions=6, seed=72)
            everything = sorted(str(e.event_id) for e in first + second)
            wait_for(
                "the events sent after the pause",
                lambda: sorted(stored_ids(store, layout)) == everything,
                120,
            )
        finally:
            ingest.stop()
            worker.join(timeout=60)
        assert not worker.is_alive()
        assert failures == [], failures
        assert verify(store, [layout.session, layout.transaction]).ok
    finally:
        store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rows_stored(port: int) -> float:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
    except OSError:
        return 0.0
    found = re.findall(rb"^audit_ingest_rows_total\{[^}]*\} ([0-9.e+]+)$", text, re.M)
    return sum(float(v) for v in found)


def test_sigterm_while_the_broker_is_away_ends_the_consumer_in_bounded_time(
    broker: OwnBroker, tmp_path: Path
) -> None:
    # The CLI's consumer, on the default topics of the test's own broker.
    ensure_topics(broker.bootstrap, DEFAULT_TOPICS)
    group = f"away-cli-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "AUDIT_DATA_DIR": str(tmp_path / "data"),
        "AUDIT_CONSUMER_GROUP": group,
    }
    consume = subprocess.Popen(
        [sys.executable, "-m", "audit_trail.cli", "consume", "--metrics-port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stop_sending = threading.Event()
    topics = family_topics(DEFAULT_TOPICS)

    def keep_sending() -> None:
        # Events keep coming until the broker goes away: a batch is in flight then.
        with AuditProducer(broker.bootstrap, topics, linger_ms=5) as producer:
            for event in simulate(400, 73, DAY):
                if stop_sending.is_set():
                    return
                producer.send(event)
                time.sleep(0.002)

    sender = threading.Thread(target=keep_sending)
    sender.start()
    try:
        wait_for("the consumer to store rows", lambda: _rows_stored(port) > 0, 120)
        broker.pause()
        try:
            time.sleep(3)
            started = time.monotonic()
            consume.send_signal(signal.SIGTERM)
            try:
                out, err = consume.communicate(timeout=45)
            except subprocess.TimeoutExpired:
                consume.kill()
                out, err = consume.communicate()
                pytest.fail(f"SIGTERM did not end the consumer within 45 s:\n{err[-3000:]}")
            took = time.monotonic() - started
        finally:
            broker.resume()
    finally:
        stop_sending.set()
        sender.join(timeout=60)
        if consume.poll() is None:
            consume.kill()
    assert consume.returncode == 0, err[-3000:]
    assert took < 30, f"took {took:.0f} s to stop"
    assert "Traceback" not in err
    assert "stored " in out
    # Nothing committed that is not stored: each committed offset is at most one past the
    # partition's stored head.
    store = EmbeddedStore(tmp_path / "data", "audit")
    try:
        heads = {
            (topic, p): head.offset
            for topic in (DEFAULT_TOPICS.session, DEFAULT_TOPICS.transaction)
            for p, head in store.chain_heads(topic).items()
        }
    finally:
        store.close()
    probe = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group)
    try:
        committed = {
            (topic, p): probe.committed(TopicPartition(topic, p))
            for topic, p in [
                (t, p)
                for t in (DEFAULT_TOPICS.session, DEFAULT_TOPICS.transaction)
                for p in probe.partitions_for_topic(t)
            ]
        }
    finally:
        probe.close()
    assert any(offset for offset in committed.values()), "nothing was ever committed"
    for where, offset in committed.items():
        assert (offset or 0) <= heads.get(where, -1) + 1, (where, offset, heads)


def test_stack_down_and_up_keep_the_data_and_ports_and_reset_wipes_them(
    broker: OwnBroker,
) -> None:
    topic = TopicLayout(f"keep.a-{uuid.uuid4().hex[:6]}", "keep.b", "keep.c")
    ensure_topics(broker.bootstrap, topic, partitions=1)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    for i in range(3):
        producer.send(topic.session, value=b"kept %d" % i)
    producer.flush()
    producer.close()
    before = broker.bootstrap
    kafka_down()
    assert kafka_up() == before
    assert [r.value for r in read_all(before, topic.session, expected=3)] == [
        b"kept 0",
        b"kept 1",
        b"kept 2",
    ]
    kafka_reset()
    assert not broker.paths.data_dir.exists()
    after = kafka_up()
    admin = KafkaAdminClient(bootstrap_servers=after)
    try:
        assert topic.session not in admin.list_topics()
    finally:
        admin.close()
