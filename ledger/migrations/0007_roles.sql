-- backend: server
-- Who may do what on a ClickHouse server (the embedded engine has no access control).
-- Grant these roles to users: GRANT audit_ingest TO consumer_user; and so on.
--   audit_ingest:  INSERT into the trail and its bookkeeping tables, SELECT to resume
--                  (chain heads) -- never UPDATE, DELETE, ALTER or DROP.
--   audit_auditor: SELECT on everything in the database.
--   audit_analyst: SELECT on the documented views only; they carry no personal fields.
CREATE ROLE IF NOT EXISTS audit_ingest;
GRANT INSERT, SELECT ON trail TO audit_ingest;
GRANT INSERT, SELECT ON chain_checkpoints TO audit_ingest;
GRANT INSERT, SELECT ON subject_keys TO audit_ingest;
CREATE ROLE IF NOT EXISTS audit_auditor;
GRANT SELECT ON * TO audit_auditor;
CREATE ROLE IF NOT EXISTS audit_analyst;
GRANT SELECT ON v_session_timeline TO audit_analyst;
GRANT SELECT ON v_payment_attempts TO audit_analyst;
GRANT SELECT ON v_participation TO audit_analyst;
