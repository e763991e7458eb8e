-- What the consumer noticed about a stored event's envelope (docs/contract.md, "Envelope
-- contradictions"): e.g. 'key_not_session,off_partition' for an event keyed by another
-- session and so stored in another session's partition. Null for a clean event, which is
-- also what every row stored before this migration reads as, and the hash chain leaves
-- null columns out, so their hashes do not change.
ALTER TABLE trail ADD COLUMN IF NOT EXISTS envelope_flags LowCardinality(Nullable(String))
    AFTER ingested_at;

-- Analysts see the flag next to the event: a flagged event may sit in another partition
-- than the rest of its session, so its order among them is only its occurred_at.
CREATE OR REPLACE VIEW v_session_timeline AS
SELECT
    session_id,
    occurred_at,
    event_id,
    family,
    event_type,
    actor_id,
    actor_role,
    source_service,
    device_kind,
    device_os,
    device_browser,
    device_app_version,
    participant_id,
    participant_role,
    granted,
    denial_reason,
    reason,
    offline_ms,
    client_id,
    specialist_id,
    mode,
    duration_seconds,
    booking_id,
    scheduled_start,
    previous_start,
    new_start,
    transaction_id,
    amount_minor,
    price_minor,
    currency,
    method,
    processor,
    attempt_number,
    failure_code,
    refund_id,
    size_bytes,
    media_type,
    has_attachments,
    attachment_count,
    visibility,
    service_stars,
    audio_stars,
    video_stars,
    envelope_flags
FROM trail
COMMENT 'One row per event without personal data; filter by session_id and order by occurred_at, event_id for a session timeline. envelope_flags is set when the event was keyed or placed apart from its session (key_missing, key_not_session, off_partition).';
