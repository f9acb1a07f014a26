-- How each session's holder proved who they are (RFC 8176 `amr` values,
-- space-separated). Every session so far began with a password.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
