"""Appending erasure records, over the in-memory trail: each record once, whatever fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consumers.erasure_records import ErasureRecordAppender
from ledger import ChainHead, StoreUnavailable
from ledger.erasure_record import ErasureRecord, SignedRecord, subject_ref
from ledger.merkle import NoteSigner
from tests.support.memory_trail import MemoryTrail

AT = datetime(2026, 11, 26, 3, 40, tzinfo=UTC)
SIGNER = NoteSigner("test.audit-trail", Ed25519PrivateKey.generate())
TOPIC = "erasures"


def _signed(subject: str) -> SignedRecord:
    record = ErasureRecord.new(subject_ref(b"m" * 32, subject), AT, ["personal"], ["k1"], "")
    return SignedRecord.sign(record, SIGNER)


class Feed:
    def __init__(self) -> None:
        self.records: list[SignedRecord] = []

    def records_since(self, seen: int) -> list[SignedRecord]:
        return self.records[seen:]


def test_each_record_is_appended_once_even_when_an_answer_is_lost() -> None:
    trail, feed = MemoryTrail(), Feed()
    appender = ErasureRecordAppender(trail, TOPIC, feed, lambda: AT)
    feed.records += [_signed("client-1"), _signed("client-2")]
    trail.refuse(1, landed=True)  # the first insert lands, its answer does not
    with pytest.raises(StoreUnavailable):
        appender.append_new()
    assert appender.head is None  # unknown until read again
    appender.append_new()  # the same records again: the stored one is skipped
    feed.records += [_signed("client-1")]  # re-published: the same record, skipped
    appender.append_new()
    rows = trail.stored(TOPIC, 0)
    assert [r.kafka_offset for r in rows] == [0, 1]
    assert len({str(r.event_id) for r in rows}) == 2
    assert appender.head == trail.chain_heads(TOPIC)[0]
    assert isinstance(appender.head, ChainHead) and appender.head.offset == 1
