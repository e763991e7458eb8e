"""Decoding and checking Kafka records in worker processes, in the order they were read.

The consumer process polls, chains, inserts and commits; decoding (Avro, the event
checks, the envelope checks) is the part of a record's cost that needs nothing but the
record, so it can run in other processes (how many: ``audit_trail.wiring.ingest_workers``).
The rest stays in one process because the chain and the commit are sequential by nature.

What crosses the process boundary is a ``Chunk`` (``consumers.chunks``): one partition's
records in offset order, raw, a few hundred at a time, so one IPC round trip carries
many records. Results come back per chunk, in the order the chunks went out, so each
partition's offsets stay strictly increasing.

Workers are started with ``spawn``: a fork would copy kafka-python's IO threads (and
their locks) into the child. A worker ignores SIGTERM/SIGINT (a stop is the consumer's
decision: it drains and closes the pool) and exits when the consumer process dies.

A worker that dies (SIGKILL, the OOM killer) breaks the pool: it is started again and
the unfinished chunks are decoded again, which is safe because decoding has no side
effect and nothing is stored or committed before the consumer has the results. A pool
that keeps dying on the same chunks stops the consumer with ``WorkersFailed``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import wait

from consumers.batching import Item
from consumers.chunks import Chunk, decode_chunk
from schemas import AuditTrailError, AvroCodec, InvalidInput

log = logging.getLogger("consumers.ingest")

# A pool that breaks this many times in a row on the same chunks stops the consumer.
MAX_RESTARTS = 3


class WorkersFailed(AuditTrailError):
    """The decoding workers keep dying: stop, an operator looks (memory, a poison record)."""


# A codec, or a picklable callable that makes one in the worker (a codec holding a
# schema-registry client cannot cross the process boundary: it is made again there).
CodecSource = AvroCodec | Callable[[], AvroCodec]


class InFlight:
    """Chunks sent to a pool; ``results`` waits for them (and decodes again what a dead
    worker took with it)."""

    def __init__(self, pool: WorkerPool, chunks: Sequence[Chunk]) -> None:
        self.pool, self.chunks = pool, list(chunks)
        self.executor = pool.executor
        self.futures = {i: pool.send(chunk) for i, chunk in enumerate(self.chunks)}

    def results(self) -> list[list[Item]]:
        return self.pool.collect(self)


class WorkerPool:
    def __init__(self, workers: int, codec: CodecSource) -> None:
        if workers < 1:
            raise InvalidInput(f"a worker pool needs at least one worker, not {workers}")
        try:
            pickle.dumps(codec)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise InvalidInput(
                f"the codec cannot be sent to ingest workers ({exc}): give the consumer a "
                "codec factory, or set AUDIT_INGEST_WORKERS=0 to decode in its own process"
            ) from exc
        self.workers, self.codec = workers, codec
        self.restarts = 0  # over the pool's life, for the metrics and tests
        self.executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.codec,),
        )

    def start(self, timeout_s: float = 300.0) -> None:
        """Start every worker and wait until each has answered. A worker's start (an
        interpreter, the imports) takes seconds on a loaded machine: done before the
        consumer joins its group, not inside the poll loop, where it could outlast
        ``max_poll_interval_ms`` and cost the member its partitions."""
        deadline = time.monotonic() + timeout_s
        ready: set[int] = set()
        while len(ready) < self.workers:
            if time.monotonic() > deadline:
                raise WorkersFailed(
                    f"only {len(ready)} of {self.workers} ingest workers started within "
                    f"{timeout_s:.0f} s; set AUDIT_INGEST_WORKERS lower (0: none) and start "
                    "the consumer again"
                )
            try:
                # Each round spawns the workers not yet running; a started one answers
                # at once, so rounds repeat until every worker has answered once.
                answers = [self.executor.submit(os.getpid) for _ in range(self.workers)]
                ready.update(answer.result() for answer in answers)
            except BrokenProcessPool as exc:
                raise WorkersFailed(
                    f"ingest workers could not start ({exc}); set AUDIT_INGEST_WORKERS=0 to "
                    "decode in the consumer process, and start the consumer again"
                ) from exc
            if len(ready) < self.workers:
                time.sleep(0.05)

    def submit(self, chunks: Sequence[Chunk]) -> InFlight:
        """Sends ``chunks`` to the workers and returns at once."""
        return InFlight(self, chunks)

    def decode(self, chunks: Sequence[Chunk]) -> list[list[Item]]:
        return self.submit(chunks).results()

    def collect(self, flight: InFlight) -> list[list[Item]]:
        results: dict[int, list[Item]] = {}
        broken = 0
        while True:
            try:
                for i, future in flight.futures.items():
                    if i not in results:
                        results[i] = future.result()
                return [results[i] for i in range(len(flight.chunks))]
            except BrokenProcessPool as exc:
                for i, future in flight.futures.items():
                    if future.done() and not future.cancelled() and future.exception() is None:
                        results[i] = future.result()
                lost = [c.span for i, c in enumerate(flight.chunks) if i not in results]
                if flight.executor is self.executor:  # else: restarted already, for others
                    broken += 1
                    self._broke(exc, broken, lost)
                flight.executor = self.executor
                flight.futures = {
                    i: self.send(c) for i, c in enumerate(flight.chunks) if i not in results
                }

    def _broke(self, exc: BrokenProcessPool, times: int, lost: list[str]) -> None:
        if times > MAX_RESTARTS:
            raise WorkersFailed(
                f"ingest workers died {times} times in a row decoding {lost[0]}"
                f"{f' (and {len(lost) - 1} more chunks)' if len(lost) > 1 else ''}; "
                "nothing of them was stored or committed. Look for what kills them "
                "(the OOM killer: dmesg), or set AUDIT_INGEST_WORKERS=0 to decode in "
                "the consumer process, and start the consumer again"
            ) from exc
        log.warning(
            "an ingest worker died (%s); starting the workers again and decoding %d "
            "chunks again (nothing of them was stored)",
            exc,
            len(lost),
        )
        _discard(self.executor, timeout_s=5.0)
        self.restarts += 1
        self.executor = self._start()

    def send(self, chunk: Chunk) -> Future[list[Item]]:
        try:
            return self.executor.submit(_decode, chunk)
        except BrokenProcessPool:
            # Broken between two calls (a worker killed while idle): a failed future lets
            # ``collect`` restart the pool like any other break.
            failed: Future[list[Item]] = Future()
            failed.set_exception(BrokenProcessPool("the worker pool broke while idle"))
            return failed

    def close(self, timeout_s: float = 10.0) -> None:
        """Bounded: the chunks already running may finish (a few hundred records each)
        within ``timeout_s``; a worker still there then is killed. Nothing a worker holds
        is stored or committed, so killing it loses nothing."""
        _discard(self.executor, timeout_s)


def _discard(executor: ProcessPoolExecutor, timeout_s: float) -> None:
    # shutdown(wait=True) was seen to hang in CI after a worker had been SIGKILLed (the
    # consumer then outlived a 60 s stop): wait for the workers ourselves, with a bound.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + timeout_s
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            log.warning("ingest worker %s still there after %.0f s: killed", process.pid, timeout_s)
            process.kill()
            process.join(1.0)


# --- in the worker process -------------------------------------------------------------

_codec: AvroCodec | None = None


def _start_worker(codec: CodecSource) -> None:
    global _codec
    # A stop is the consumer's decision (a terminal's Ctrl-C or a group-wide SIGTERM
    # reaches every process): the consumer drains, then closes the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _codec = codec if isinstance(codec, AvroCodec) else codec()
    threading.Thread(target=_exit_with_parent, name="exit-with-consumer", daemon=True).start()


def _exit_with_parent() -> None:
    # A consumer killed with SIGKILL cannot close its pool: its workers must not linger.
    parent = multiprocessing.parent_process()
    if parent is not None:
        wait([parent.sentinel])
        os._exit(0)


def _decode(chunk: Chunk) -> list[Item]:
    if _codec is None:  # the initializer failed: the pool reports a broken worker
        raise WorkersFailed("ingest worker started without its codec")
    return decode_chunk(_codec, chunk)
