-- owner: assembler. The assembled document, built inside Postgres from the accepted chunks.
CREATE SCHEMA IF NOT EXISTS assembler;

CREATE TABLE assembler.documents (
    job_id        uuid PRIMARY KEY,
    body          text NOT NULL,
    words         integer NOT NULL,
    chunks        integer NOT NULL,
    round         integer NOT NULL,
    assembled_at  timestamptz NOT NULL DEFAULT now()
);
-- Stored uncompressed so substr() reads a slice without detoasting the whole document.
ALTER TABLE assembler.documents ALTER COLUMN body SET STORAGE EXTERNAL;
