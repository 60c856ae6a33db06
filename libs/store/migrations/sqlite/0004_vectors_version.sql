-- A per-user version of everything the in-memory vector index holds (which memories have a
-- vector, the vector, sector, state, superseded flag, creation time). Triggers bump it in the
-- transaction of the write, whichever process writes, so a process caching a user's index
-- learns of a change with one primary-key read. Versions come from one store-wide clock, so a
-- value is never reused, not even after a user is erased and created again.
CREATE TABLE vectors_clock (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO vectors_clock (id, value) VALUES (1, 0);

ALTER TABLE users ADD COLUMN vectors_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER memory_embeddings_inserted AFTER INSERT ON memory_embeddings BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER memory_embeddings_updated AFTER UPDATE ON memory_embeddings BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id IN (OLD.user_id, NEW.user_id);
END;

CREATE TRIGGER memory_embeddings_deleted AFTER DELETE ON memory_embeddings BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id = OLD.user_id;
END;

CREATE TRIGGER memories_index_changed
    AFTER UPDATE OF sector, state, superseded_by, created_at ON memories BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id IN (OLD.user_id, NEW.user_id);
END;

CREATE TRIGGER memories_deleted AFTER DELETE ON memories BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id = OLD.user_id;
END;

-- The initiation webhook's "most salient active memories of a user", read in index order, and
-- the user's count of active memories, read from the index alone (`superseded_by` is in it).
CREATE INDEX idx_memories_user_salience
    ON memories(user_id, state, salience DESC, last_seen_at DESC, id DESC, superseded_by);
