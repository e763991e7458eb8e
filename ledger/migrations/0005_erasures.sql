-- One row per erasure of a data subject: the erasure is audit data too. keys_destroyed
-- counts the data keys destroyed (see subject_keys); purposes names what was erased
-- ('personal'; 'billing' only once the accounting retention period has ended).
CREATE TABLE IF NOT EXISTS erasures
(
    subject_id     String,
    erased_at      DateTime64(6, 'UTC'),
    purposes       Array(String),
    keys_destroyed UInt32,
    note           String
)
ENGINE = MergeTree
ORDER BY (subject_id, erased_at);
