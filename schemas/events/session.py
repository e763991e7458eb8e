"""Session events: what happens in and around a meeting (one topic, keyed by session)."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import Field

from schemas.events.envelope import (
    ByteSize,
    Event,
    Identifier,
    MediaType,
    Role,
    SessionMode,
    Sha256Hex,
    ShortText,
    Stars,
)

DisconnectReason = Literal["network", "timeout", "app_closed", "unknown"]


class SessionEvent(Event):
    family: ClassVar[str] = "session_event"


class SessionAccessAttempted(SessionEvent):
    event_type: Literal["session_access_attempted"] = "session_access_attempted"
    participant_id: Identifier
    participant_role: Role
    granted: bool
    denial_reason: ShortText | None = None


class ParticipantJoined(SessionEvent):
    event_type: Literal["participant_joined"] = "participant_joined"
    participant_id: Identifier
    participant_role: Role
    # v2: time in the waiting room before being let in; None from v1 producers.
    waiting_room_ms: int | None = Field(default=None, ge=0, le=24 * 3600 * 1000)


class ParticipantLeft(SessionEvent):
    event_type: Literal["participant_left"] = "participant_left"
    participant_id: Identifier
    participant_role: Role


class ParticipantDisconnected(SessionEvent):
    event_type: Literal["participant_disconnected"] = "participant_disconnected"
    participant_id: Identifier
    participant_role: Role
    reason: DisconnectReason = "unknown"


class ParticipantReconnected(SessionEvent):
    event_type: Literal["participant_reconnected"] = "participant_reconnected"
    participant_id: Identifier
    participant_role: Role
    offline_ms: int = Field(ge=0, le=7 * 24 * 3600 * 1000)


class SessionCompleted(SessionEvent):
    event_type: Literal["session_completed"] = "session_completed"
    client_id: Identifier
    specialist_id: Identifier
    mode: SessionMode
    duration_seconds: int = Field(ge=0, le=24 * 3600)


class NoteSaved(SessionEvent):
    """A note was saved. The trail keeps its size and digest, never its text."""

    event_type: Literal["note_saved"] = "note_saved"
    note_id: uuid.UUID
    author_id: Identifier
    visibility: Literal["private", "shared"]
    size_bytes: ByteSize
    content_sha256: Sha256Hex


class FileTransferred(SessionEvent):
    """A file was sent. The trail keeps size, type and digest, never the bytes."""

    event_type: Literal["file_transferred"] = "file_transferred"
    file_id: uuid.UUID
    sender_id: Identifier
    recipient_id: Identifier
    size_bytes: ByteSize
    media_type: MediaType
    content_sha256: Sha256Hex


class ChatMessageSent(SessionEvent):
    """A chat message was sent. The trail keeps who, when and size, never the text."""

    event_type: Literal["chat_message_sent"] = "chat_message_sent"
    message_id: uuid.UUID
    sender_id: Identifier
    recipient_id: Identifier
    size_bytes: ByteSize
    has_attachments: bool
    attachment_count: int = Field(ge=0, le=1000)


class ScreenShareStarted(SessionEvent):
    """v2: a participant started sharing their screen. The trail keeps who and when."""

    event_type: Literal["screen_share_started"] = "screen_share_started"
    participant_id: Identifier
    participant_role: Role
    screen_share_id: uuid.UUID


class SessionRated(SessionEvent):
    """Stars for the service, and for audio/video quality (online sessions only)."""

    event_type: Literal["session_rated"] = "session_rated"
    rater_id: Identifier
    specialist_id: Identifier
    service_stars: Stars
    audio_stars: Stars | None = None
    video_stars: Stars | None = None
