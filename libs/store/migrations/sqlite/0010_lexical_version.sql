-- The per-user in-memory index holds the user's lexical postings too (every memory's tokens from
-- `memory_terms`, with the filter attributes of memories that have no vector yet), so every change
-- to `memory_terms` moves `users.vectors_version` as a change to a vector does (0004), in the
-- transaction of the write, whichever process writes. Rewriting a row with the same tokens (a
-- merge re-indexes the memory it reinforces) moves nothing. `kind` and `user_id` join the memory
-- attributes whose change moves the version: the index filters on the kind and is per user (no
-- write changes either today).
CREATE TRIGGER memory_terms_inserted_version AFTER INSERT ON memory_terms BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER memory_terms_updated_version AFTER UPDATE ON memory_terms
    WHEN OLD.terms IS NOT NEW.terms OR OLD.user_id IS NOT NEW.user_id BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id IN (OLD.user_id, NEW.user_id);
END;

CREATE TRIGGER memory_terms_deleted_version AFTER DELETE ON memory_terms BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id = OLD.user_id;
END;

DROP TRIGGER memories_index_changed;
CREATE TRIGGER memories_index_changed
    AFTER UPDATE OF kind, sector, state, superseded_by, created_at, user_id ON memories BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id IN (OLD.user_id, NEW.user_id);
END;
