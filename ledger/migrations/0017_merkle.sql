-- The Merkle tree of each Kafka partition (ledger/merkle, docs/merkle.md).
--
-- merkle_tiles: roots of complete perfect subtrees of 256^tier leaves (tier >= 1), so a
-- proof reads at most 256 hashes per tier instead of every leaf. Leaves themselves are
-- the row hashes kept in trail_links. Written by the consumer before the checkpoint that
-- covers them; a tile written twice is harmless (readers take distinct values, and two
-- different values for one node is an error that `verify` names).
CREATE TABLE IF NOT EXISTS merkle_tiles
(
    kafka_topic     LowCardinality(String),
    kafka_partition UInt16,
    tier            UInt16,
    node_index      UInt64,
    hash            String
)
ENGINE = MergeTree
ORDER BY (kafka_topic, kafka_partition, tier, node_index);

-- Signed checkpoints: the tree's size and root at a time, signed with the checkpoint key
-- (the note is the C2SP signed-note text, verifiable without the store).
CREATE TABLE IF NOT EXISTS merkle_checkpoints
(
    kafka_topic     LowCardinality(String),
    kafka_partition UInt16,
    tree_size       UInt64,
    first_offset    UInt64,
    root_hash       String,
    key_id          String,
    signed_at       DateTime64(6, 'UTC'),
    note            String
)
ENGINE = MergeTree
ORDER BY (kafka_topic, kafka_partition, tree_size);
