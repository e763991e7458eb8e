"""The right to erasure, by crypto-shredding: destroy the subject's personal-data keys.

The trail's rows and hash chain stay as they are (times, types, amounts), so verify
still passes; the subject's personal fields become unreadable everywhere at once
(reader, export, SQL, backups). Billing data is the exception the policies name ("all
personal data except billing data"; accounting records kept 5 years): payer name and
e-mail sit under a separate billing key that erasure keeps, and the rows carrying them
leave with the billing retention TTL.

Kafka still holds the subject's events in clear until the topics' retention ends, and a
store rebuilt from them would seal those values again under new keys. So an erasure
first publishes a notice (``ErasurePublisher``: the erasures topic) that every consumer
applies before sealing, and only then destroys keys: if the notice cannot be published,
nothing is erased and the caller is told to try again (see docs/erasure.md).

With a ``RecordSigning``, the notice goes with a signed, PII-free erasure record
(``ledger.erasure_record``) naming the keys about to be destroyed; the consumer appends
it to the trail, where ``prove`` proves it and ``verify`` checks its signature.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ledger.access import subject_id
from ledger.erasure_record import ErasureRecord, SignedRecord, subject_ref
from ledger.merkle.notes import NoteSigner
from ledger.privacy import (
    ErasureIncomplete,
    ErasureNotice,
    KeyStore,
    erasures_of,
    record_erasure,
)
from ledger.store_parts import TrailQueries

BILLING_NOTE = (
    "Kept: payer_name and payer_email in payment records are billing data that "
    "accounting law requires for 5 years; they stay readable under the billing key "
    "until those records' retention ends."
)


# The legal basis the record names for billing data kept (one line, no personal data).
BILLING_BASIS = (
    "payer_name and payer_email of payment records kept under the billing key: "
    "accounting records, kept 5 full accounting years as bookkeeping law requires"
)


class ErasurePublisher(Protocol):
    """Where erasure notices go so that stores built from Kafka honour them."""

    def publish(self, notices: Sequence[ErasureNotice], record: SignedRecord | None = None) -> None:
        """Every notice (and the record) acknowledged, or ``ErasureNotPublished``."""
        ...


@dataclass(frozen=True)
class RecordSigning:
    """What an erasure record needs: the checkpoint key signs it, and the master key
    keys the hash that stands for the subject."""

    signer: NoteSigner
    master_key: bytes = field(repr=False)


@dataclass(frozen=True)
class ErasureReport:
    subject_id: str
    keys_destroyed: int
    rows_with_erased_fields: int
    billing_rows_kept: int
    record_id: str | None = None  # the erasure record's event id, when one was published

    def __str__(self) -> str:
        recorded = (
            f" Erasure record {self.record_id} published: the consumer appends it to the "
            f"trail (`audit-trail prove {self.record_id}` once it is signed)."
            if self.record_id
            else ""
        )
        return (
            f"erased {self.subject_id}: {self.keys_destroyed} personal-data key(s) destroyed; "
            f"personal fields of {self.rows_with_erased_fields} event(s) now read as "
            f"[erased] (IP address, location). {BILLING_NOTE} "
            f"({self.billing_rows_kept} payment record(s).){recorded}"
        )


def erase_subject(
    store: TrailQueries,
    keys: KeyStore,
    subject: str,
    settle_s: float = 1.0,
    *,
    publisher: ErasurePublisher | None,
    signing: RecordSigning | None = None,
) -> ErasureReport:
    """Publish ``subject``'s erasure, destroy their personal-data keys, record it, and
    report what stays and why.

    ``publisher=None`` erases this store only (a store rebuilt from Kafka would not
    honour it): for tests and stores fed by nothing else.

    A consumer may have created a key for the subject that it had not stored yet when
    the first pass ran; a second pass after ``settle_s`` (longer than a batch's age plus
    the consumer's look at the erasures topic) catches it. Destroying is idempotent.
    """
    sid = subject_id(subject)
    erased_at = datetime.now(UTC)
    record = _record(store, keys, sid, erased_at, signing) if publisher is not None else None
    if publisher is not None:
        publisher.publish(ErasureNotice.for_purposes(sid, ["personal"], erased_at), record)
    destroyed = _destroy(keys, sid)
    time.sleep(settle_s)
    destroyed += _destroy(keys, sid)
    counts = store.query(
        "SELECT countIf(actor_id = {s:String} AND network_ip IS NOT NULL), "
        "countIf(payer_id = {s:String} AND payer_name IS NOT NULL) "
        "FROM trail WHERE has(subjects, {s:String})",
        {"s": sid},
    )
    erased, kept = (int(counts[0][0]), int(counts[0][1])) if counts else (0, 0)
    record_id = str(record.record.event_id) if record is not None else None
    report = ErasureReport(sid, destroyed, erased, kept, record_id)
    # The notice's time: a consumer of this store then knows it is recorded already.
    record_erasure(store, sid, ["personal"], destroyed, BILLING_NOTE, erased_at)
    return report


def _record(
    store: TrailQueries, keys: KeyStore, sid: str, at: datetime, signing: RecordSigning | None
) -> SignedRecord | None:
    """The signed record of this erasure, named by the keys it is about to destroy.

    Run again after being killed before the keys went, ``erase`` names the same keys, so
    the record has the same event id and is stored once. Run again after they went, it
    finds no key: if this store already records an erasure of the subject, there is
    nothing new to record (the first run's record is on the topic already).
    """
    if signing is None:
        return None
    key_ids = keys.key_ids(sid, ["personal"])
    if not key_ids and any("personal" in e.purposes for e in erasures_of(store, sid)):
        return None
    ref = subject_ref(signing.master_key, sid)
    record = ErasureRecord.new(ref, at, ["personal"], key_ids, BILLING_BASIS)
    return SignedRecord.sign(record, signing.signer)


def _destroy(keys: KeyStore, sid: str) -> int:
    try:
        return keys.destroy(sid, ["personal"])
    except ErasureIncomplete as exc:
        # The keys are gone from the table; old parts still on disk are cleaned up by
        # ClickHouse shortly. Retry once, then report what was destroyed.
        time.sleep(1.0)
        try:
            return keys.destroy(sid, ["personal"])
        except ErasureIncomplete:
            return exc.keys_destroyed
