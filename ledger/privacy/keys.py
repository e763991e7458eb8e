"""Data keys per data subject and purpose: what a key store must do (crypto-shredding).

Every personal value in the trail is sealed under a data key of its subject (``cipher``).
Erasing the subject destroys the keys; the trail rows and their hash chain stay as they
are, but the personal values in them can no longer be read.

Purposes separate what an erasure destroys from what the law makes us keep:
``personal`` (network context: IP, location) goes on erasure; ``billing`` (payer name
and e-mail on payment records) is kept for the accounting period (5 years) and
destroyed separately when it ends.

Many keys per subject, never one: each process creates its own active key for a
subject on first use, with a random id that every ciphertext names. Consumers that see
the same subject at the same time therefore never race to create "the" key, and no
process has to read the key table before sealing.

``StoreKeyStore`` keeps the keys wrapped under a master key in the store's
``subject_keys`` table. A KMS or HSM can be plugged in by implementing ``KeyStore``
(e.g. wrap data keys with the KMS instead of a local master key, or let it hold them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, get_args

from schemas import InvalidInput

Purpose = Literal["personal", "billing"]
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)


@dataclass(frozen=True)
class SubjectKey:
    """One data key: its id (named in every value sealed with it) and its 32 bytes."""

    key_id: str
    key: bytes = field(repr=False)


class KeyStore(Protocol):
    """Where data keys are created, found by id, and destroyed."""

    def key_for(self, subject_id: str, purpose: Purpose) -> SubjectKey:
        """This process's active key for the subject and purpose, created if needed.

        A created key is only buffered: ``flush`` persists it.
        """
        ...

    def flush(self) -> None:
        """Persist every key created since the last flush, in one write.

        Call it before inserting rows sealed with those keys: a row must never reach the
        store before its key (a crash in between would leave it unreadable).
        """
        ...

    def key_by_id(self, key_id: str) -> bytes | None:
        """The key with this id; None when it is destroyed or unknown."""
        ...

    def keys_by_id(self, key_ids: Iterable[str]) -> dict[str, bytes | None]:
        """``key_by_id`` for many ids in one round trip (readers open batches of rows)."""
        ...

    def key_ids(self, subject_id: str, purposes: Sequence[Purpose]) -> list[str]:
        """The ids of the subject's keys for these purposes (what ``destroy`` would
        destroy now), sorted: an erasure record names them."""
        ...

    def destroy(self, subject_id: str, purposes: Sequence[Purpose]) -> int:
        """Destroy every key of the subject for these purposes; the number destroyed."""
        ...


def check_subject(subject_id: str) -> str:
    if not isinstance(subject_id, str) or not subject_id:
        raise InvalidInput(f"subject id must be a non-empty string, got {subject_id!r}")
    return subject_id


def check_purposes(purposes: Sequence[Purpose]) -> list[Purpose]:
    # A lone string would be iterated letter by letter: refuse it.
    if isinstance(purposes, str) or not purposes:
        raise InvalidInput(f"purposes must be a non-empty list of {PURPOSES}, got {purposes!r}")
    for purpose in purposes:
        check_purpose(purpose)
    return list(dict.fromkeys(purposes))


def check_purpose(purpose: str) -> Purpose:
    for known in PURPOSES:
        if purpose == known:
            return known
    raise InvalidInput(f"purpose {purpose!r} is not one of {PURPOSES}")
