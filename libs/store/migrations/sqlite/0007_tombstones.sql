-- Erasure tombstones: keyed hashes (HMAC under the index key) of an erased user's id, phone
-- numbers and conversation ids, so no delivery, redelivery or replay brings them back. They
-- hold no personal data; `expires_at` is NULL for tombstones kept forever (the default).
CREATE TABLE erasure_tombstones (
    digest     TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
