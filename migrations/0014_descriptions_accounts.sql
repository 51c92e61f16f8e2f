-- owner: the operator. Descriptions (COMMENT ON, as in 0011) of what migrations 0012 and 0013
-- added: the accounts' email and password, personal API tokens and page sessions. 0013 only
-- granted a read, so it has nothing to describe. Comments only: no data or privilege changes.

COMMENT ON COLUMN gateway.users.email IS
    'Sign-in address; unique whatever its case. Null for accounts made with an API token only.';
COMMENT ON COLUMN gateway.users.password_hash IS
    'argon2 hash of the password (never the password); null when the account has none.';
COMMENT ON COLUMN gateway.users.token_hash IS
    'sha256 of the API token issued at sign-up before migration 0012, which copied it to gateway.api_tokens; null for later accounts.';

COMMENT ON TABLE gateway.api_tokens IS
    'Personal API tokens: each user has any number, each named and revocable; only their sha256 is stored.';
COMMENT ON COLUMN gateway.api_tokens.id IS 'The token''s id, used to list and revoke it.';
COMMENT ON COLUMN gateway.api_tokens.user_id IS 'The account the token signs in as.';
COMMENT ON COLUMN gateway.api_tokens.name IS 'The name its owner gave it (''sign-up'' for the first one).';
COMMENT ON COLUMN gateway.api_tokens.token_hash IS 'sha256 of the token (never the token).';
COMMENT ON COLUMN gateway.api_tokens.created_at IS 'When the token was issued.';
COMMENT ON COLUMN gateway.api_tokens.revoked_at IS 'When its owner revoked it; null while it is valid.';

COMMENT ON TABLE gateway.sessions IS
    'Web page sessions: the cookie holds a random secret, the row only its sha256 and when the session ends.';
COMMENT ON COLUMN gateway.sessions.id IS 'The session''s id.';
COMMENT ON COLUMN gateway.sessions.user_id IS 'The account signed in.';
COMMENT ON COLUMN gateway.sessions.secret_hash IS 'sha256 of the cookie''s secret (never the secret).';
COMMENT ON COLUMN gateway.sessions.created_at IS 'When the user signed in.';
COMMENT ON COLUMN gateway.sessions.expires_at IS 'When the session stops being accepted.';
COMMENT ON COLUMN gateway.sessions.ended_at IS 'When the user signed out; null while the session is open.';
