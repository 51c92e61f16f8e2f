-- owner: planner. The plan of each job: sections and chunks with word budgets.
CREATE SCHEMA IF NOT EXISTS planner;

CREATE TABLE planner.plans (
    job_id         uuid PRIMARY KEY,
    user_id        uuid NOT NULL,
    mode           text NOT NULL,
    title          text NOT NULL,
    instructions   text NOT NULL,
    target_words   integer NOT NULL,
    planned_words  integer NOT NULL,
    width          integer NOT NULL DEFAULT 1,
    model          text,
    state          text NOT NULL DEFAULT 'writing',
    extension_round integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE planner.chunks (
    job_id         uuid NOT NULL REFERENCES planner.plans (job_id),
    chunk_index    integer NOT NULL,
    section_index  integer NOT NULL,
    section_title  text NOT NULL,
    brief          text NOT NULL,
    target_words   integer NOT NULL CHECK (target_words > 0),
    status         text NOT NULL DEFAULT 'pending',
    words          integer,
    dispatched_at  timestamptz,
    done_at        timestamptz,
    PRIMARY KEY (job_id, chunk_index)
);
