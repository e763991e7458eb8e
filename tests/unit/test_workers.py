"""Decoding in worker processes: chunks of one partition in offset order, results in the
order the chunks went out, the same items as in-process decoding, and a worker killed
mid-chunk either restarted (its chunk decoded again) or, if it keeps dying, one error."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from consumers.chunks import Chunk, InProcess, chunks_of
from consumers.workers import MAX_RESTARTS, WorkerPool, WorkersFailed
from producers.simulation import simulate
from schemas import AvroCodec, Decoded, InvalidInput
from schemas.confluent import ConfluentSchemas
from tests.support.processes import decoding_workers
from tests.support.samples import DAY

NOW = datetime(2026, 11, 3, tzinfo=UTC)
POISON = b"kill the worker"


def records(partition: int, count: int, first: int = 0) -> list[SimpleNamespace]:
    codec = AvroCodec()
    events = list(simulate(count // 3 + 10, partition + 11, DAY))[:count]
    out = [
        SimpleNamespace(
            offset=first + i,
            timestamp=1_700_000_000_000 + i,
            key=event.key,
            value=codec.encode(event.family, event.to_avro()),
            headers=[("h", b"v")],
        )
        for i, event in enumerate(events)
    ]
    if count > 5:
        out[3].value = b"\xc3\x01 not avro"  # a dead letter in the middle keeps its place
        out[5].value = None  # a tombstone too
    return out


def test_chunks_hold_one_partition_in_order_at_most_size_records() -> None:
    messages = records(0, 1234, first=40)
    chunks = chunks_of("t", 0, messages, 500, NOW, 4, shift=1000)
    assert [len(c.records) for c in chunks] == [500, 500, 234]
    offsets = [c.message(i).offset for c in chunks for i in range(len(c.records))]
    assert offsets == [1040 + i for i in range(1234)]  # the chain segment's shift applied
    assert all(c.topic == "t" and c.partition == 0 and c.partitions == 4 for c in chunks)
    first = chunks[0].message(0)
    assert (first.key, first.value, first.headers) == (
        messages[0].key,
        messages[0].value,
        messages[0].headers,
    )
    assert chunks_of("t", 0, [], 500, NOW, 4) == []


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    workers = WorkerPool(2, AvroCodec(uuids_as_text=True))
    yield workers
    workers.close()


def test_workers_return_what_in_process_decoding_does_in_chunk_order(pool: WorkerPool) -> None:
    # Uneven chunks over two partitions, interleaved: the small ones finish first.
    chunks: list[Chunk] = []
    for partition, size, first in ((0, 300, 0), (1, 7, 0), (0, 1, 300), (1, 250, 7)):
        chunks += chunks_of("t", partition, records(partition, size, first), 100, NOW, 2)
    decoded = pool.decode(chunks)
    assert decoded == InProcess(AvroCodec(uuids_as_text=True)).decode(chunks)
    for chunk, items in zip(chunks, decoded, strict=True):
        assert [item.offset for item in items] == [r[0] for r in chunk.records]
    for partition in (0, 1):
        mine = [items for c, items in zip(chunks, decoded, strict=True) if c.partition == partition]
        offsets = [i.offset for items in mine for i in items]
        assert offsets == list(range(len(offsets)))  # strictly increasing, none lost
    codes = {i.letter.reason_code for items in decoded for i in items if i.letter is not None}
    assert codes == {"tombstone", "unknown_fingerprint"}
    # Unsealed: personal fields are sealed in the consumer process, which owns the keys.
    assert pool.decode([]) == []


def test_start_waits_until_every_worker_answers(pool: WorkerPool) -> None:
    pool.start()
    assert len(_workers()) == 2


def test_a_worker_killed_while_idle_is_started_again(pool: WorkerPool) -> None:
    chunks = chunks_of("t", 0, records(0, 30), 10, NOW, 2)
    pool.decode(chunks)
    before = pool.restarts
    for child in _workers():
        os.kill(child, signal.SIGKILL)
    assert pool.decode(chunks) == InProcess(AvroCodec(uuids_as_text=True)).decode(chunks)
    assert pool.restarts == before + 1


class DyingCodec(AvroCodec):
    """Kills its own process on the poison value: once (while ``marker`` does not exist),
    or always."""

    def __init__(self, marker: Path | None) -> None:
        super().__init__(uuids_as_text=True)
        self.marker = marker

    def decode(self, data: bytes) -> Decoded:
        if data == POISON and (self.marker is None or not self.marker.exists()):
            if self.marker is not None:
                self.marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return super().decode(data)


def _poisoned() -> list[Chunk]:
    messages = records(0, 40)
    messages[25].value = POISON
    return chunks_of("t", 0, messages, 10, NOW, 2)


def test_a_worker_killed_mid_chunk_is_started_again_and_the_chunk_decoded_again(
    tmp_path: Path,
) -> None:
    chunks = _poisoned()
    dying = WorkerPool(2, DyingCodec(tmp_path / "died-once"))
    try:
        decoded = dying.decode(chunks)
    finally:
        dying.close()
    assert (tmp_path / "died-once").exists()
    assert dying.restarts >= 1
    assert decoded == InProcess(AvroCodec(uuids_as_text=True)).decode(chunks)
    assert [i.offset for items in decoded for i in items] == list(range(40))


def test_workers_that_keep_dying_stop_with_one_line_saying_what_to_do() -> None:
    dying = WorkerPool(1, DyingCodec(None))
    try:
        with pytest.raises(WorkersFailed) as failed:
            dying.decode(_poisoned())
    finally:
        dying.close()
    message = str(failed.value)
    assert "\n" not in message
    assert f"died {MAX_RESTARTS + 1} times" in message
    assert "t[0] offsets 20..29" in message
    assert "nothing of them was stored or committed" in message
    assert "AUDIT_INGEST_WORKERS=0" in message


def test_a_codec_that_cannot_cross_to_a_worker_is_refused_at_once() -> None:
    codec = AvroCodec(uuids_as_text=True)
    codec.registry_schemas = ConfluentSchemas(SimpleNamespace(), codec.registry)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="AUDIT_INGEST_WORKERS=0"):
        WorkerPool(2, codec)
    with pytest.raises(InvalidInput, match="at least one worker"):
        WorkerPool(0, AvroCodec())


def _workers() -> list[int]:
    return decoding_workers(os.getpid())


def test_two_polls_in_flight_when_a_worker_dies_are_both_decoded_after_one_restart(
    tmp_path: Path,
) -> None:
    # The consumer sends one poll's chunks before it takes the previous poll's: a worker
    # dying on the first takes the second's queued chunks with it; one restart serves both.
    first, second = _poisoned(), chunks_of("t", 0, records(0, 40, first=40), 10, NOW, 2)
    dying = WorkerPool(1, DyingCodec(tmp_path / "died-once"))
    try:
        flights = [dying.submit(first), dying.submit(second)]
        decoded = [flight.results() for flight in flights]
    finally:
        dying.close()
    in_process = InProcess(AvroCodec(uuids_as_text=True))
    assert decoded == [in_process.decode(first), in_process.decode(second)]
    assert dying.restarts == 1


@pytest.mark.parametrize(("cores", "expected"), [(1, 0), (2, 0), (3, 2), (8, 7)])
def test_by_default_workers_leave_the_consumer_a_core_of_its_own(
    cores: int, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit_trail import wiring
    from audit_trail.settings import Settings

    monkeypatch.setattr(wiring.os, "sched_getaffinity", lambda _pid: set(range(cores)))
    assert wiring.ingest_workers(Settings()) == expected
    assert wiring.ingest_workers(Settings(ingest_workers=3)) == 3
