"""The erasures topic, read whole before the first row is sealed, then followed.

The consumer's sealer asks the feed whether a subject is erased (``RowSealer`` with
``erasures=feed``). Construction blocks until every notice published so far is in the
index, so a store built or rebuilt from Kafka never seals an erased subject's data under
a new key. Then a thread of its own follows the topic (a long-polling fetch returns as
soon as a notice arrives), so a notice published while the consumer runs applies to the
rows sealed from then on, whether or not rows are flowing. The ``erase`` command also
destroys keys after publishing (twice, ``settle_s`` apart), which covers rows sealed
just before the notice arrived.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from ledger.erasure_record import RECORD_KEY_PREFIX, BadErasureRecord, SignedRecord
from ledger.privacy import BadErasureNotice, ErasureFeedFailed, ErasureIndex, ErasureNotice, Purpose

log = logging.getLogger(__name__)


class ErasureFeed:
    """``ledger.privacy.Erasures`` kept current from the erasures topic."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        load_timeout_s: float = 60.0,
        **kafka_config: Any,
    ) -> None:
        self.topic = topic
        self.index = ErasureIndex()
        # Signed erasure records, in topic order: the consumer appends them to the trail.
        self._records: list[SignedRecord] = []
        self._records_lock = threading.Lock()
        self._where = f"erasures topic {topic} at {bootstrap_servers}"
        self._stop = threading.Event()
        self._failure: ErasureFeedFailed | None = None
        try:
            self._kafka = KafkaConsumer(
                bootstrap_servers=bootstrap_servers,
                group_id=None,  # every consumer reads every notice, from the start
                enable_auto_commit=False,
                client_id="audit-trail-erasure-feed",
                **kafka_config,
            )
        except KafkaError as exc:
            raise self._failed(f"cannot connect ({exc!r})") from exc
        try:
            self._load(topic, load_timeout_s)
        except BaseException:
            self._kafka.close()
            raise
        self._thread = threading.Thread(target=self._follow, name="erasure-feed", daemon=True)
        self._thread.start()

    def _load(self, topic: str, timeout_s: float) -> None:
        partitions = self._kafka.partitions_for_topic(topic)
        if not partitions:
            raise self._failed(
                "the topic does not exist; create it with `audit-trail topics create` (or by hand: "
                "README, personal data, erasure and retention)"
            )
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        self._kafka.assign(assigned)
        self._kafka.seek_to_beginning(*assigned)
        deadline = time.monotonic() + timeout_s
        try:
            ends = self._kafka.end_offsets(assigned)
            while any(self._kafka.position(tp) < ends[tp] for tp in assigned):
                if time.monotonic() >= deadline:
                    raise self._failed(f"not read to its end within {timeout_s:.0f} s")
                self._take(self._kafka.poll(timeout_ms=200))
        except KafkaError as exc:
            raise self._failed(f"reading it failed ({exc!r})") from exc
        log.info("%s: %d erasure(s) known", self._where, len(self.index))

    def _follow(self) -> None:
        try:
            while not self._stop.is_set():
                self._take(self._kafka.poll(timeout_ms=200))
        except ErasureFeedFailed as exc:
            self._failure = exc
        except KafkaError as exc:
            self._failure = self._failed(f"reading it failed ({exc!r})")
        except Exception as exc:  # surfaces on the ingest thread instead
            self._failure = self._failed(f"the feed stopped ({exc!r})")

    def erased(self, subject_id: str, purpose: Purpose, occurred_at: datetime) -> bool:
        if self._failure is not None:
            raise self._failure
        return self.index.erased(subject_id, purpose, occurred_at)

    def _take(self, polled: dict[Any, list[Any]]) -> None:
        for records in polled.values():
            for record in records:
                self._apply(record)

    def _apply(self, record: Any) -> None:
        at = f"{record.topic}[{record.partition}]@{record.offset}"
        if record.value is None:
            # A tombstone cannot withdraw an erasure: what was erased stays erased.
            log.warning("%s: tombstone ignored (an erasure is never withdrawn)", at)
            return
        if record.key is not None and record.key.startswith(RECORD_KEY_PREFIX):
            self._add_record(at, record.key, record.value)
            return
        try:
            notice = ErasureNotice.parse(record.key, record.value)
        except BadErasureNotice as exc:
            raise self._failed(
                f"{at} is not an erasure notice ({exc}). Only `audit-trail erase` writes "
                "there: if a newer version wrote it, upgrade this consumer; otherwise "
                "remove the record (README: the erasures topic)"
            ) from exc
        if self.index.add(notice):  # the subject id stays out of the log: it is personal
            log.info("%s: a %s erasure applies from now on", at, notice.purpose)

    def _add_record(self, at: str, key: bytes, value: bytes) -> None:
        try:
            signed = SignedRecord.from_kafka(key, value)
        except BadErasureRecord as exc:
            raise self._failed(
                f"{at} is not an erasure record ({exc}). Only `audit-trail erase` writes "
                "there: if a newer version wrote it, upgrade this consumer; otherwise "
                "remove the record (README: the erasures topic)"
            ) from exc
        with self._records_lock:
            self._records.append(signed)

    def records_since(self, seen: int) -> list[SignedRecord]:
        """The erasure records read after the first ``seen`` (in topic order)."""
        with self._records_lock:
            return self._records[seen:]

    def _failed(self, what: str) -> ErasureFeedFailed:
        return ErasureFeedFailed(
            f"{self._where}: {what}. The consumer stops rather than store data it may have to erase"
        )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self._kafka.close()

    def __enter__(self) -> ErasureFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
