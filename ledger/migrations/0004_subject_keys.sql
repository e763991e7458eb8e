-- Data keys per data subject and purpose ('personal', 'billing'), wrapped (AES-GCM) under
-- the master key: personal trail values are sealed with them (ledger/privacy). Erasing a
-- subject deletes its keys here (crypto-shredding); the trail itself is never changed.
-- Many keys per subject: each consumer process creates its own, with a random key_id.
--
-- Ordered for erasure (by subject); readers look keys up by key_id, which the bloom
-- filter index serves without reading the whole table.
--
-- Settings so that an erasure really removes the key bytes, and soon:
-- - a DELETE mutation rewrites the parts holding the keys; the old parts stay on disk
--   until the cleanup thread removes them, by default after old_parts_lifetime (480 s on
--   a server) and at a cleanup period that backs off to max_cleanup_delay_period
--   (300 s). Here both are about a second, so `destroy` can wait for them.
-- - old parts are kept that long to survive a power loss before new parts reach the
--   disk; losing a key loses its subject's data, so this table fsyncs every insert,
--   merge and mutation instead (it is small and written once per batch at most).
CREATE TABLE IF NOT EXISTS subject_keys
(
    subject_id  String,
    purpose     LowCardinality(String),
    key_id      String,
    wrapped_key String,
    created_at  DateTime64(6, 'UTC'),
    INDEX key_id_bloom key_id TYPE bloom_filter GRANULARITY 1
)
ENGINE = MergeTree
ORDER BY (subject_id, purpose, key_id)
SETTINGS
    old_parts_lifetime = 1,
    cleanup_delay_period = 1,
    max_cleanup_delay_period = 1,
    cleanup_delay_period_random_add = 0,
    fsync_after_insert = 1,
    fsync_part_directory = 1,
    min_rows_to_fsync_after_merge = 1,
    min_compressed_bytes_to_fsync_after_merge = 1;
