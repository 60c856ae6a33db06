-- Lexical search: each memory's content words as per-user keyed tokens (never the words
-- themselves), indexed by FTS5. `terms` is written by the store with the memory; the external-
-- content FTS table follows it through the triggers below.
CREATE TABLE memory_terms (
    memory_id INTEGER PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    terms     TEXT NOT NULL
);
CREATE INDEX idx_memory_terms_user ON memory_terms(user_id);

CREATE VIRTUAL TABLE memory_terms_fts USING fts5(
    terms, content = 'memory_terms', content_rowid = 'memory_id', tokenize = 'ascii'
);

CREATE TRIGGER memory_terms_ai AFTER INSERT ON memory_terms BEGIN
    INSERT INTO memory_terms_fts(rowid, terms) VALUES (new.memory_id, new.terms);
END;
CREATE TRIGGER memory_terms_ad AFTER DELETE ON memory_terms BEGIN
    INSERT INTO memory_terms_fts(memory_terms_fts, rowid, terms)
        VALUES ('delete', old.memory_id, old.terms);
END;
CREATE TRIGGER memory_terms_au AFTER UPDATE ON memory_terms BEGIN
    INSERT INTO memory_terms_fts(memory_terms_fts, rowid, terms)
        VALUES ('delete', old.memory_id, old.terms);
    INSERT INTO memory_terms_fts(rowid, terms) VALUES (new.memory_id, new.terms);
END;
