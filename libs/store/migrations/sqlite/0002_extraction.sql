-- What processing an event produced (JSON array of memory ids), so a redelivered event can
-- re-announce its results without redoing them.
ALTER TABLE webhook_events ADD COLUMN result_memory_ids TEXT;

-- Earlier versions of a memory's text, kept when a later call updates it.
CREATE TABLE memory_history (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_id       INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    content         TEXT NOT NULL,
    salience        REAL NOT NULL,
    reason          TEXT NOT NULL,
    conversation_id TEXT,
    changed_at      INTEGER NOT NULL
);
CREATE INDEX idx_memory_history_memory ON memory_history(memory_id);
CREATE INDEX idx_memory_history_user ON memory_history(user_id);
