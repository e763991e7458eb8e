-- session_event v2 (schemas/avro/session_event/v2.avsc): participant_joined gains an
-- optional waiting_room_ms, and screen_share_started is a new event type. One column per
-- new payload field, after the v1 payload columns (ledger.payload_columns orders them so).
-- Null in every row stored before, and the hash chain leaves null columns out, so those
-- rows hash as they did. No person column is new, so `subjects` stays as it is.
ALTER TABLE trail ADD COLUMN IF NOT EXISTS waiting_room_ms Nullable(Int64) AFTER refund_id;

ALTER TABLE trail ADD COLUMN IF NOT EXISTS screen_share_id Nullable(UUID) AFTER waiting_room_ms;
