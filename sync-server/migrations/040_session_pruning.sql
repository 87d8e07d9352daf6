-- 040_session_pruning: index paths for pruning expired refresh tokens and dead sessions (see
-- sync-server/src/auth/session-pruning.ts). Without them each pruning pass would scan both tables.

-- Refresh tokens past their lifetime, oldest first.
CREATE INDEX refresh_tokens_created_idx ON refresh_tokens (created_at);
-- Sessions revoked long ago.
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
-- Live sessions nobody has used for longer than a refresh token lives.
CREATE INDEX sessions_idle_idx ON sessions (last_used_at) WHERE revoked_at IS NULL;
