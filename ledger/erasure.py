"""The right to erasure, by crypto-shredding: destroy the subject's personal-data keys.

The trail's rows and hash chain stay as they are (times, types, amounts), so verify
still passes; the subject's personal fields become unreadable everywhere at once
(reader, export, SQL, backups). Billing data is the exception the policies name ("all
personal data except billing data"; accounting records kept 5 years): payer name and
e-mail sit under a separate billing key that erasure keeps, and the rows carrying them
leave with the billing retention TTL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ledger.access import subject_id
from ledger.privacy import ErasureIncomplete, KeyStore, record_erasure
from ledger.store import Store

BILLING_NOTE = (
    "Kept: payer_name and payer_email in payment records are billing data that "
    "accounting law requires for 5 years; they stay readable under the billing key "
    "until those records' retention ends."
)


@dataclass(frozen=True)
class ErasureReport:
    subject_id: str
    keys_destroyed: int
    rows_with_erased_fields: int
    billing_rows_kept: int

    def __str__(self) -> str:
        return (
            f"erased {self.subject_id}: {self.keys_destroyed} personal-data key(s) destroyed; "
            f"personal fields of {self.rows_with_erased_fields} event(s) now read as "
            f"[erased] (IP address, location). {BILLING_NOTE} "
            f"({self.billing_rows_kept} payment record(s).)"
        )


def erase_subject(
    store: Store, keys: KeyStore, subject: str, settle_s: float = 1.0
) -> ErasureReport:
    """Destroy ``subject``'s personal-data keys, record it, report what stays and why.

    A consumer may have created a key for the subject that it had not stored yet when
    the first pass ran; a second pass after ``settle_s`` (longer than a batch's age)
    catches it. Destroying is idempotent.
    """
    sid = subject_id(subject)
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
    report = ErasureReport(sid, destroyed, erased, kept)
    record_erasure(store, sid, ["personal"], destroyed, BILLING_NOTE)
    return report


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
