-- owner: planner. The plan of each job, stored before any writing starts: sections (the
-- leaves of the outline, with briefs, word budgets and hand-offs) and their chunks.
CREATE SCHEMA IF NOT EXISTS planner;

CREATE TABLE planner.plans (
    job_id          uuid PRIMARY KEY,
    user_id         uuid NOT NULL,
    mode            text NOT NULL,
    title           text NOT NULL,
    instructions    text NOT NULL,
    target_words    integer NOT NULL,
    planned_words   integer NOT NULL,
    width           integer NOT NULL DEFAULT 1,
    model           text,
    style           text NOT NULL DEFAULT '',
    outline_source  text NOT NULL,
    state           text NOT NULL DEFAULT 'writing',
    extension_round integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE planner.sections (
    job_id         uuid NOT NULL REFERENCES planner.plans (job_id),
    section_index  integer NOT NULL,
    path           text NOT NULL,
    brief          text NOT NULL,
    target_words   integer NOT NULL,
    handoff_in     text NOT NULL DEFAULT '',
    handoff_out    text NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, section_index)
);

CREATE TABLE planner.chunks (
    job_id         uuid NOT NULL REFERENCES planner.plans (job_id),
    chunk_index    integer NOT NULL,
    section_index  integer NOT NULL,
    target_words   integer NOT NULL CHECK (target_words > 0),
    source_text    text,
    status         text NOT NULL DEFAULT 'pending',
    words          integer,
    dispatched_at  timestamptz,
    done_at        timestamptz,
    PRIMARY KEY (job_id, chunk_index),
    FOREIGN KEY (job_id, section_index) REFERENCES planner.sections (job_id, section_index)
);
