"""The meeting itself: access attempts, joins, drop-outs and reconnects, notes, files and
chat metadata, leaving, completion and the client's rating."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from producers.events import (
    ChatMessageSent,
    Event,
    FileTransferred,
    NoteSaved,
    ParticipantDisconnected,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantReconnected,
    SessionAccessAttempted,
    SessionCompleted,
    SessionRated,
)
from schemas.events.session import ScreenShareStarted

if TYPE_CHECKING:
    from producers.simulation.people import Person
    from producers.simulation.script import SessionScript

_SERVICE = "session-service"
_MEDIA = ["application/pdf", "image/png", "image/jpeg", "text/plain"]


def play_meeting(s: SessionScript) -> Iterator[Event]:
    s.t = s.start - timedelta(minutes=5)
    people = [s.client, s.specialist]
    s.rng.shuffle(people)
    for person in people:
        yield from _enter(s, person)
    if s.release is not None and s.mode == "online" and s.release.random() < 0.6:
        yield from _screen_share(s)
    end = s.start + timedelta(minutes=50)
    while s.t < end - timedelta(minutes=3):
        s.later(30, 420)
        yield from _something(s, end)
    s.t = max(s.t, end)
    for person in people:
        s.later(2, 60)
        yield _participant(s, ParticipantLeft, person)
    s.later(1, 3)
    yield s.event(
        SessionCompleted, None, _SERVICE, client_id=s.client.id, specialist_id=s.specialist.id,
        mode=s.mode, duration_seconds=int((s.t - s.start).total_seconds()),
    )  # fmt: skip
    if s.rng.random() < 0.7:
        s.later(60, 1800)
        online = s.mode == "online"
        yield s.event(
            SessionRated, s.client, "review-service", rater_id=s.client.id,
            specialist_id=s.specialist.id,
            service_stars=s.rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 3, 10, 20])[0],
            audio_stars=s.rng.randint(2, 5) if online else None,
            video_stars=s.rng.randint(2, 5) if online else None,
        )  # fmt: skip


def _participant(s: SessionScript, cls: type[Event], who: Person, **extra: Any) -> Event:
    return s.event(cls, who, _SERVICE, participant_id=who.id, participant_role=who.role, **extra)


def _screen_share(s: SessionScript) -> Iterator[Event]:
    """v2 only: the specialist shares their screen (drawn from the release generator)."""
    assert s.release is not None
    s.t += timedelta(seconds=s.release.uniform(5, 120))
    yield _participant(
        s, ScreenShareStarted, s.specialist,
        event_id=uuid.UUID(int=s.release.getrandbits(128), version=4),
        screen_share_id=uuid.UUID(int=s.release.getrandbits(128), version=4),
    )  # fmt: skip


def _enter(s: SessionScript, who: Person) -> Iterator[Event]:
    s.later(0, 400)
    if s.rng.random() < 0.04:  # too early, or a stale link: denied once, then let in
        yield s.event(
            SessionAccessAttempted, who, _SERVICE, participant_id=who.id,
            participant_role=who.role, granted=False, denial_reason="session not open yet",
        )  # fmt: skip
        s.later(30, 240)
    yield s.event(
        SessionAccessAttempted, who, _SERVICE, participant_id=who.id, participant_role=who.role,
        granted=True,
    )  # fmt: skip
    s.later(1, 10)
    waited = {"waiting_room_ms": s.release.randint(0, 300_000)} if s.release else {}
    yield _participant(s, ParticipantJoined, who, **waited)


def _something(s: SessionScript, end: object) -> Iterator[Event]:
    who = s.rng.choice([s.client, s.specialist])
    other = s.specialist if who is s.client else s.client
    roll = s.rng.random()
    if roll < 0.12 and s.mode == "online":
        yield s.event(
            ParticipantDisconnected, who, _SERVICE, participant_id=who.id,
            participant_role=who.role, reason=s.rng.choice(["network", "timeout", "app_closed"]),
        )  # fmt: skip
        offline = s.rng.uniform(3, 90)
        s.later(offline, offline)
        yield s.event(
            ParticipantReconnected, who, _SERVICE, participant_id=who.id,
            participant_role=who.role, offline_ms=int(offline * 1000),
        )  # fmt: skip
    elif roll < 0.40:
        yield s.event(
            NoteSaved, who, _SERVICE, note_id=s.new_id(), author_id=who.id,
            visibility="private" if who is s.specialist and s.rng.random() < 0.7 else "shared",
            size_bytes=s.rng.randint(40, 8000), content_sha256=s.digest(),
        )  # fmt: skip
    elif roll < 0.50:
        yield s.event(
            FileTransferred, who, _SERVICE, file_id=s.new_id(), sender_id=who.id,
            recipient_id=other.id, size_bytes=s.rng.randint(10_000, 5_000_000),
            media_type=s.rng.choice(_MEDIA), content_sha256=s.digest(),
        )  # fmt: skip
    else:
        attachments = 1 if s.rng.random() < 0.1 else 0
        yield s.event(
            ChatMessageSent, who, _SERVICE, message_id=s.new_id(), sender_id=who.id,
            recipient_id=other.id, size_bytes=s.rng.randint(2, 600),
            has_attachments=attachments > 0, attachment_count=attachments,
        )  # fmt: skip
