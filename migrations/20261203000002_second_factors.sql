-- An authenticator app (TOTP, RFC 6238) per account. The shared secret is
-- sealed under the master key, bound to the account's id. A factor is
-- pending until the person types a correct code (`confirmed_at`), and
-- `last_step` is the newest 30-second step a code was accepted for, so
-- that no code is accepted twice.
CREATE TABLE totp_factors (
    user_id       TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT
);

-- Single-use recovery codes, only as SHA-256 hashes. Making a new set
-- deletes the old one.
CREATE TABLE recovery_codes (
    hash       TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE INDEX recovery_codes_user_id ON recovery_codes (user_id);

-- A password sign-in that still owes its second step: the hash of the
-- short-lived, single-use credential that carries it, whose account, and
-- how many wrong codes it has seen. No session exists until it succeeds.
CREATE TABLE second_steps (
    hash       TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    failures   BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX second_steps_user_id ON second_steps (user_id);
