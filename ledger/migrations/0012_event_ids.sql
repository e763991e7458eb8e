-- event_id is the idempotency key. The consumer asks, once per flush, which of the
-- batch's event_ids are stored already; this table answers without reading the trail
-- (which is ordered by session, not by id). ClickHouse writes it with every insert into
-- `trail`, as it writes trail_links, so a stored event and its id arrive together and
-- the answer comes from the store, whichever process stored the event.
--
-- Sorted by event_id with small granules (1024 rows): a lookup reads about one granule
-- per id and per part. Partitioned by month of ingestion, so the consumer's idempotency
-- window (ingested_at >= now - window) reads only the months it covers. Costs measured:
-- docs/ingest.md, "event_id is the idempotency key". Duplicate and dead-letter rows are
-- not events and are not indexed.
CREATE TABLE IF NOT EXISTS event_ids
(
    event_id        UUID,
    session_id      UUID,
    kafka_topic     LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset    UInt64,
    ingested_at     DateTime64(6, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ingested_at)
ORDER BY event_id
-- The longest idempotency window is 365 days (settings); past it an id is never asked
-- for, so whole months go once they are older than that.
TTL toDateTime(ingested_at) + INTERVAL 400 DAY
SETTINGS index_granularity = 1024, non_replicated_deduplication_window = 10000,
    ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_ids_mv TO event_ids AS
SELECT event_id, session_id, kafka_topic, kafka_partition, kafka_offset, ingested_at
FROM trail
WHERE family NOT IN ('dead_letter', 'duplicate');

-- Stores created before this migration: index what is already there (idempotent).
INSERT INTO event_ids
SELECT event_id, session_id, kafka_topic, kafka_partition, kafka_offset, ingested_at
FROM trail
WHERE family NOT IN ('dead_letter', 'duplicate')
  AND (kafka_topic, kafka_partition, kafka_offset) NOT IN
    (SELECT kafka_topic, kafka_partition, kafka_offset FROM event_ids);
