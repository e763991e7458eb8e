-- The chain's skeleton: one slim row per trail row (its coordinates, time, category and
-- both hashes), written by ClickHouse itself with every insert into `trail`. Retention
-- deletes trail rows by category and event time; the links go by ingestion time, after the
-- longest retention, so they only ever leave from the start of a chain and verify can
-- still tell "expired under the policy" from "deleted by someone" anywhere after it.
CREATE TABLE IF NOT EXISTS trail_links
(
    kafka_topic     LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset    UInt64,
    event_id        UUID,
    occurred_at     DateTime64(6, 'UTC'),
    family          LowCardinality(String),
    event_type      LowCardinality(String),
    prev_hash       String,
    row_hash        String,
    ingested_at     DateTime64(6, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ingested_at)
ORDER BY (kafka_topic, kafka_partition, kafka_offset)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS trail_links_mv TO trail_links AS
SELECT kafka_topic, kafka_partition, kafka_offset, event_id, occurred_at, family, event_type,
       prev_hash, row_hash, ingested_at
FROM trail;

-- Stores created before this migration: link what is already there (idempotent).
INSERT INTO trail_links
SELECT kafka_topic, kafka_partition, kafka_offset, event_id, occurred_at, family, event_type,
       prev_hash, row_hash, ingested_at
FROM trail
WHERE (kafka_topic, kafka_partition, kafka_offset) NOT IN
    (SELECT kafka_topic, kafka_partition, kafka_offset FROM trail_links);
