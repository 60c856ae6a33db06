-- A warm query answers from the per-user in-memory index alone, which now also holds every
-- memory's full row (decrypted content, provenance, salience, times) and its outgoing links.
--
-- 1. A memory's salience and last-seen time drift with every recall (reinforcement, one write per
--    caller per interval). Moving `vectors_version` or `answers_version` for that would reload
--    the index and drop the cached answers of a caller at every interval, so the drift moves a
--    third version, `users.recall_version` (same store-wide clock): a process holding the index
--    re-reads just those two values when it moves.
-- 2. A link's target and weight rank and expand results: every change to `memory_links` moves the
--    vectors version of its source memory's user, in the transaction of the write. Links are
--    written when new memories get their vectors, which moves that version anyway.
ALTER TABLE users ADD COLUMN recall_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER memories_recall_changed AFTER UPDATE OF salience, last_seen_at ON memories
    WHEN OLD.salience IS NOT NEW.salience OR OLD.last_seen_at IS NOT NEW.last_seen_at BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET recall_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER memory_links_inserted_version AFTER INSERT ON memory_links BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id = (SELECT user_id FROM memories WHERE id = NEW.source_memory_id);
END;

CREATE TRIGGER memory_links_updated_version AFTER UPDATE ON memory_links
    WHEN OLD.weight IS NOT NEW.weight OR OLD.source_memory_id IS NOT NEW.source_memory_id
      OR OLD.target_memory_id IS NOT NEW.target_memory_id BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id IN (SELECT user_id FROM memories
                          WHERE id IN (OLD.source_memory_id, NEW.source_memory_id));
END;

CREATE TRIGGER memory_links_deleted_version AFTER DELETE ON memory_links BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET vectors_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id = (SELECT user_id FROM memories WHERE id = OLD.source_memory_id);
END;
