-- Passkeys (WebAuthn credentials). `id` is the credential ID (base64url),
-- unique across all accounts: a credential belongs to one account only.
-- `credential` is the verifier's record (public key, signature counter,
-- backup flags) as JSON; `counter` mirrors its signature counter so that
-- a use can be recorded only if it moved forward.
CREATE TABLE passkeys (
    id           TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    credential   TEXT NOT NULL,
    counter      BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE INDEX passkeys_user_id ON passkeys (user_id);

-- A WebAuthn ceremony under way: the hash of the handle the browser holds,
-- what it is for, whose it is (none for a sign-in), the verifier's state
-- (its challenge among it) and when it dies. Taken once, by deleting it,
-- so a challenge cannot be answered twice; stored, so any instance can
-- finish a ceremony another started.
CREATE TABLE webauthn_challenges (
    hash       TEXT PRIMARY KEY NOT NULL,
    purpose    TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);

-- Pending second steps are swept by expiry too.
CREATE INDEX second_steps_expires_at ON second_steps (expires_at);
