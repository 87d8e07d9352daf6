-- 001_accounts: users, device sessions (one refresh-token family each) and refresh tokens.
-- The server stores only what it needs to authenticate: argon2id hashes of keys derived on the client,
-- public keys, and bundles sealed on the client. It never sees a password or a private key.

CREATE TABLE users (
  id              uuid PRIMARY KEY,
  -- NFKC-normalised display form, as chosen by the user.
  username        text NOT NULL CHECK (char_length(username) BETWEEN 3 AND 32),
  -- Case-insensitive uniqueness key: NFKC(lower(NFKC(name))), computed by shared/protocol usernameKey().
  username_key    text NOT NULL CHECK (char_length(username_key) BETWEEN 1 AND 64),
  salt            bytea NOT NULL CHECK (octet_length(salt) = 16),
  kdf             jsonb NOT NULL CHECK (jsonb_typeof(kdf) = 'object'),
  auth_hash       text NOT NULL CHECK (auth_hash LIKE '$argon2id$%'),
  recovery_hash   text NOT NULL CHECK (recovery_hash LIKE '$argon2id$%'),
  identity_key    bytea NOT NULL CHECK (octet_length(identity_key) = 32),
  sealing_key     bytea NOT NULL CHECK (octet_length(sealing_key) = 32),
  sealing_sig     bytea NOT NULL CHECK (octet_length(sealing_sig) = 64),
  account_bundle  bytea NOT NULL CHECK (octet_length(account_bundle) BETWEEN 1 AND 4096),
  recovery_bundle bytea NOT NULL CHECK (octet_length(recovery_bundle) BETWEEN 1 AND 4096),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
-- Lookup path of prelogin, login and recovery; enforces case-insensitive uniqueness.
CREATE UNIQUE INDEX users_username_key_idx ON users (username_key);

CREATE TABLE sessions (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  device_name    text CHECK (char_length(device_name) BETWEEN 1 AND 64),
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_used_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at     timestamptz,
  revoked_reason text CHECK (revoked_reason IN ('logout', 'revoked', 'password_changed', 'recovery', 'refresh_reuse')),
  CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
-- Listing a user's live sessions and revoking "all other" sessions.
CREATE INDEX sessions_user_active_idx ON sessions (user_id, created_at) WHERE revoked_at IS NULL;
-- Foreign-key path (user deletion) over all sessions, live or not.
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE refresh_tokens (
  -- SHA-256 of the opaque token; the token itself is never stored.
  token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Set when the token is exchanged; presenting it again is reuse and revokes the session.
  used_at    timestamptz
);
-- Dropping a session's live tokens (password change rotation) and the foreign-key path.
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
