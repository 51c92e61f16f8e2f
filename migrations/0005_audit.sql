-- owner: audit. The append-only event table and the projections derived from it.
CREATE SCHEMA IF NOT EXISTS audit;

CREATE TABLE audit.events (
    stream_id    text NOT NULL,
    seq          bigint NOT NULL,
    event_id     uuid NOT NULL UNIQUE,
    job_id       uuid,
    user_id      uuid,
    type         text NOT NULL,
    service      text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    data         jsonb NOT NULL,
    PRIMARY KEY (stream_id, seq)
);
CREATE INDEX events_by_user ON audit.events (user_id, recorded_at);

CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit.events is append-only';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE ON audit.events
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- The last seq of each stream; its row lock makes per-stream seq gapless across replicas.
CREATE TABLE audit.stream_heads (
    stream_id  text PRIMARY KEY,
    last_seq   bigint NOT NULL
);

-- Job state derived from the events (rebuildable by replaying audit.events).
CREATE TABLE audit.job_state (
    job_id        uuid PRIMARY KEY,
    user_id       uuid,
    status        text NOT NULL,
    title         text NOT NULL DEFAULT '',
    mode          text NOT NULL DEFAULT '',
    target_words  integer NOT NULL DEFAULT 0,
    words         integer NOT NULL DEFAULT 0,
    chunks_done   integer NOT NULL DEFAULT 0,
    chunks_total  integer NOT NULL DEFAULT 0,
    error         text,
    last_seq      bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
