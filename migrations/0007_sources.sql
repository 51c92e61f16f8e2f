-- owner: gateway. The source document of a `rewrite` job, as received (UTF-8, newlines
-- normalised to \n), written in the same transaction as its job: a job has its source or
-- does not exist. bytes (UTF-8), words (contracts.wordcount) and sha256 describe `text` as stored.
CREATE TABLE gateway.sources (
    job_id      uuid PRIMARY KEY REFERENCES gateway.jobs (id),
    filename    text,
    media_type  text,
    bytes       integer NOT NULL,
    words       integer NOT NULL,
    sha256      text NOT NULL,
    text        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Stored uncompressed so the planner reads it in substr() slices without detoasting it whole.
ALTER TABLE gateway.sources ALTER COLUMN text SET STORAGE EXTERNAL;
