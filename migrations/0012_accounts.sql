-- owner: gateway. Accounts with passwords, page sessions and personal API tokens.
--
-- Secrets are stored only as hashes (argon2 for passwords, sha256 for random session and token
-- secrets), in columns whose names say so (password_hash, secret_hash, token_hash): the row
-- triggers of migrations/0008 write `[redacted]` for such columns, so not even a hash reaches
-- the audit log.
ALTER TABLE gateway.users ADD COLUMN email text;
ALTER TABLE gateway.users ADD COLUMN password_hash text;
-- One address, one account, whatever its case.
CREATE UNIQUE INDEX users_by_email ON gateway.users (lower(email)) WHERE email IS NOT NULL;

-- Personal API tokens: a user has any number, each named and revocable. The token a user got at
-- sign-up (gateway.users.token_hash until now) becomes their first one.
CREATE TABLE gateway.api_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES gateway.users (id),
    name        text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_tokens_by_user ON gateway.api_tokens (user_id, created_at);
INSERT INTO gateway.api_tokens (id, user_id, name, token_hash, created_at)
    SELECT gen_random_uuid(), id, 'sign-up', token_hash, created_at FROM gateway.users WHERE token_hash IS NOT NULL;
ALTER TABLE gateway.users ALTER COLUMN token_hash DROP NOT NULL;

-- Page sessions: the cookie holds a random secret; the row, its sha256 and when it ends.
CREATE TABLE gateway.sessions (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES gateway.users (id),
    secret_hash  text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX sessions_by_user ON gateway.sessions (user_id);

-- Row-level audit of the new tables, as every other (migrations/0008).
CREATE TRIGGER note_row_change AFTER INSERT OR UPDATE ON gateway.api_tokens
    FOR EACH ROW EXECUTE FUNCTION longform_meta.note_row_change('id');
CREATE TRIGGER note_row_change AFTER INSERT OR UPDATE ON gateway.sessions
    FOR EACH ROW EXECUTE FUNCTION longform_meta.note_row_change('id');

-- The gateway's role reads and writes them (as in 0009).
GRANT SELECT, INSERT, UPDATE, DELETE ON gateway.api_tokens, gateway.sessions TO longform_gateway;
