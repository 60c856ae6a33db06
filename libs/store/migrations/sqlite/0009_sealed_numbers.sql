-- Sealed caller numbers: a binding keeps its number encrypted (`phone_number`, sealed by the
-- store like transcript text) and is found by its blind index (`number_index`, an HMAC of the
-- normalised number under the index key), which also keeps a number bound once. SQL cannot
-- compute either: existing rows move over with their number as a provisional index, and the
-- store seals them and computes their index when it opens with its keys (see `callers.rs`);
-- until then they are found by nothing.
CREATE TABLE caller_identities_sealed (
    number_index TEXT PRIMARY KEY,
    phone_number TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL
);
INSERT INTO caller_identities_sealed (number_index, phone_number, user_id, created_at)
    SELECT 'unsealed:' || phone_number, phone_number, user_id, created_at FROM caller_identities;
DROP TABLE caller_identities;
ALTER TABLE caller_identities_sealed RENAME TO caller_identities;
CREATE INDEX idx_caller_identities_user ON caller_identities(user_id);
