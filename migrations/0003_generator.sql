-- owner: generator. Every LLM attempt (kept or discarded) and each accepted chunk.
CREATE SCHEMA IF NOT EXISTS generator;

CREATE TABLE generator.attempts (
    id             bigserial PRIMARY KEY,
    job_id         uuid NOT NULL,
    chunk_index    integer NOT NULL,
    attempt        integer NOT NULL,
    purpose        text NOT NULL,
    provider       text NOT NULL,
    model          text NOT NULL,
    prompt         text NOT NULL,
    response       text NOT NULL DEFAULT '',
    words          integer NOT NULL DEFAULT 0,
    finish_reason  text,
    input_tokens   integer,
    output_tokens  integer,
    latency_ms     integer,
    kept           boolean NOT NULL,
    error          text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attempts_by_chunk ON generator.attempts (job_id, chunk_index, attempt);

CREATE TABLE generator.chunks (
    job_id         uuid NOT NULL,
    chunk_index    integer NOT NULL,
    text           text NOT NULL,
    words          integer NOT NULL,
    target_words   integer NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, chunk_index)
);
