-- owner: gateway. Accounts and the requests users made (every input, as received).
CREATE SCHEMA IF NOT EXISTS gateway;

CREATE TABLE gateway.users (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gateway.jobs (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES gateway.users (id),
    mode          text NOT NULL,
    title         text NOT NULL,
    instructions  text NOT NULL,
    target_words  integer NOT NULL CHECK (target_words BETWEEN 1 AND 500000),
    model         text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_by_user ON gateway.jobs (user_id, created_at DESC);
