-- One row per signed-in device or browser. Access tokens name their session
-- (`sid`), so ending a session ends every token issued for it at once.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_reason TEXT,
    user_agent     TEXT NOT NULL,
    ip             TEXT NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);

-- Every refresh token a session was given, stored as a SHA-256 hash. The
-- current one has no `rotated_at`; presenting an older one is reuse.
CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  BIGINT NOT NULL,
    rotated_at BIGINT
);

CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

-- Session revocation replaces the per-token list: a token's session is
-- checked on every request.
DROP TABLE revoked_tokens;
