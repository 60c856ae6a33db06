-- Where each import of past conversations from the ElevenLabs conversations API stands
-- (`memvox elevenlabs import`, the gateway's periodic poll): one row per import, named
-- `import:<agent id>` (`import:*` for every agent) or `poll`. A run under way has a
-- `window_before` (its `call_start_before_unix`; `window_after` may be NULL: from the
-- first call) and `cursor`, the list's `next_cursor` after the last page stored (NULL: from
-- the first page), so an interrupted run resumes there. `imported_until` is the end of the
-- last finished run's window: the next run starts from it. `lease_until` lets one of several
-- gateway processes poll at a time. Call starts are unix seconds (the API's), `lease_until` and
-- `updated_at` unix ms.
CREATE TABLE elevenlabs_imports (
    name           TEXT PRIMARY KEY,
    window_after   BIGINT,
    window_before  BIGINT,
    cursor         TEXT,
    imported_until BIGINT,
    lease_until    BIGINT NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL
);

-- Conversations an import listed before they were done (still running, or being analysed):
-- looked at again by every later import and poll until they are done (then imported), failed
-- or gone. `first_seen_at` in unix ms.
CREATE TABLE elevenlabs_pending_conversations (
    conversation_id TEXT PRIMARY KEY,
    agent_id        TEXT NOT NULL,
    first_seen_at   BIGINT NOT NULL
);
