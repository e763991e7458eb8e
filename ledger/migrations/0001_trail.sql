-- The audit trail: one row per event, append-only (the ingest path never updates or
-- deletes). Columns mirror ledger/columns.py, which a contract test checks.
--
-- Partitioned by month of occurred_at (retention drops whole months). Ordered by
-- (session_id, occurred_at, event_id): a session's timeline is one range read, and
-- event_id makes the order total. Every event of a session shares one Kafka key, so
-- this order also groups a partition's rows by session.
--
-- non_replicated_deduplication_window makes insert_deduplication_token work on a plain
-- (non-replicated) MergeTree: a consumer that replays a batch after a crash sends the
-- same token, and ClickHouse drops the second insert.
CREATE TABLE IF NOT EXISTS trail
(
    -- envelope
    event_id               UUID,
    event_type             LowCardinality(String),
    family                 LowCardinality(String),
    schema_version         UInt16,
    occurred_at            DateTime64(6, 'UTC'),
    session_id             UUID,
    actor_id               String,
    actor_role             LowCardinality(String),
    source_service         LowCardinality(String),
    source_version         LowCardinality(String),
    -- device context: visible to both parties of a session
    device_kind            LowCardinality(Nullable(String)),
    device_os              LowCardinality(Nullable(String)),
    device_os_version      LowCardinality(Nullable(String)),
    device_browser         LowCardinality(Nullable(String)),
    device_browser_version LowCardinality(Nullable(String)),
    device_app_version     LowCardinality(Nullable(String)),
    -- network context: personal data, auditors only (encrypted by a later migration)
    network_ip             Nullable(String),
    network_country        Nullable(String),
    network_region         Nullable(String),
    network_city           Nullable(String),
    -- payload: one column per distinct payload field name of both families
    participant_id         Nullable(String),
    participant_role       LowCardinality(Nullable(String)),
    granted                Nullable(Bool),
    denial_reason          Nullable(String),
    reason                 Nullable(String),
    offline_ms             Nullable(Int64),
    client_id              Nullable(String),
    specialist_id          Nullable(String),
    mode                   LowCardinality(Nullable(String)),
    duration_seconds       Nullable(Int64),
    note_id                Nullable(UUID),
    author_id              Nullable(String),
    visibility             LowCardinality(Nullable(String)),
    size_bytes             Nullable(Int64),
    content_sha256         Nullable(String),
    file_id                Nullable(UUID),
    sender_id              Nullable(String),
    recipient_id           Nullable(String),
    media_type             LowCardinality(Nullable(String)),
    message_id             Nullable(UUID),
    has_attachments        Nullable(Bool),
    attachment_count       Nullable(Int32),
    rater_id               Nullable(String),
    service_stars          Nullable(Int32),
    audio_stars            Nullable(Int32),
    video_stars            Nullable(Int32),
    booking_id             Nullable(UUID),
    scheduled_start        Nullable(DateTime64(6, 'UTC')),
    duration_minutes       Nullable(Int32),
    price_minor            Nullable(Int64),
    currency               LowCardinality(Nullable(String)),
    cancelled_by           LowCardinality(Nullable(String)),
    previous_start         Nullable(DateTime64(6, 'UTC')),
    new_start              Nullable(DateTime64(6, 'UTC')),
    transaction_id         Nullable(UUID),
    payer_id               Nullable(String),
    payer_name             Nullable(String),
    payer_email            Nullable(String),
    amount_minor           Nullable(Int64),
    method                 LowCardinality(Nullable(String)),
    processor              LowCardinality(Nullable(String)),
    attempt_number         Nullable(Int32),
    processor_reference    Nullable(String),
    failure_code           LowCardinality(Nullable(String)),
    failure_message        Nullable(String),
    refund_id              Nullable(UUID),
    -- where the row came from, and when it was stored
    kafka_topic            LowCardinality(String),
    kafka_partition        UInt16,
    kafka_offset           UInt64,
    ingested_at            DateTime64(6, 'UTC'),
    -- hash chain per (kafka_topic, kafka_partition): hex sha256
    prev_hash              String,
    row_hash               String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (session_id, occurred_at, event_id)
SETTINGS non_replicated_deduplication_window = 10000;
