-- Lexical search ranks from the postings in the per-user in-memory index (since 0010): the
-- generated `tsvector` column of `memory_terms` and its GIN index (0003) are no longer read, and
-- keeping them cost every memory write. `memory_terms` stays: the index loads its tokens from it.
DROP INDEX idx_memory_terms_tsv;
ALTER TABLE memory_terms DROP COLUMN tsv;
