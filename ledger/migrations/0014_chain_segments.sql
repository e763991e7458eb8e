-- Where a partition's chain starts over on a new Kafka partition (a topic deleted and
-- recreated, a wiped broker, a cluster migrated): recorded by an operator's explicit
-- `audit-trail chain restart`, never by the consumer on its own. Stored offsets keep
-- growing across segments: a row read at Kafka offset k of the segment is stored at
-- k + offset_shift, and the segment's first row links to the old head (prev_offset,
-- prev_hash), so the chain and its offsets stay one unbroken sequence.
-- The consumer also records segment 0 the first time it sees a partition (the topic id
-- it read), so a recreated topic is recognised by its new id.
CREATE TABLE IF NOT EXISTS chain_segments
(
    topic        LowCardinality(String),
    partition    UInt16,
    segment      UInt32,
    first_offset UInt64,
    offset_shift Int64,
    topic_id     String,
    prev_offset  Int64,
    prev_hash    String,
    reason       String,
    recorded_by  String,
    created_at   DateTime64(6, 'UTC')
)
ENGINE = MergeTree
ORDER BY (topic, partition, segment);
