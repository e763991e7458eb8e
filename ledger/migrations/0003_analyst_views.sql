-- Analyst views: documented, stable shapes over the trail. They leave out personal data
-- (network context, payer name and e-mail) and the integrity columns.

-- One row per event, for reading a session's timeline in order:
--   SELECT * FROM v_session_timeline WHERE session_id = {id:UUID} ORDER BY occurred_at, event_id
CREATE VIEW IF NOT EXISTS v_session_timeline AS
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
    video_stars
FROM trail
COMMENT 'One row per event without personal data; filter by session_id and order by occurred_at, event_id for a session timeline.';

-- One row per payment attempt (transaction_id, attempt_number) with its outcome:
-- 'succeeded' or 'failed' once the processor answered, 'pending' until then.
-- processing_ms is the time from the attempt to the processor's answer.
CREATE VIEW IF NOT EXISTS v_payment_attempts AS
SELECT
    transaction_id,
    attempt_number,
    any(session_id) AS session_id,
    any(booking_id) AS booking_id,
    any(payer_id) AS payer_id,
    any(amount_minor) AS amount_minor,
    any(currency) AS currency,
    any(method) AS method,
    any(processor) AS processor,
    minIfOrNull(occurred_at, event_type = 'payment_attempted') AS attempted_at,
    maxIfOrNull(occurred_at, event_type IN ('payment_succeeded', 'payment_failed')) AS answered_at,
    multiIf(
        countIf(event_type = 'payment_succeeded') > 0, 'succeeded',
        countIf(event_type = 'payment_failed') > 0, 'failed',
        'pending'
    ) AS outcome,
    anyIf(failure_code, event_type = 'payment_failed') AS failure_code,
    anyIf(processor_reference, event_type = 'payment_succeeded') AS processor_reference,
    dateDiff('millisecond', attempted_at, answered_at) AS processing_ms
FROM trail
WHERE event_type IN ('payment_attempted', 'payment_succeeded', 'payment_failed')
GROUP BY transaction_id, attempt_number
COMMENT 'One row per payment attempt (transaction_id, attempt_number): amount, method, processor, outcome (succeeded, failed, pending), failure code and processing time. No payer name or e-mail.';

-- One row per session and participant: access attempts, joins, leaves, involuntary
-- disconnects and reconnects, the time spent offline and when they were first in.
CREATE VIEW IF NOT EXISTS v_participation AS
SELECT
    session_id,
    participant_id,
    any(participant_role) AS participant_role,
    countIf(event_type = 'session_access_attempted') AS access_attempts,
    countIf(event_type = 'session_access_attempted' AND granted = false) AS access_denied,
    countIf(event_type = 'participant_joined') AS joins,
    countIf(event_type = 'participant_left') AS leaves,
    countIf(event_type = 'participant_disconnected') AS disconnects,
    countIf(event_type = 'participant_reconnected') AS reconnects,
    sumIf(offline_ms, event_type = 'participant_reconnected') AS offline_ms,
    minIfOrNull(occurred_at, event_type = 'participant_joined') AS first_joined_at,
    maxIfOrNull(occurred_at, event_type IN ('participant_left', 'participant_disconnected')) AS last_left_at
FROM trail
WHERE participant_id IS NOT NULL
GROUP BY session_id, participant_id
COMMENT 'One row per session and participant: access attempts and denials, joins, leaves, disconnects, reconnects, total offline time (ms), first join and last leave.';
