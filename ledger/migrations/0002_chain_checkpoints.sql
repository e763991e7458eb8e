-- Periodic checkpoints of each partition's hash chain, written by the consumer: the
-- row_hash stored at a given offset. `verify` checks stored rows against them, so
-- rewriting a row and recomputing every later hash still shows. Exported copies (kept
-- outside ClickHouse) make them stronger. A checkpoint written twice is harmless.
CREATE TABLE IF NOT EXISTS chain_checkpoints
(
    topic      LowCardinality(String),
    partition  UInt16,
    offset     UInt64,
    row_hash   String,
    created_at DateTime64(6, 'UTC')
)
ENGINE = MergeTree
ORDER BY (topic, partition, offset);
