-- Signing keys, shared by every instance. The secret is sealed
-- (XChaCha20-Poly1305) under the master key, which is never stored here;
-- the key's kid and algorithm are bound into the seal. A key signs from
-- `signs_from`; the one it replaces keeps verifying for the access-token
-- lifetime after that. `seq` orders keys and makes a concurrent first
-- key or rotation lose cleanly (primary-key conflict) instead of adding
-- two.
CREATE TABLE signing_keys (
    seq           BIGINT PRIMARY KEY NOT NULL,
    kid           TEXT NOT NULL UNIQUE,
    algorithm     TEXT NOT NULL CHECK (algorithm IN ('HS256', 'EdDSA')),
    sealed_secret TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    signs_from    BIGINT NOT NULL
);
