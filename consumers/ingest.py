"""The ingest loop: Kafka in, the trail in ClickHouse out, nothing lost, nothing doubled.

The consumer polls, batches, publishes dead letters and commits; the trail's own order
(settle repeats, seal, store keys, link, insert one month per insert) is the ledger's,
written once in ``ledger.trail_writer``. Checkpoint order, per flush (never reordered):
  1. dead letters published to their topic and acknowledged,
  2. rows written by the ``TrailWriter`` (sealed, linked, inserted with dedup tokens),
  3. only then the offset after each batch committed to Kafka.
A crash anywhere re-reads from the store's own last offset (see ``_on_assigned``), so
a batch that was stored but not committed is skipped, not stored twice.

Before resuming a partition, and every few seconds after, the consumer checks that the
Kafka partition is still the one its chain was built from (``consumers.partitions``).
Stored offsets are Kafka offsets plus the chain segment's shift (``ledger.segments``);
the shift is 0 until an operator restarts a partition's chain.

An outage of the store or the dead-letter topic pauses the partitions and keeps polling,
so the group keeps this member (``consumers.backpressure``); a rebalance during one drops
what was in flight, and every partition resumes from the store's head.

Stopping is bounded: a stop (SIGTERM) makes one last attempt, with short timeouts, to
store what was read; what cannot be stored is left uncommitted, to be read again.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError

from consumers.backpressure import Backpressure, GroupChanged
from consumers.batching import Item, PartitionBatch
from consumers.chunks import Chunk, Decoder, Decoding, InProcess, chunks_of
from consumers.config import IngestConfig
from consumers.dead_letters import DeadLetterGuard, DeadLetterPublisher
from consumers.envelope import FlagWatch, partition_count
from consumers.membership import EmptyAssignmentWatch, GroupView
from consumers.metrics import IngestMetrics
from consumers.partitions import KafkaFacts
from consumers.positions import PartitionSource, Positions
from consumers.progress import Progress
from consumers.workers import CodecSource, WorkerPool
from ledger import ChainHead
from ledger.repeats import Deduplicator
from ledger.store_parts import EventIndex, TrailSink
from ledger.trail_batch import PartitionRows
from ledger.trail_writer import KeyFlusher, Sealer, TrailWriter
from schemas import AvroCodec, Retriable

log = logging.getLogger(__name__)
T = TypeVar("T")


class RecordAppender(Protocol):
    """Appends signed erasure records to their chain (consumers.erasure_records)."""

    @property
    def head(self) -> ChainHead | None: ...

    def append_new(self) -> None: ...


class TreeSigner(Protocol):
    """Extends the partitions' Merkle trees and signs checkpoints (ledger.merkle)."""

    def sign_due(self, heads: list[ChainHead], force: bool = False) -> None: ...


class IngestStore(TrailSink, EventIndex, Protocol):
    """What ingest needs of the store: the write path's parts (append, heads), and the
    event index for repeats."""


@dataclass
class IngestStats:
    """What this run did (the metrics hold the same, for scraping)."""

    rows: int = 0
    batches: int = 0  # partition batches stored
    inserts: int = 0  # store inserts (one per month among the batches flushed together)
    dead_letters: int = 0


class IngestService:
    def __init__(
        self,
        config: IngestConfig,
        consumer: KafkaConsumer,
        store: IngestStore,
        dead_letters: DeadLetterPublisher,
        *,
        codec: AvroCodec | None = None,
        metrics: IngestMetrics | None = None,
        sealer: Sealer | None = None,
        keys: KeyFlusher | None = None,
        partitions: PartitionSource | None = None,
        group_view: GroupView | None = None,
        tree: TreeSigner | None = None,
        erasure_records: RecordAppender | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        codec_factory: Callable[[], AvroCodec] | None = None,
    ) -> None:
        """``codec_factory``: makes the codec in each worker process (a picklable callable,
        for a codec that cannot be pickled, e.g. one holding a schema-registry client);
        without it the codec itself is sent to the workers."""
        self.config = config
        self.consumer = consumer
        self.store = store
        self.dead_letters = dead_letters
        self.codec = codec if codec is not None else AvroCodec(uuids_as_text=True)
        self.metrics = metrics if metrics is not None else IngestMetrics()
        self.clock = clock
        self.sealer = sealer  # used by the writer; kept for its report (ExpiryGate)
        self._kafka_facts = KafkaFacts(consumer)
        self.partitions = partitions if partitions is not None else self._kafka_facts
        self.membership = EmptyAssignmentWatch(
            config.group_id,
            config.topics,
            group_view if group_view is not None else self._kafka_facts,
            config.assignment_patience_s,
        )
        self.positions = Positions(consumer, store, self.partitions, self._retrying_value)
        self.progress = Progress(self.metrics, config.progress_every_s)
        self.tree = tree
        self.erasure_records = erasure_records
        self.stop_requested = threading.Event()
        self.backpressure = Backpressure(
            consumer, self.metrics, self.stop_requested, config.retry_initial_s, config.retry_max_s
        )
        self.guard = DeadLetterGuard(
            config.dead_letter_max_consecutive,
            config.dead_letter_max_ratio,
            config.dead_letter_ratio_window,
        )
        self.dedup = Deduplicator(
            store,
            timedelta(days=config.idempotency_window_days),
            clock,
            on_repeat=self.metrics.event_id_repeat,
        )
        self.writer = TrailWriter(store, self.dedup, sealer, keys, self._retrying_value)
        self._batches: dict[TopicPartition, PartitionBatch] = {}
        self._heads = self.positions.heads  # each partition's chain head (stored offsets)
        self._lag: int | None = None
        self._checkpointed: dict[TopicPartition, float] = {}
        self._lag_checked = 0.0
        self.stats = IngestStats()
        self._to_resume: set[TopicPartition] = set()
        # Rows read and not yet stored, over all partitions: bounds memory and insert size.
        self._unstored = 0
        # Offsets of stored rows that Kafka refused to commit: retried with the next commit.
        self._uncommitted: dict[TopicPartition, OffsetAndMetadata] = {}
        self._flagged = FlagWatch(self.metrics)
        source: CodecSource = codec_factory if codec_factory is not None else self.codec
        self.decoder: Decoder = (
            WorkerPool(config.workers, source) if config.workers > 0 else InProcess(self.codec)
        )
        # One poll's chunks are decoded while the previous poll's are taken and stored.
        self._decoding: _Decoding | None = None
        # Bumped whenever a partition is sought again (assigned, revoked, started over,
        # suspect): chunks read before are dropped, as the seek reads them again.
        self._epochs: dict[TopicPartition, int] = {}

    # --- lifecycle -----------------------------------------------------------------

    def run(self, until_idle: bool = False, idle_grace_s: float = 1.0) -> None:
        """Consume until stopped (SIGTERM/SIGINT set ``stop_requested``) or, with
        ``until_idle``, until every assigned partition is stored up to its end."""
        self.consumer.subscribe(list(self.config.topics), listener=_Listener(self))
        # What is alive now (modules, schemas, clients, caches) lives as long as the
        # run: moved out of the collector's reach, full passes walk only the batches.
        gc.collect()
        gc.freeze()
        idle_since: float | None = None
        try:
            # Workers started before the first poll joins the group and its poll
            # interval starts counting.
            self.decoder.start()
            try:
                while not self.stop_requested.is_set():
                    try:
                        polled = self._step()
                    except GroupChanged:
                        self._start_over()
                        polled = True
                    if until_idle:
                        idle_since = self._idle_since(idle_since, bool(polled))
                        if idle_since is not None and time.monotonic() - idle_since >= idle_grace_s:
                            break
                self._take_decoded()  # bounded: one poll's chunks, already on their way
                self._flush_all()
                self._commit({})
                self._write_checkpoints(force=True)
                self._append_erasure_records()
                self._sign_tree(force=True)
            except (Retriable, GroupChanged) as exc:
                # Only a stop ends a retry loop: the outage outlasted the stop's patience.
                if not self.stop_requested.is_set():
                    raise
                log.warning(
                    "stopping with %d rows read but not stored (%s); nothing of them is "
                    "committed, so they are read again at the next start",
                    self._unstored,
                    exc,
                )
        finally:
            self._close()

    def _step(self) -> bool:
        """One poll and what follows it; whether it brought records."""
        # While chunks are being decoded, do not wait for more records: take them.
        waiting = self.config.poll_timeout_s if self._decoding is None else 0.0
        polled = self.consumer.poll(
            timeout_ms=int(waiting * 1000), max_records=self.config.max_poll_records
        )
        pending: set[TopicPartition] = set()
        if self._to_resume:
            pending, self._to_resume = self._to_resume, set()
            # Records fetched before the seek below (from the group's committed offset,
            # which another store's consumer may have moved) are fetched again after it.
            self._sought(pending)
            self.positions.resume(pending)
        chunks = [
            chunk
            for tp, messages in polled.items()
            if tp not in pending
            for chunk in self._chunks(tp, messages)
        ]
        # This poll's chunks go to the workers; the previous poll's are taken meanwhile.
        # Results come in chunk order, so per partition in offset order.
        previous = self._decoding
        self._decoding = None
        if chunks:
            epochs = [self._epochs.get(TopicPartition(c.topic, c.partition), 0) for c in chunks]
            self._decoding = _Decoding(chunks, epochs, self.decoder.submit(chunks))
        if previous is not None:
            self._take_all(previous)
        if self.config.workers == 0:
            self._take_decoded()  # decoded already: nothing to overlap with
        if self.positions.suspect:
            self._sought(self.positions.suspect)
            self.positions.check_suspects()
        self._flush_due()
        self._watch()
        return bool(polled)

    def _close(self) -> None:
        timeout_s = self.config.shutdown_timeout_s
        self.decoder.close()
        try:
            self.consumer.close(autocommit=False, timeout_ms=int(timeout_s * 1000))
        except KafkaError as exc:
            log.warning("consumer did not close cleanly: %s", exc)
        self.dead_letters.close(timeout_s)
        self.partitions.close()
        if self._kafka_facts is not self.partitions:
            self._kafka_facts.close()

    def stop(self) -> None:
        self.stop_requested.set()

    # --- reading ---------------------------------------------------------------------

    def _take_decoded(self) -> None:
        previous, self._decoding = self._decoding, None
        if previous is not None:
            self._take_all(previous)

    def _take_all(self, decoding: _Decoding) -> None:
        results = decoding.decoding.results()
        for chunk, epoch, items in zip(decoding.chunks, decoding.epochs, results, strict=True):
            tp = TopicPartition(chunk.topic, chunk.partition)
            if self._epochs.get(tp, 0) == epoch:  # else read before a seek: read again
                self._take(chunk, items)

    def _sought(self, tps: Iterable[TopicPartition]) -> None:
        for tp in tps:
            self._epochs[tp] = self._epochs.get(tp, 0) + 1

    def _chunks(self, tp: TopicPartition, messages: list[Any]) -> list[Chunk]:
        if tp in self.positions.suspect:
            return []  # read again once the partition is checked
        partitions = partition_count(self.consumer, tp.topic)
        size, shift = self.config.chunk_rows, self.positions.shift(tp)
        return chunks_of(tp.topic, tp.partition, messages, size, self.clock(), partitions, shift)

    def _take(self, chunk: Chunk, items: list[Item]) -> None:
        tp = TopicPartition(chunk.topic, chunk.partition)
        if tp in self.positions.suspect:
            return  # read again once the partition is checked
        head = self._heads.get(tp)
        batch = self._batches.setdefault(tp, PartitionBatch(tp.topic, tp.partition))
        floor = head.offset if head is not None else -1
        for index, item in enumerate(items):
            if item.offset <= floor:
                # Kafka moved the position back below what is stored (kafka-python resets
                # a position beyond the log's end to its start): the partition may have
                # started over. Check it before taking anything more from it.
                self.positions.suspect.add(tp)
                return
            # Already in this batch (fetched again after a seek).
            if item.offset <= max(floor, batch.last_offset if batch.items else -1):
                continue
            if item.letter is not None:
                self.metrics.dead_letter(item.letter.reason_code)
                self.guard.bad(item.letter)
            else:
                self.guard.good()
                if item.flags is not None:
                    self._flagged(chunk.message(index), item.flags)
            if not batch.takes(item):
                self._flush([tp])
                batch = self._batches.setdefault(tp, PartitionBatch(tp.topic, tp.partition))
            batch.add(item)
            self._unstored += 1
            if self._unstored >= self.config.batch_max_rows:
                self._flush(list(self._batches))
                batch = self._batches.setdefault(tp, PartitionBatch(tp.topic, tp.partition))

    # --- writing ---------------------------------------------------------------------

    def _flush_due(self) -> None:
        now = time.monotonic()
        max_rows, max_age = self.config.batch_max_rows, self.config.batch_max_age_s
        if any(batch.due(max_rows, max_age, now) for batch in self._batches.values()):
            # Once one batch is due, all go: one insert costs the engine about as much
            # for 200 rows as for 5,000, so fewer, larger inserts keep up and stay fresh.
            self._flush(list(self._batches))
        self._write_checkpoints()
        self._append_erasure_records()
        self._sign_tree()

    def _flush_all(self) -> None:
        self._flush(list(self._batches))

    def _flush(self, tps: list[TopicPartition]) -> None:
        """Store the batches of ``tps``: dead letters first, then the rows (the writer
        inserts one month per insert), then the offsets."""
        batches = {
            tp: b for tp in tps if (b := self._batches.pop(tp, None)) is not None and b.items
        }
        self._unstored = sum(len(b) for b in self._batches.values())
        if not batches:
            return
        started = time.monotonic()
        letters = [letter for b in batches.values() for letter in b.letters()]
        stopping = self.stop_requested.is_set()
        dlq_timeout = self.config.shutdown_timeout_s if stopping else 30.0
        self._retrying(self.dead_letters.send_all, letters, dlq_timeout)
        written = self.writer.write(
            [
                PartitionRows(tp.topic, tp.partition, b.rows(), self._heads.get(tp))
                for tp, b in batches.items()
            ]
        )
        self.stats.inserts += written.inserts
        self._commit(
            {
                tp: OffsetAndMetadata(self.positions.kafka_offset(tp, b.last_offset) + 1, "", -1)
                for tp, b in batches.items()
            }
        )
        seconds = time.monotonic() - started
        for tp, batch in batches.items():
            self._heads[tp] = written.heads[(tp.topic, tp.partition)]
            self.metrics.batch_stored(tp.topic, len(batch), seconds)
            self.stats.rows += len(batch)
            self.stats.batches += 1
            self.stats.dead_letters += len(batch.letters())

    def _commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        """Commit, and live with a refusal: the rows are stored, and every (re)assigned
        partition resumes from the store's head, so the offset is only a hint. Kafka
        refuses commits while the group rebalances (a member joined or left), which must
        not stop the consumer. Refused offsets go again with the next commit."""
        self._uncommitted.update(offsets)
        if not self._uncommitted:
            return
        # Bounded: with the broker away a commit would otherwise wait for a coordinator
        # forever (and a stop with it). A commit that times out goes with the next one.
        timeout_ms = int(self.config.commit_timeout_s * 1000)
        try:
            self.consumer.commit(dict(self._uncommitted), timeout_ms=timeout_ms)
        except KafkaError as exc:
            self.metrics.commit_failed()
            log.warning("offset commit refused, rows are stored; resuming from the store: %s", exc)
        else:
            self._uncommitted.clear()

    def _retrying(self, action: Callable[..., None], *args: Any) -> None:
        """Run ``action`` until it succeeds; while the store (or DLQ) is down, back off
        with the partitions paused, polling so the group keeps us (``Backpressure``)."""
        self.backpressure.run(action, *args)

    # --- bookkeeping -------------------------------------------------------------------

    def _on_assigned(self, assigned: list[TopicPartition]) -> None:
        # Runs on kafka-python's IO thread, which must not block: just note the work.
        self._to_resume.update(assigned)
        self._sought(assigned)

    def _on_revoked(self, revoked: list[TopicPartition]) -> None:
        # Abandon, never commit: the next owner resumes from the store's own head, so
        # rows not yet stored are simply read again there.
        self._sought(revoked)
        for tp in revoked:
            self._uncommitted.pop(tp, None)
            dropped = self._batches.pop(tp, None)
            self._unstored -= len(dropped) if dropped is not None else 0
            self.positions.drop(tp)
            self._to_resume.discard(tp)

    def _retrying_value(self, fn: Callable[[], T]) -> T:
        return self.backpressure.value(fn)

    def _start_over(self) -> None:
        """After a rebalance during an outage: forget every batch and head, and resume
        each assigned partition from the store's own head (what was stored is stored;
        the rest is read again)."""
        self._sought(set(self._batches) | set(self._heads) | set(self._epochs))
        for tp in list(self._batches) + list(self._heads):
            self.positions.drop(tp)
        self._batches.clear()
        self._unstored = 0
        self._to_resume = set(self.consumer.assignment())
        log.warning(
            "the group rebalanced during a store outage: rows read and not stored are "
            "read again from each partition's stored head"
        )

    def _write_checkpoints(self, force: bool = False) -> None:
        now = time.monotonic()
        due = [
            head
            for tp, head in self._heads.items()
            if head.offset >= 0
            and (force or now - self._checkpointed.get(tp, 0.0) >= self.config.checkpoint_every_s)
        ]
        if due:
            self.writer.checkpoint(due, self.clock())
            for head in due:
                self._checkpointed[TopicPartition(head.topic, head.partition)] = now

    def _sign_tree(self, force: bool = False) -> None:
        # Stored rows only (heads move after the insert): a checkpoint never covers
        # a row the store may not have.
        heads = list(self._heads.values())
        records = self.erasure_records
        if records is not None and records.head is not None and self._owns_records():
            heads.append(records.head)
        if self.tree is not None and heads:
            self._retrying(self.tree.sign_due, heads, force)

    def _append_erasure_records(self) -> None:
        # One writer per chain: the member that owns the first topic's partition 0.
        if self.erasure_records is not None and self._owns_records():
            self._retrying(self.erasure_records.append_new)

    def _owns_records(self) -> bool:
        topics = self.config.topics
        return bool(topics) and TopicPartition(topics[0], 0) in self.consumer.assignment()

    def _idle_since(self, since: float | None, got_records: bool) -> float | None:
        assigned = self.consumer.assignment()
        pending = self._decoding is not None or any(len(b) for b in self._batches.values())
        if got_records or pending or self._to_resume or not assigned:
            return None
        timeout_ms = int(self.config.commit_timeout_s * 1000)
        try:
            ends = self.consumer.end_offsets(list(assigned), timeout_ms=timeout_ms)
            if all(
                self.consumer.position(tp, timeout_ms=timeout_ms) >= ends[tp] for tp in assigned
            ):
                return since if since is not None else time.monotonic()
        except KafkaError as exc:
            self.progress.broker_quiet(exc)
        return None

    def _watch(self) -> None:
        """Every few seconds: lag, a progress line, and each partition's identity. A
        broker that does not answer leaves the lag unknown; it never stops ingest."""
        now = time.monotonic()
        if now - self._lag_checked < self.config.watch_every_s:
            return
        self._lag_checked = now
        assigned = sorted(self.consumer.assignment())
        self._rejoin_if_stuck(bool(assigned))
        try:
            facts = self.partitions.facts(assigned)
        except Retriable as exc:
            self.progress.broker_quiet(exc)
            self._lag = None
        else:
            self.progress.broker_back()
            self.positions.check(facts)
            self._lag = self.progress.lag(facts, self.positions.next_kafka_offsets())
        self.progress.maybe_log(self.stats.rows, self.stats.dead_letters, self._lag, len(assigned))

    def _rejoin_if_stuck(self, holds_partitions: bool) -> None:
        try:
            stuck = self.membership.stuck(holds_partitions)
        except Retriable as exc:
            self.progress.broker_quiet(exc)
            return
        if not stuck:
            return
        log.warning(
            "this member has held no partition of %s for %.0f s and no member of group %s "
            "holds any: leaving the group and joining again",
            ", ".join(self.config.topics),
            self.config.assignment_patience_s,
            self.config.group_id,
        )
        self.metrics.rejoined()
        self.consumer.unsubscribe()
        self.consumer.subscribe(list(self.config.topics), listener=_Listener(self))


@dataclass(frozen=True)
class _Decoding:
    """Chunks on their way through the decoder, with their partitions' epochs then."""

    chunks: list[Chunk]
    epochs: list[int]
    decoding: Decoding


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, service: IngestService) -> None:
        self.service = service

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self.service.backpressure.group_changed = True
        self.service._on_revoked(list(revoked))

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.service.backpressure.group_changed = True
        self.service._on_assigned(list(assigned))
