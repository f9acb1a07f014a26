-- When the person last proved who they are in this session: at sign-in and
-- at each re-authentication, never at a silent refresh. Sensitive actions
-- need it to be recent.
ALTER TABLE sessions ADD COLUMN authenticated_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET authenticated_at = created_at;

-- Single-use password reset links, issued by an administrator. Only the
-- SHA-256 of the secret is kept. Issuing a new link deletes the unused
-- older ones of the same account.
CREATE TABLE password_resets (
    hash       TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_by  TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE INDEX password_resets_user_id ON password_resets (user_id);

-- What happened, to whom, by whom, from where. `id` is a time-ordered
-- UUID (v7). `actor_id` and `subject_id` are kept when an account is
-- deleted, so the history outlives it.
CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY NOT NULL,
    at         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    actor_id   TEXT,
    subject_id TEXT,
    username   TEXT,
    ip         TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    detail     TEXT NOT NULL
);

CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_subject_id ON audit_events (subject_id);
