-- What a cached query answer about a user was computed from: with `vectors_version` (which moves
-- on every change to what the vector index holds), `answers_version` moves on the rest of what an
-- answer shows — a memory added or its text changed — in the transaction of the write, from the
-- same store-wide clock. A query process keys its cached answers on both, read with one
-- primary-key lookup, so no process serves an answer older than the last committed change, and
-- an erased user (no row) has no cached answers at all.
ALTER TABLE users ADD COLUMN answers_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER memories_inserted_answers AFTER INSERT ON memories BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET answers_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER memories_content_answers AFTER UPDATE OF content ON memories BEGIN
    UPDATE vectors_clock SET value = value + 1 WHERE id = 1;
    UPDATE users SET answers_version = (SELECT value FROM vectors_clock WHERE id = 1)
        WHERE user_id IN (OLD.user_id, NEW.user_id);
END;
