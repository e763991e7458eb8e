"""Dead letters at the edges: a message at the broker's size limit, a tombstone, a
dead-letter topic that refuses for good. None may wedge the consumer."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from audit_trail.stack import TopicLayout
from consumers.dead_letters import MAX_VALUE_BYTES, DeadLetterRefused
from ledger import EmbeddedStore, verify
from producers.events import Event
from schemas import AvroCodec
from tests.support.ingest import offsets_contiguous, service, stored_ids
from tests.support.kafka import read_all
from tests.support.samples import one_of_each

pytestmark = pytest.mark.integration

# Accepted by a broker with Kafka's default limits (message.max.bytes 1,048,588), but
# over the producer's default request limit (1 MiB) once headers are added.
AT_THE_LIMIT = 1_048_400


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    # One store per test: the tests send the same events, and a store that has them
    # already records the second copies as duplicates (event_id is the idempotency key).
    opened = EmbeddedStore(Path(tmp_path_factory.mktemp("letters")) / "store")
    opened.migrate()
    yield opened
    opened.close()


def good_events() -> list[Event]:
    return [e for e in one_of_each(seed=51).values() if e.family == "session_event"]


def send(bootstrap: str, topic: str, key: bytes, values: list[bytes | None]) -> None:
    raw = KafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=2 << 20)
    for value in values:
        raw.send(topic, key=key, value=value)
    raw.flush()
    raw.close()


def run_bounded(ingest: object, timeout_s: float = 120.0) -> list[BaseException]:
    """Run to idle in a thread; a consumer still running after ``timeout_s`` is wedged."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            ingest.run(until_idle=True)  # type: ignore[attr-defined]
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=timeout_s)
    if worker.is_alive():
        ingest.stop()  # type: ignore[attr-defined]
        worker.join(timeout=60)
        pytest.fail(f"the consumer was still running after {timeout_s:.0f} s: wedged")
    return failures


def test_a_message_at_the_size_limit_is_dead_lettered_cut_and_the_rest_stored(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    codec = AvroCodec()
    good = good_events()
    valid = [codec.encode(e.family, e.to_avro()) for e in good]
    huge = b"\xc3\x01" + bytes(range(256)) * (AT_THE_LIMIT // 256) + b"x" * (AT_THE_LIMIT % 256 - 2)
    assert len(huge) == AT_THE_LIMIT
    key = str(good[0].session_id).encode()
    send(kafka_bootstrap, topics.session, key, [valid[0], huge, *valid[1:]])
    ingest = service(kafka_bootstrap, topics, store)
    assert run_bounded(ingest) == []
    assert sorted(stored_ids(store, topics)) == sorted(str(e.event_id) for e in good)
    (letter,) = read_all(kafka_bootstrap, topics.dead_letter, expected=1)
    headers = dict(letter.headers)
    assert letter.value == huge[:MAX_VALUE_BYTES]
    assert int(headers["dlq.value_bytes"]) == AT_THE_LIMIT
    assert headers["dlq.value_sha256"].decode() == hashlib.sha256(huge).hexdigest()
    assert int(headers["dlq.offset"]) == 1
    (row,) = store.query(
        "SELECT size_bytes, content_sha256 FROM trail WHERE kafka_topic = {t:String} "
        "AND family = 'dead_letter'",
        {"t": topics.session},
    )
    assert row == (AT_THE_LIMIT, hashlib.sha256(huge).hexdigest())
    assert offsets_contiguous(store, topics.session)
    assert verify(store, [topics.session]).ok


def test_a_tombstone_is_dead_lettered_as_a_tombstone_and_stays_null(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    codec = AvroCodec()
    good = good_events()[:2]
    valid = [codec.encode(e.family, e.to_avro()) for e in good]
    send(kafka_bootstrap, topics.session, b"k", [valid[0], None, valid[1]])
    ingest = service(kafka_bootstrap, topics, store)
    assert run_bounded(ingest) == []
    assert sorted(stored_ids(store, topics)) == sorted(str(e.event_id) for e in good)
    (letter,) = read_all(kafka_bootstrap, topics.dead_letter, expected=1)
    assert letter.value is None
    assert dict(letter.headers)["dlq.reason_code"] == b"tombstone"
    rows = store.query(
        "SELECT kafka_offset, failure_code FROM trail WHERE kafka_topic = {t:String} "
        "AND family = 'dead_letter'",
        {"t": topics.session},
    )
    assert rows == [(1, "tombstone")]


def test_a_dead_letter_topic_that_refuses_for_good_stops_the_consumer(
    kafka_bootstrap: str, topics: TopicLayout, store: EmbeddedStore
) -> None:
    # A dead-letter topic whose limit is below even a cut letter: no retry can help.
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    small = TopicLayout(topics.session, topics.transaction, topics.dead_letter + "-small")
    try:
        admin.create_topics(
            [NewTopic(small.dead_letter, 1, 1, topic_configs={"max.message.bytes": "2000"})]
        )
    finally:
        admin.close()
    codec = AvroCodec()
    valid = codec.encode(good_events()[0].family, good_events()[0].to_avro())
    send(kafka_bootstrap, topics.session, b"k", [valid, b"\xc3\x01" + b"z" * 5000])
    ingest = service(kafka_bootstrap, small, store)
    failures = run_bounded(ingest)
    assert len(failures) == 1 and isinstance(failures[0], DeadLetterRefused), failures
    assert "refused the letter" in str(failures[0])
    assert "max.message.bytes" in str(failures[0])
    stored = store.query(
        "SELECT kafka_offset FROM trail WHERE kafka_topic = {t:String} AND kafka_offset >= 1",
        {"t": topics.session},
    )
    assert stored == [], "stored past a letter that was never sent"
