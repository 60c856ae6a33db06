-- What a cached query answer about a user was computed from: with `vectors_version` (which moves
-- on every change to what the vector index holds), `answers_version` moves on the rest of what an
-- answer shows — a memory added or its text changed — in the transaction of the write, from the
-- same sequence. A query process keys its cached answers on both, read with one primary-key
-- lookup, so no process serves an answer older than the last committed change, and an erased
-- user (no row) has no cached answers at all.
ALTER TABLE users ADD COLUMN answers_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_answers_version_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET answers_version = nextval('vectors_version_seq')
        WHERE user_id IN (SELECT DISTINCT user_id FROM new_rows);
    RETURN NULL;
END $$;

CREATE FUNCTION bump_answers_version_content() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET answers_version = nextval('vectors_version_seq')
        WHERE user_id IN (
            SELECT n.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.content IS DISTINCT FROM n.content);
    RETURN NULL;
END $$;

CREATE TRIGGER memories_inserted_answers AFTER INSERT ON memories
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_answers_version_new();
CREATE TRIGGER memories_content_answers AFTER UPDATE ON memories
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_answers_version_content();
