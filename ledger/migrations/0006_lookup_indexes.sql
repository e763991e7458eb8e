-- Lookups that are not a session's range read: everything about one person (subject
-- access export, erasure reports) and a booking's or transaction's payment trail.
-- `subjects` is computed by ClickHouse from the id columns, so the consumer never
-- writes it and the hash chain does not cover it.
ALTER TABLE trail ADD COLUMN IF NOT EXISTS subjects Array(String) MATERIALIZED
    arrayDistinct(arrayFilter(x -> x != '', [
        actor_id, ifNull(client_id, ''), ifNull(specialist_id, ''),
        ifNull(participant_id, ''), ifNull(payer_id, ''), ifNull(author_id, ''),
        ifNull(sender_id, ''), ifNull(recipient_id, ''), ifNull(rater_id, '')]));

ALTER TABLE trail ADD INDEX IF NOT EXISTS idx_subjects subjects TYPE bloom_filter(0.01) GRANULARITY 1;

ALTER TABLE trail ADD INDEX IF NOT EXISTS idx_booking booking_id TYPE bloom_filter(0.01) GRANULARITY 1;

ALTER TABLE trail ADD INDEX IF NOT EXISTS idx_transaction transaction_id TYPE bloom_filter(0.01) GRANULARITY 1;
