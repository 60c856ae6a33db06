-- A per-user version of everything the in-process vector index holds (which memories have a
-- vector, the vector, sector, state, superseded flag, creation time). Statement triggers bump
-- it in the transaction of the write, whichever process writes, so a process caching a user's
-- index learns of a change with one primary-key read. Versions come from a sequence, so a value
-- is never reused, not even after a user is erased and created again.
CREATE SEQUENCE vectors_version_seq;

ALTER TABLE users ADD COLUMN vectors_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_vectors_version_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET vectors_version = nextval('vectors_version_seq')
        WHERE user_id IN (SELECT DISTINCT user_id FROM new_rows);
    RETURN NULL;
END $$;

CREATE FUNCTION bump_vectors_version_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET vectors_version = nextval('vectors_version_seq')
        WHERE user_id IN (SELECT DISTINCT user_id FROM old_rows);
    RETURN NULL;
END $$;

CREATE FUNCTION bump_vectors_version_embeddings_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET vectors_version = nextval('vectors_version_seq')
        WHERE user_id IN (SELECT user_id FROM old_rows UNION SELECT user_id FROM new_rows);
    RETURN NULL;
END $$;

CREATE FUNCTION bump_vectors_version_memories_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET vectors_version = nextval('vectors_version_seq')
        WHERE user_id IN (
            SELECT o.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.sector IS DISTINCT FROM n.sector OR o.state IS DISTINCT FROM n.state
               OR o.superseded_by IS DISTINCT FROM n.superseded_by
               OR o.created_at IS DISTINCT FROM n.created_at
               OR o.user_id IS DISTINCT FROM n.user_id
            UNION
            SELECT n.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.user_id IS DISTINCT FROM n.user_id);
    RETURN NULL;
END $$;

CREATE TRIGGER memory_embeddings_inserted AFTER INSERT ON memory_embeddings
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_vectors_version_new();
CREATE TRIGGER memory_embeddings_updated AFTER UPDATE ON memory_embeddings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_vectors_version_embeddings_updated();
CREATE TRIGGER memory_embeddings_deleted AFTER DELETE ON memory_embeddings
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_vectors_version_old();
CREATE TRIGGER memories_updated AFTER UPDATE ON memories
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_vectors_version_memories_updated();
CREATE TRIGGER memories_deleted AFTER DELETE ON memories
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_vectors_version_old();

-- The initiation webhook's "most salient active memories of a user", read in index order, and
-- the user's count of active memories, read from the index alone (`superseded_by` is in it).
CREATE INDEX idx_memories_user_salience
    ON memories(user_id, state, salience DESC, last_seen_at DESC, id DESC) INCLUDE (superseded_by);
