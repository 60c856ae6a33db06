-- Scopes: every user belongs to one (identity.scope: one for the whole workspace, or one per
-- agent). Users created before scopes existed move into the default scope; a user's scope is
-- the prefix of an agent-scoped id (`<agent_id>:<id>`), else `default`, and never changes.
ALTER TABLE users ADD COLUMN scope TEXT NOT NULL DEFAULT 'default';
CREATE INDEX idx_users_scope ON users(scope);
