-- Which canonical form a row's hash covers (ledger/canonical.py, docs/contract.md "Row
-- hashes"): 1, compact JSON, for every row stored before this migration (the default
-- they read as); 2, the binary form, for every row the consumer links from now on. It
-- is no hashed column, but re-hashing a row in the other form never gives its stored
-- hash, so `verify` finds a flipped version as it finds altered content.
ALTER TABLE trail ADD COLUMN IF NOT EXISTS chain_version UInt8 DEFAULT 1 AFTER row_hash;
