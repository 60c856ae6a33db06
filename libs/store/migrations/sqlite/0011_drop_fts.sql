-- Lexical search ranks from the postings in the per-user in-memory index (since 0010): the FTS5
-- table that mirrored `memory_terms` (0003) is no longer read, and keeping it cost every memory
-- write an FTS insert (and a segment merge now and then). `memory_terms` stays: the index loads
-- its tokens from it.
DROP TRIGGER memory_terms_ai;
DROP TRIGGER memory_terms_ad;
DROP TRIGGER memory_terms_au;
DROP TABLE memory_terms_fts;
