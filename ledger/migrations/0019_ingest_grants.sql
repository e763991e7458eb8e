-- backend: server
-- The consumer's role on tables added after the roles migration (0007, immutable):
-- trail_links and event_ids are written by materialized views with every trail insert
-- (the inserting user needs INSERT on their targets) and read to resume and to find
-- repeated event_ids; chain_segments records where a partition's chain restarts and
-- erasures records the erasures a store rebuilt from Kafka applies; the Merkle tiles
-- and signed checkpoints are extended by the consumer after each stored batch.
-- Still only INSERT and SELECT: never UPDATE, DELETE, ALTER or DROP.
GRANT INSERT, SELECT ON trail_links TO audit_ingest;
GRANT INSERT, SELECT ON event_ids TO audit_ingest;
GRANT INSERT, SELECT ON chain_segments TO audit_ingest;
GRANT INSERT, SELECT ON erasures TO audit_ingest;
GRANT INSERT, SELECT ON merkle_tiles TO audit_ingest;
GRANT INSERT, SELECT ON merkle_checkpoints TO audit_ingest;
