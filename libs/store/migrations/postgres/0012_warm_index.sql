-- A warm query answers from the per-user in-memory index alone, which now also holds every
-- memory's full row (decrypted content, provenance, salience, times) and its outgoing links.
--
-- 1. A memory's salience and last-seen time drift with every recall (reinforcement, one write per
--    caller per interval). Moving `vectors_version` or `answers_version` for that would reload
--    the index and drop the cached answers of a caller at every interval, so the drift moves a
--    third version, `users.recall_version` (same sequence): a process holding the index re-reads
--    just those two values when it moves.
-- 2. A link's target and weight rank and expand results: every change to `memory_links` moves the
--    vectors version of its source memory's user, in the transaction of the write. Links are
--    written when new memories get their vectors, which moves that version anyway.
ALTER TABLE users ADD COLUMN recall_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_recall_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET recall_version = nextval('vectors_version_seq')
        WHERE user_id IN (
            SELECT n.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.salience IS DISTINCT FROM n.salience
               OR o.last_seen_at IS DISTINCT FROM n.last_seen_at);
    RETURN NULL;
END $$;

CREATE TRIGGER memories_recall_changed AFTER UPDATE ON memories
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_recall_version();

CREATE FUNCTION bump_links_version_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET vectors_version = nextval('vectors_version_seq')
        WHERE user_id IN (SELECT m.user_id FROM new_rows l
                          JOIN memories m ON m.id = l.source_memory_id);
    RETURN NULL;
END $$;

CREATE FUNCTION bump_links_version_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET vectors_version = nextval('vectors_version_seq')
        WHERE user_id IN (SELECT m.user_id FROM old_rows l
                          JOIN memories m ON m.id = l.source_memory_id);
    RETURN NULL;
END $$;

CREATE FUNCTION bump_links_version_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET vectors_version = nextval('vectors_version_seq')
        WHERE user_id IN (
            SELECT m.user_id FROM old_rows o
            JOIN new_rows n ON n.source_memory_id = o.source_memory_id
                           AND n.target_memory_id = o.target_memory_id
            JOIN memories m ON m.id = n.source_memory_id
            WHERE o.weight IS DISTINCT FROM n.weight);
    RETURN NULL;
END $$;

CREATE TRIGGER memory_links_inserted_version AFTER INSERT ON memory_links
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_links_version_new();
CREATE TRIGGER memory_links_updated_version AFTER UPDATE ON memory_links
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_links_version_updated();
CREATE TRIGGER memory_links_deleted_version AFTER DELETE ON memory_links
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_links_version_old();
