"""The erasure record: a signed, PII-free statement in the trail that an erasure happened.

``erase`` signs it with the checkpoint key (a C2SP signed note, like checkpoints) and
publishes it on the erasures topic before it destroys any key; the consumer that owns
the store appends it to the trail as a row of its own chain (``<erasures topic>[0]``),
so it is a leaf of a signed tree and ``prove`` proves it like any event. The note body::

    audit-trail erasure/1
    subject hmac-sha256:<hex>        keyed hash of the subject id (see below)
    erased-at 2026-11-26T03:40:00.123456Z
    purposes personal
    keys-destroyed <key id> <key id> ...   (or "-": the subject had none here)
    billing-kept <the legal basis for the billing data kept>

**No subject id in clear.** The record lives as long as the trail, which is append-only;
a subject id in it could never be erased. It holds HMAC-SHA256 of the id under a key
derived from the master key: whoever holds the master key can answer "was this person
erased, when, what was destroyed?" (``subject_ref``), and nobody else can link the
record to a person, even by hashing every known id (a plain or publicly salted hash
could be reversed that way: ids are short). Destroying the master key makes the records
anonymous. docs/erasure.md says why.

**One record per erasure, whatever the retries.** Its event id is derived from the
subject and the key ids to destroy, not the time: an ``erase`` killed after publishing
and run again publishes the same event id, and the consumer appends a record only if
its event id is not in the trail yet.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.columns import INDEX, ROW_COLUMNS
from ledger.merkle.notes import NoteSigner, NoteVerifier
from ledger.rows import Row
from schemas import InvalidInput

HEADER = "audit-trail erasure/1"
EVENT_TYPE = "subject_erased"
FAMILY = "erasure"
# Fixed: the same subject and keys always give the same record id, in every store.
_NAMESPACE = uuid.UUID("5b3f7a52-31a4-4c56-9d3e-0f3b8f0c6e21")
_SUBJECT = re.compile(r"^hmac-sha256:[0-9a-f]{64}$")
_KEY_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_MAX_BASIS = 1000
# Kafka key of a record on the erasures topic (notices are keyed "<purpose>:<subject>").
RECORD_KEY_PREFIX = b"record:"
_MAX_NOTE_BYTES = 16_384


class BadErasureRecord(InvalidInput):
    """Text that is not an erasure record (or one whose signature does not check out)."""


def subject_ref(master_key: bytes, subject_id: str) -> str:
    """The record's name for a subject: HMAC-SHA256 of the id under a key derived from
    the master key (never the master key itself)."""
    derived = hmac.new(master_key, b"audit-trail erasure-record subject", hashlib.sha256)
    digest = hmac.new(derived.digest(), subject_id.encode(), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest}"


@dataclass(frozen=True)
class ErasureRecord:
    subject: str  # subject_ref(...)
    erased_at: datetime
    purposes: tuple[str, ...]
    key_ids: tuple[str, ...]  # sorted
    billing_kept: str

    def __post_init__(self) -> None:
        if not _SUBJECT.fullmatch(self.subject):
            raise BadErasureRecord("subject must be hmac-sha256:<64 hex digits>")
        if self.erased_at.tzinfo is None:
            raise BadErasureRecord("erased-at must be a UTC time")
        if not self.purposes or any(not p.isalpha() for p in self.purposes):
            raise BadErasureRecord(f"purposes {self.purposes!r} are not purpose names")
        if any(not _KEY_ID.fullmatch(k) for k in self.key_ids):
            raise BadErasureRecord("a key id holds characters a key id never has")
        if "\n" in self.billing_kept or len(self.billing_kept) > _MAX_BASIS:
            raise BadErasureRecord(f"billing-kept must be one line of <= {_MAX_BASIS} characters")

    @classmethod
    def new(
        cls,
        subject: str,
        erased_at: datetime,
        purposes: Sequence[str],
        key_ids: Sequence[str],
        billing_kept: str,
    ) -> ErasureRecord:
        at = erased_at.astimezone(UTC)
        return cls(subject, at, tuple(purposes), tuple(sorted(set(key_ids))), billing_kept)

    @property
    def event_id(self) -> uuid.UUID:
        """Same subject and same keys: same id (a retried erase is one record)."""
        return uuid.uuid5(_NAMESPACE, f"{self.subject}|{','.join(self.key_ids) or '-'}")

    def text(self) -> str:
        at = self.erased_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return (
            f"{HEADER}\nsubject {self.subject}\nerased-at {at}\n"
            f"purposes {' '.join(self.purposes)}\n"
            f"keys-destroyed {' '.join(self.key_ids) or '-'}\n"
            f"billing-kept {self.billing_kept or '-'}\n"
        )

    def sign(self, signer: NoteSigner) -> str:
        return signer.sign(self.text())

    @classmethod
    def parse(cls, text: str) -> ErasureRecord:
        """The record in a note body (the signed text, or the whole note)."""
        lines = text.partition("\n\n")[0].rstrip("\n").split("\n")
        if not lines or lines[0] != HEADER:
            raise BadErasureRecord(f"not an erasure record (its first line is not {HEADER!r})")
        fields = dict(line.split(" ", 1) for line in lines[1:] if " " in line)
        wanted = ("subject", "erased-at", "purposes", "keys-destroyed", "billing-kept")
        missing = [name for name in wanted if name not in fields]
        if missing or len(lines) != len(wanted) + 1:
            raise BadErasureRecord(f"the erasure record lacks {', '.join(missing) or 'nothing'}"
                                   f" or has extra lines ({len(lines)} lines)")  # fmt: skip
        try:
            at = datetime.strptime(fields["erased-at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        except ValueError as exc:
            raise BadErasureRecord(f"erased-at {fields['erased-at']!r} is not a UTC time") from exc
        keys = fields["keys-destroyed"]
        basis = fields["billing-kept"]
        return cls(
            fields["subject"],
            at,
            tuple(fields["purposes"].split(" ")),
            tuple(keys.split(" ")) if keys != "-" else (),
            basis if basis != "-" else "",
        )


def open_record(note: str, verifier: NoteVerifier) -> ErasureRecord:
    """The record in a signed note, if ``verifier``'s key signed it (``ProofFailed``)."""
    return ErasureRecord.parse(verifier.open(note))


@dataclass(frozen=True)
class SignedRecord:
    """A record with its signed note, as it travels on the erasures topic and is stored
    in the trail (the note is the row's ``reason``, covered by the row hash)."""

    record: ErasureRecord
    note: str

    @classmethod
    def sign(cls, record: ErasureRecord, signer: NoteSigner) -> SignedRecord:
        return cls(record, record.sign(signer))

    def key(self) -> bytes:
        # One key per record: compaction never drops one erasure's record for another's.
        return RECORD_KEY_PREFIX + str(self.record.event_id).encode()

    def value(self) -> bytes:
        return self.note.encode()

    @classmethod
    def from_kafka(cls, key: bytes, value: bytes | None) -> SignedRecord:
        if value is None or len(value) > _MAX_NOTE_BYTES:
            raise BadErasureRecord(f"empty or over {_MAX_NOTE_BYTES} bytes")
        try:
            note = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadErasureRecord(f"not UTF-8: {exc}") from exc
        signed = cls(ErasureRecord.parse(note), note)
        if key != signed.key():
            raise BadErasureRecord(f"key {key[:80]!r} does not match its record ({signed.key()!r})")
        return signed


_NIL = uuid.UUID(int=0)  # no session: only auditors read it (readers go by session)
_ACTOR = ("audit-trail-erase", "system", "audit-trail-erase", "1")


def record_row(
    signed: SignedRecord, topic: str, partition: int, offset: int, ingested_at: datetime
) -> Row:
    """The trail row of a record: the signed note in ``reason``, so the row hash (and the
    leaf) covers it; nothing personal anywhere."""
    values: list[object] = [None] * len(ROW_COLUMNS)
    values[: INDEX["device_kind"]] = (
        signed.record.event_id,
        EVENT_TYPE,
        FAMILY,
        1,
        signed.record.erased_at,
        _NIL,
        *_ACTOR,
    )
    values[INDEX["reason"]] = signed.note
    values[INDEX["kafka_topic"]] = topic
    values[INDEX["kafka_partition"]] = partition
    values[INDEX["kafka_offset"]] = offset
    values[INDEX["ingested_at"]] = ingested_at
    return tuple(values)
