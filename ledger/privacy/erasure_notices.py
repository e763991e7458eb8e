"""Erasure notices: what an erasure publishes so that every store built from Kafka honours it.

Destroying a subject's keys erases them from one store; the events in Kafka still hold
their personal fields in clear, and a store rebuilt from the topics would seal those with
fresh keys. So an erasure also publishes a notice to a compacted topic that is never
expired (``audit.erasures``), and the consumer reads every notice before it seals a row
(``ErasureIndex``): a personal value of an erased subject, of an event that happened
before the erasure, is stored as ``[erased]``, never in clear and never under a new key.

A notice names the subject id, the purposes erased and when; no IP, location, name or
e-mail. The subject id is itself personal (pseudonymous): it stays because a store can
only honour an erasure of someone it can recognise. A keyed hash would hide it, but only
under a secret that every future store must share; a store that lost it (the default
master key is a file kept with the store being rebuilt) could never apply the notices
and would have to refuse to start. See docs/erasure.md.

Wire format (JSON, UTF-8), one record per subject and purpose, so compaction keeps the
latest erasure of each purpose and never drops one purpose for another:
    key   = "<purpose>:<subject_id>"
    value = {"v": 1, "subject_id": ..., "purpose": ..., "erased_at": "<ISO 8601, UTC>"}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.access import subject_id as check_subject_id
from ledger.privacy.keys import Purpose, check_purpose
from schemas import InvalidInput

VERSION = 1


class BadErasureNotice(InvalidInput):
    """A record on the erasures topic that is not an erasure notice."""


@dataclass(frozen=True)
class ErasureNotice:
    subject_id: str
    purpose: Purpose
    erased_at: datetime

    def __post_init__(self) -> None:
        # People ids as events carry them: a notice names someone the trail can hold.
        try:
            check_subject_id(self.subject_id)
            check_purpose(self.purpose)
        except InvalidInput as exc:
            raise BadErasureNotice(str(exc)) from exc
        if not isinstance(self.erased_at, datetime) or self.erased_at.tzinfo is None:
            raise BadErasureNotice("erased_at must be a timezone-aware time")

    def key(self) -> bytes:
        return f"{self.purpose}:{self.subject_id}".encode()

    def value(self) -> bytes:
        body = {
            "v": VERSION,
            "subject_id": self.subject_id,
            "purpose": self.purpose,
            "erased_at": self.erased_at.astimezone(UTC).isoformat(),
        }
        return json.dumps(body, sort_keys=True).encode()

    @classmethod
    def for_purposes(
        cls, subject_id: str, purposes: Iterable[Purpose], erased_at: datetime
    ) -> list[ErasureNotice]:
        return [cls(subject_id, purpose, erased_at) for purpose in purposes]

    @classmethod
    def parse(cls, key: bytes | None, value: bytes) -> ErasureNotice:
        """The notice in one record; ``BadErasureNotice`` naming what is wrong."""
        try:
            body = json.loads(value.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadErasureNotice(f"not UTF-8 JSON: {exc}") from exc
        if not isinstance(body, dict) or body.get("v") != VERSION:
            raise BadErasureNotice(f"not a version-{VERSION} erasure notice")
        subject, purpose, at = body.get("subject_id"), body.get("purpose"), body.get("erased_at")
        if not isinstance(subject, str) or not isinstance(purpose, str):
            raise BadErasureNotice("subject_id and purpose must be strings")
        try:
            erased_at = datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError as exc:
            raise BadErasureNotice(f"erased_at {at!r} is not an ISO 8601 time") from exc
        if erased_at is None:
            raise BadErasureNotice("erased_at is missing")
        notice = cls(subject, purpose, erased_at)  # type: ignore[arg-type]  # checked there
        # The key decides what compaction keeps: one that disagrees with the value
        # could let a later record of another subject replace this one.
        if key is not None and key != notice.key():
            raise BadErasureNotice(f"key {key!r} does not match its value ({notice.key()!r})")
        return notice


class ErasureIndex:
    """Every erasure known so far: whether a subject's data for a purpose is erased.

    An erasure covers the events that happened at or before it (``occurred_at <=
    erased_at``): what the subject does afterwards (they came back and booked again) is
    new data. Events whose time is after the erasure but that were already stored then
    are covered in the original store by its destroyed keys.
    """

    def __init__(self) -> None:
        self._latest: dict[tuple[str, Purpose], datetime] = {}

    def __len__(self) -> int:
        return len(self._latest)

    def add(self, notice: ErasureNotice) -> bool:
        """Record ``notice``; True when it erases more than was known."""
        slot = (notice.subject_id, notice.purpose)
        known = self._latest.get(slot)
        if known is not None and known >= notice.erased_at:
            return False
        self._latest[slot] = notice.erased_at
        return True

    def notices(self) -> list[ErasureNotice]:
        """The latest notice of each subject and purpose."""
        return [ErasureNotice(s, p, at) for (s, p), at in list(self._latest.items())]

    def erased(self, subject_id: str, purpose: Purpose, occurred_at: datetime) -> bool:
        erased_at = self._latest.get((subject_id, purpose))
        return erased_at is not None and occurred_at <= erased_at
