-- memvox schema, PostgreSQL + pgvector (the extension is created before migrating). Times are unix milliseconds unless a column name says otherwise.

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    user_id          TEXT PRIMARY KEY,
    display_name     TEXT,
    summary          TEXT,
    last_interaction BIGINT,
    metadata         TEXT,
    created_at       BIGINT NOT NULL
);

CREATE TABLE caller_identities (
    phone_number TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL
);
CREATE INDEX idx_caller_identities_user ON caller_identities(user_id);

-- Raw post-call events: the outbox and the source of truth for what was accepted.
-- ElevenLabs sends no event id; retries are byte-identical, so (type, conversation) is the key.
CREATE TABLE webhook_events (
    id              BIGSERIAL PRIMARY KEY,
    event_type      TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    event_timestamp BIGINT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    error_message   TEXT,
    received_at     BIGINT NOT NULL,
    published_at    BIGINT,
    processed_at    BIGINT,
    UNIQUE (event_type, conversation_id)
);
CREATE INDEX idx_webhook_events_pending ON webhook_events(status, published_at) WHERE status = 'pending';
CREATE INDEX idx_webhook_events_conversation ON webhook_events(conversation_id);

CREATE TABLE conversations (
    id              BIGSERIAL PRIMARY KEY,
    conversation_id TEXT NOT NULL UNIQUE,
    agent_id        TEXT NOT NULL,
    user_id         TEXT REFERENCES users(user_id) ON DELETE CASCADE,
    started_at      BIGINT NOT NULL,
    duration_secs   BIGINT,
    status          TEXT NOT NULL,
    failure_reason  TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX idx_conversations_user ON conversations(user_id, started_at DESC);

CREATE TABLE conversation_turns (
    id                BIGSERIAL PRIMARY KEY,
    conversation_fk   BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    turn_index        BIGINT NOT NULL,
    role              TEXT NOT NULL,
    message           TEXT,
    time_in_call_secs BIGINT NOT NULL,
    UNIQUE (conversation_fk, turn_index)
);

CREATE TABLE conversation_analysis (
    id              BIGSERIAL PRIMARY KEY,
    conversation_fk BIGINT NOT NULL UNIQUE REFERENCES conversations(id) ON DELETE CASCADE,
    summary         TEXT,
    call_successful TEXT NOT NULL DEFAULT 'unknown',
    evaluation_json TEXT,
    data_collection TEXT
);

CREATE TABLE tool_invocations (
    id              BIGSERIAL PRIMARY KEY,
    tool_name       TEXT NOT NULL,
    conversation_id TEXT,
    user_id         TEXT,
    request_params  TEXT NOT NULL,
    response_data   TEXT,
    latency_ms      BIGINT NOT NULL,
    success         BOOLEAN NOT NULL,
    error_message   TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX idx_tool_invocations_name ON tool_invocations(tool_name, created_at DESC);
CREATE INDEX idx_tool_invocations_user ON tool_invocations(user_id);

CREATE TABLE memories (
    id                  BIGSERIAL PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    content             TEXT NOT NULL,
    content_fingerprint TEXT NOT NULL,
    sector              TEXT NOT NULL,
    salience            DOUBLE PRECISION NOT NULL,
    decay_per_day       DOUBLE PRECISION NOT NULL,
    state               TEXT NOT NULL DEFAULT 'active',
    last_seen_at        BIGINT NOT NULL,
    source_conversation TEXT,
    source_turns        TEXT,
    superseded_by       BIGINT REFERENCES memories(id) ON DELETE SET NULL,
    superseded_at       BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX idx_memories_user_state ON memories(user_id, state, sector);
CREATE INDEX idx_memories_user_fingerprint ON memories(user_id, content_fingerprint);

CREATE TABLE memory_embeddings (
    memory_id  BIGINT PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    model      TEXT NOT NULL,
    dimension  BIGINT NOT NULL,
    embedding  vector NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX idx_memory_embeddings_user ON memory_embeddings(user_id);

CREATE TABLE memory_links (
    source_memory_id BIGINT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    target_memory_id BIGINT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    weight           DOUBLE PRECISION NOT NULL,
    kind             TEXT NOT NULL DEFAULT 'automatic',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (source_memory_id, target_memory_id)
);
CREATE INDEX idx_memory_links_target ON memory_links(target_memory_id);

CREATE TABLE conversation_memories (
    id              BIGSERIAL PRIMARY KEY,
    conversation_fk BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    memory_id       BIGINT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    extraction_type TEXT NOT NULL,
    turn_indexes    TEXT NOT NULL DEFAULT '[]',
    confidence      DOUBLE PRECISION,
    created_at      BIGINT NOT NULL,
    UNIQUE (conversation_fk, memory_id)
);
CREATE INDEX idx_conversation_memories_memory ON conversation_memories(memory_id);
