-- owner: generator. Each accepted chunk and the coherence state carried between chunks
-- (every LLM attempt is in generator.llm_calls, see 0006).
CREATE SCHEMA IF NOT EXISTS generator;

CREATE TABLE generator.chunks (
    job_id         uuid NOT NULL,
    chunk_index    integer NOT NULL,
    text           text NOT NULL,
    words          integer NOT NULL,
    target_words   integer NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, chunk_index)
);

-- The state that carries coherence from chunk to chunk; each update is a new version,
-- linked to the chunk whose text caused it.
CREATE TABLE generator.coherence (
    job_id          uuid NOT NULL,
    version         integer NOT NULL,
    caused_by_chunk integer,
    summary         text NOT NULL DEFAULT '',
    ledger          text NOT NULL DEFAULT '',
    style           text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, version)
);
