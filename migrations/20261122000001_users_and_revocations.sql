-- Accounts. `username_key` is the case-folded name that decides uniqueness,
-- `username` is kept as the person typed it. Times are Unix seconds.
CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL,
    username_key  TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    disabled_at   BIGINT,
    created_at    BIGINT NOT NULL
);

-- Access tokens ended before their expiry (sign-out). A row is useless once
-- `expires_at` has passed and is purged in the background.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);

CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
