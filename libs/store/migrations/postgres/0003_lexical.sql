-- Lexical search: each memory's content words as per-user keyed tokens (never the words
-- themselves), with a GIN full-text index. `terms` is written by the store with the memory.
CREATE TABLE memory_terms (
    memory_id BIGINT PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    terms     TEXT NOT NULL,
    tsv       TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED
);
CREATE INDEX idx_memory_terms_user ON memory_terms(user_id);
CREATE INDEX idx_memory_terms_tsv ON memory_terms USING GIN (tsv);
