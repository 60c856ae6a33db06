-- The per-user in-memory index holds the user's lexical postings too (every memory's tokens from
-- `memory_terms`, with the filter attributes of memories that have no vector yet), so every change
-- to `memory_terms` moves `users.vectors_version` as a change to a vector does (0004), in the
-- transaction of the write, whichever process writes. Rewriting a row with the same tokens (a
-- merge re-indexes the memory it reinforces) moves nothing. `kind` joins the memory attributes
-- whose change moves the version: the index filters on it (no write changes it today).
CREATE FUNCTION bump_vectors_version_terms_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET vectors_version = nextval('vectors_version_seq')
        WHERE user_id IN (
            SELECT o.user_id FROM old_rows o JOIN new_rows n ON n.memory_id = o.memory_id
            WHERE o.terms IS DISTINCT FROM n.terms OR o.user_id IS DISTINCT FROM n.user_id
            UNION
            SELECT n.user_id FROM old_rows o JOIN new_rows n ON n.memory_id = o.memory_id
            WHERE o.terms IS DISTINCT FROM n.terms OR o.user_id IS DISTINCT FROM n.user_id);
    RETURN NULL;
END $$;

CREATE TRIGGER memory_terms_inserted AFTER INSERT ON memory_terms
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_vectors_version_new();
CREATE TRIGGER memory_terms_updated AFTER UPDATE ON memory_terms
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_vectors_version_terms_updated();
CREATE TRIGGER memory_terms_deleted AFTER DELETE ON memory_terms
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bump_vectors_version_old();

CREATE OR REPLACE FUNCTION bump_vectors_version_memories_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET vectors_version = nextval('vectors_version_seq')
        WHERE user_id IN (
            SELECT o.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.kind IS DISTINCT FROM n.kind
               OR o.sector IS DISTINCT FROM n.sector OR o.state IS DISTINCT FROM n.state
               OR o.superseded_by IS DISTINCT FROM n.superseded_by
               OR o.created_at IS DISTINCT FROM n.created_at
               OR o.user_id IS DISTINCT FROM n.user_id
            UNION
            SELECT n.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.user_id IS DISTINCT FROM n.user_id);
    RETURN NULL;
END $$;
