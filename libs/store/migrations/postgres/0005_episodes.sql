-- Episodes: windows of a call's transcript, stored as memories of kind 'episode' beside the
-- facts (kind 'fact'), so they share encryption, lexical tokens, vectors, erasure and export.
ALTER TABLE memories ADD COLUMN kind TEXT NOT NULL DEFAULT 'fact';

-- Listings, counts and the initiation webhook read one kind, in salience order, from the index.
DROP INDEX idx_memories_user_salience;
CREATE INDEX idx_memories_user_kind_salience
    ON memories(user_id, kind, state, salience DESC, last_seen_at DESC, id DESC)
    INCLUDE (superseded_by);

-- A conversation's episodes, replaced when its call is recorded again.
CREATE INDEX idx_memories_episode_conversation
    ON memories(source_conversation) WHERE kind = 'episode';
